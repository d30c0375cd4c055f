// packets: see packets.hpp.
#include "support/packets.hpp"

#include <algorithm>
#include <random>
#include <span>

namespace synscope::test {

namespace tf = packet::tcp_flag;

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

Bytes frame_of(const engine::ParsedPacket& p, packet::LinkType link) {
  const packet::PacketMeta& m = p.meta;
  const TcpFields fields{
      .src_port = m.src_port, .dst_port = m.dst_port, .seq = m.seq, .ack = m.ack, .flags = m.flags, .window = m.window};
  const bool v6 = m.ip_version == 6;
  const size_t alen = v6 ? 16 : 4;
  const Bytes segment = tcp_segment(fields, std::span(m.src.bytes.data(), alen), std::span(m.dst.bytes.data(), alen));
  const Bytes ip = v6 ? ipv6(segment, 6, {}, m.src.bytes, m.dst.bytes)
                      : ipv4(segment, 6, 0, 0x4000, std::span<const uint8_t, 4>(m.src.bytes.data(), 4),
                             std::span<const uint8_t, 4>(m.dst.bytes.data(), 4));
  return link == packet::LinkType::kEthernet ? ether(v6 ? 0x86dd : 0x0800, ip) : ip;
}

Bytes pcap_of(const std::vector<engine::ParsedPacket>& packets, packet::LinkType link) {
  PcapBuilder pcap(static_cast<uint32_t>(link));
  for (const engine::ParsedPacket& p : packets) pcap.add(p.ts_ns, frame_of(p, link));
  return pcap.bytes();
}

}  // namespace synscope::test
