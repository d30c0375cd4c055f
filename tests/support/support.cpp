// support: see support.hpp.
#include "support.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

namespace synscope::test {

namespace tf = packet::tcp_flag;

TempFile::TempFile(const std::string& tag) {
  std::string name = "/tmp/" + tag + "-XXXXXX";
  const int fd = mkstemp(name.data());
  if (fd >= 0) ::close(fd);
  path_ = name;
}

TempFile::~TempFile() { std::remove(path_.c_str()); }

void TempFile::write(const std::vector<uint8_t>& bytes) const {
  std::ofstream out(path_, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::string TempFile::read() const { return read_file(path_); }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

engine::ParsedPacket tcp_pkt(uint64_t t, uint8_t client_last_octet, uint16_t cport, bool from_client, uint8_t flags,
                             uint32_t seq, uint32_t ack, uint8_t server_first_octet) {
  engine::ParsedPacket p;
  p.frame_class = packet::FrameClass::kTcp;
  p.ts_ns = t;
  packet::IpAddr c, s;
  c.bytes[0] = 10, c.bytes[3] = client_last_octet;
  s.bytes[0] = server_first_octet, s.bytes[3] = 1;
  p.meta.ip_version = 4;
  p.meta.src = from_client ? c : s;
  p.meta.dst = from_client ? s : c;
  p.meta.src_port = from_client ? cport : 80;
  p.meta.dst_port = from_client ? 80 : cport;
  p.meta.flags = flags;
  p.meta.seq = seq;
  p.meta.ack = ack;
  p.meta.window = 1000;
  p.meta.tcp_header_len = 20;
  p.meta.ip_len = 40;
  return p;
}

std::vector<engine::ParsedPacket> mixed_sessions(uint32_t sessions, uint64_t seed, uint64_t start_ns, uint64_t gap_ns) {
  std::mt19937_64 rng(seed);
  std::vector<engine::ParsedPacket> out;
  constexpr uint64_t kMs = 1'000'000;
  for (uint32_t i = 0; i < sessions; ++i) {
    const uint64_t t = start_ns + i * gap_ns;
    const auto client = static_cast<uint8_t>(1 + rng() % 200);
    const auto cport = static_cast<uint16_t>(20000 + i % 40000);
    const uint8_t server = (rng() % 3 == 0) ? 10 : 93;  // internal or external server
    const uint32_t c = static_cast<uint32_t>(rng()), s = static_cast<uint32_t>(rng());
    const auto pkt = [&](uint64_t dt, bool from_client, uint8_t flags, uint32_t seq, uint32_t ack) {
      out.push_back(tcp_pkt(t + dt, client, cport, from_client, flags, seq, ack, server));
    };
    switch (rng() % 5) {
      case 0:  // normal, FIN close
        pkt(0, true, tf::kSyn, c, 0);
        pkt(1 * kMs, false, tf::kSyn | tf::kAck, s, c + 1);
        pkt(2 * kMs, true, tf::kAck, c + 1, s + 1);
        pkt(3 * kMs, true, tf::kFin | tf::kAck, c + 1, s + 1);
        pkt(4 * kMs, false, tf::kFin | tf::kAck, s + 1, c + 2);
        pkt(5 * kMs, true, tf::kAck, c + 2, s + 2);
        break;
      case 1:  // refused
        pkt(0, true, tf::kSyn, c, 0);
        pkt(1 * kMs, false, tf::kRst | tf::kAck, 0, c + 1);
        break;
      case 2:  // unanswered, retransmitted
        pkt(0, true, tf::kSyn, c, 0);
        pkt(20 * kMs, true, tf::kSyn, c, 0);
        break;
      case 3:  // reset by the client after the handshake
        pkt(0, true, tf::kSyn, c, 0);
        pkt(1 * kMs, false, tf::kSyn | tf::kAck, s, c + 1);
        pkt(2 * kMs, true, tf::kAck, c + 1, s + 1);
        pkt(3 * kMs, true, tf::kRst, c + 1, 0);
        break;
      default:  // established, never closed
        pkt(0, true, tf::kSyn, c, 0);
        pkt(1 * kMs, false, tf::kSyn | tf::kAck, s, c + 1);
        pkt(2 * kMs, true, tf::kAck, c + 1, s + 1);
        break;
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const engine::ParsedPacket& a, const engine::ParsedPacket& b) { return a.ts_ns < b.ts_ns; });
  return out;
}

namespace {
void put(std::vector<uint8_t>& b, uint64_t v, int bytes, bool big_endian) {
  for (int i = 0; i < bytes; ++i) {
    const int shift = 8 * (big_endian ? bytes - 1 - i : i);
    b.push_back(static_cast<uint8_t>(v >> shift));
  }
}
}  // namespace

std::vector<uint8_t> pcap_of(const std::vector<engine::ParsedPacket>& packets) {
  std::vector<uint8_t> b;
  for (uint64_t v : {0xa1b2c3d4ull, 0x00040002ull, 0ull, 0ull, 65535ull, 101ull}) put(b, v, 4, false);
  for (const engine::ParsedPacket& p : packets) {
    put(b, p.ts_ns / 1'000'000'000, 4, false);
    put(b, p.ts_ns % 1'000'000'000 / 1000, 4, false);
    put(b, 40, 4, false);
    put(b, 40, 4, false);
    // IPv4 header (no options, with its checksum), then a 20-byte TCP header.
    std::vector<uint8_t> ip = {0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0};
    ip.insert(ip.end(), p.meta.src.bytes.begin(), p.meta.src.bytes.begin() + 4);
    ip.insert(ip.end(), p.meta.dst.bytes.begin(), p.meta.dst.bytes.begin() + 4);
    uint32_t sum = 0;
    for (size_t i = 0; i < ip.size(); i += 2) sum += (ip[i] << 8) | ip[i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    ip[10] = static_cast<uint8_t>(~sum >> 8);
    ip[11] = static_cast<uint8_t>(~sum);
    b.insert(b.end(), ip.begin(), ip.end());
    put(b, p.meta.src_port, 2, true);
    put(b, p.meta.dst_port, 2, true);
    put(b, p.meta.seq, 4, true);
    put(b, p.meta.ack, 4, true);
    b.push_back(0x50);
    b.push_back(p.meta.flags);
    put(b, p.meta.window, 2, true);
    put(b, 0, 4, true);  // checksum, urgent pointer
  }
  return b;
}

}  // namespace synscope::test
