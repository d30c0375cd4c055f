// packet_bench: what packet::parse_frame costs per frame on the frames a tap mostly sees — an IPv4 SYN with
// the usual options, an IPv4 full-size data segment, an IPv6 ACK, and an ACK inside an 802.1Q tag — with the
// TCP checksum summed (replay's default) and deferred (a live RX core takes the NIC's word instead).
// Each benchmark cycles through 256 frames of its kind that differ in addresses, ports and sequence numbers,
// and checks every answer: the class must be kTcp and the flags and payload length those the frame was built
// with. Single-threaded; run by bench/micro.sh.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "packet/packet.hpp"

namespace {

using namespace synscope;
namespace tf = packet::tcp_flag;
using Bytes = std::vector<uint8_t>;

void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}

/// RFC 1071 sum of `n` bytes added to `acc`, folded and complemented: the value of a checksum field.
uint16_t internet_checksum(const uint8_t* p, size_t n, uint32_t acc = 0) {
  uint64_t sum = acc;
  for (size_t i = 0; i + 1 < n; i += 2) sum += uint32_t{p[i]} << 8 | p[i + 1];
  if (n % 2 != 0) sum += uint32_t{p[n - 1]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

/// A typical frame kind.
struct Shape {
  const char* name;
  bool v6;
  bool vlan;
  uint8_t flags;
  size_t options;  ///< TCP option bytes (a multiple of 4)
  uint32_t payload;
};
constexpr Shape kShapes[] = {
    {"ipv4_syn", false, false, tf::kSyn, 20, 0},                 // MSS, SACK-permitted, timestamps, window scale: 74 B
    {"ipv4_data", false, false, tf::kAck | tf::kPsh, 12, 1448},  // NOP NOP timestamps + full MSS: 1514 B
    {"ipv6_ack", true, false, tf::kAck, 12, 0},                  // 86 B
    {"vlan_ipv4_ack", false, true, tf::kAck, 12, 0},             // 802.1Q tag: 70 B
};

/// One Ethernet frame of `shape`, variant `v` (addresses, ports, sequence numbers), checksums correct.
Bytes make_frame(const Shape& shape, uint32_t v) {
  Bytes tcp;
  put16(tcp, static_cast<uint16_t>(32768 + v * 97 % 28000));
  put16(tcp, 443);
  put32(tcp, 0x12345678u * (v + 1));
  put32(tcp, (shape.flags & tf::kAck) != 0 ? 0x9abcdef0u + v : 0);
  tcp.push_back(static_cast<uint8_t>((20 + shape.options) / 4 << 4));
  tcp.push_back(shape.flags);
  put16(tcp, 64240);
  put16(tcp, 0);  // checksum, below
  put16(tcp, 0);  // urgent pointer
  if (shape.options == 20) {
    const uint8_t syn_opts[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
    tcp.insert(tcp.end(), std::begin(syn_opts), std::end(syn_opts));
  } else if (shape.options == 12) {
    const uint8_t ts_opts[] = {1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 1};
    tcp.insert(tcp.end(), std::begin(ts_opts), std::end(ts_opts));
  }
  for (uint32_t i = 0; i < shape.payload; ++i) tcp.push_back(static_cast<uint8_t>(i * 7 + v));

  Bytes src, dst;
  if (shape.v6) {
    src = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
    dst = {0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50};
  } else {
    src = {10, 1, static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
    dst = {93, 184, 216, 34};
  }
  // TCP checksum over the pseudo-header and the segment.
  Bytes pseudo = src;
  pseudo.insert(pseudo.end(), dst.begin(), dst.end());
  if (shape.v6) {
    put32(pseudo, static_cast<uint32_t>(tcp.size()));
    put32(pseudo, 6);
  } else {
    pseudo.push_back(0);
    pseudo.push_back(6);
    put16(pseudo, static_cast<uint16_t>(tcp.size()));
  }
  Bytes summed = pseudo;
  summed.insert(summed.end(), tcp.begin(), tcp.end());
  const uint16_t sum = internet_checksum(summed.data(), summed.size());
  tcp[16] = static_cast<uint8_t>(sum >> 8);
  tcp[17] = static_cast<uint8_t>(sum);

  Bytes ip;
  if (shape.v6) {
    put32(ip, 0x60000000);
    put16(ip, static_cast<uint16_t>(tcp.size()));
    ip.push_back(6);   // next header: TCP
    ip.push_back(64);  // hop limit
  } else {
    ip.push_back(0x45);
    ip.push_back(0);
    put16(ip, static_cast<uint16_t>(20 + tcp.size()));
    put16(ip, static_cast<uint16_t>(v));
    put16(ip, 0x4000);  // DF
    ip.push_back(64);
    ip.push_back(6);
    put16(ip, 0);  // header checksum, below
  }
  ip.insert(ip.end(), src.begin(), src.end());
  ip.insert(ip.end(), dst.begin(), dst.end());
  if (!shape.v6) {
    const uint16_t hsum = internet_checksum(ip.data(), 20);
    ip[10] = static_cast<uint8_t>(hsum >> 8);
    ip[11] = static_cast<uint8_t>(hsum);
  }
  ip.insert(ip.end(), tcp.begin(), tcp.end());

  Bytes frame(12, 0xaa);  // destination and source MAC
  if (shape.vlan) {
    put16(frame, 0x8100);
    put16(frame, static_cast<uint16_t>(100 + v % 16));
  }
  put16(frame, shape.v6 ? 0x86dd : 0x0800);
  frame.insert(frame.end(), ip.begin(), ip.end());
  return frame;
}

constexpr uint32_t kVariants = 256;

/// Parses the frames of `shape` round-robin; `deferred`: the checksum is left to the caller, as a live RX
/// core does with its NIC's answer (DeferredChecksum::ok with NicChecksum::kGood, which sums nothing).
void BM_ParseFrame(benchmark::State& state, Shape shape, bool deferred) {
  std::vector<Bytes> frames;
  for (uint32_t v = 0; v < kVariants; ++v) frames.push_back(make_frame(shape, v));
  const packet::ParseOptions options;
  packet::PacketMeta meta;
  packet::DeferredChecksum later;
  uint64_t wrong = 0;
  uint32_t i = 0;
  for (auto _ : state) {
    const Bytes& f = frames[i];
    i = (i + 1) % kVariants;
    const packet::FrameClass c =
        packet::parse_frame(packet::LinkType::kEthernet, f.data(), static_cast<uint32_t>(f.size()), options, meta,
                            deferred ? &later : nullptr);
    bool ok = c == packet::FrameClass::kTcp;
    if (deferred) ok = ok && later.ok(packet::NicChecksum::kGood, meta.tunnel_depth);
    wrong += !ok || meta.flags != shape.flags || meta.payload_len != shape.payload;
    benchmark::DoNotOptimize(meta);
  }
  if (wrong != 0) {
    state.SkipWithError((std::to_string(wrong) + " frames did not parse to what was built").c_str());
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frames[0].size()));
  state.counters["frame_bytes"] = static_cast<double>(frames[0].size());
}

}  // namespace

int main(int argc, char** argv) {
  for (const Shape& s : kShapes) {
    benchmark::RegisterBenchmark((std::string("parse_frame/") + s.name + "/checksum").c_str(), BM_ParseFrame, s, false);
    benchmark::RegisterBenchmark((std::string("parse_frame/") + s.name + "/nic_checksum").c_str(), BM_ParseFrame, s,
                                 true);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
