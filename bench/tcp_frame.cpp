// tcp_frame: frame building for the bench generators (see tcp_frame.hpp). Stateless.
#include "tcp_frame.hpp"

#include <cstring>

namespace synscope::bench {
namespace {

uint32_t sum16(const uint8_t* p, size_t n, uint32_t acc) noexcept {
  for (size_t i = 0; i + 1 < n; i += 2) acc += (uint32_t{p[i]} << 8) | p[i + 1];
  if (n & 1) acc += uint32_t{p[n - 1]} << 8;
  return acc;
}
uint16_t finish(uint32_t acc) noexcept {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(~acc);
}
void put16(uint8_t* p, uint16_t v) noexcept { p[0] = uint8_t(v >> 8), p[1] = uint8_t(v); }
void put32(uint8_t* p, uint32_t v) noexcept {
  p[0] = uint8_t(v >> 24), p[1] = uint8_t(v >> 16), p[2] = uint8_t(v >> 8), p[3] = uint8_t(v);
}

}  // namespace

size_t build_frame(const Endpoints& s, const Segment& k, uint8_t* f, const FrameShape& shape) noexcept {
  const uint8_t* src = k.from_client ? s.client : s.server;
  const uint8_t* dst = k.from_client ? s.server : s.client;
  const uint16_t sp = k.from_client ? s.cport : s.sport, dp = k.from_client ? s.sport : s.cport;
  std::memset(f, 0, 12);
  f[0] = 0x02, f[5] = k.from_client ? 1 : 2, f[6] = 0x02, f[11] = k.from_client ? 2 : 1;
  size_t l2 = 12;
  if (shape.vlan != 0) {
    put16(f + l2, 0x8100);
    put16(f + l2 + 2, shape.vlan & 0x0fff);
    l2 += 4;
  }
  const bool udp = k.kind == FrameKind::kUdp;
  const size_t l4h = udp ? 8 : 20;
  const size_t l4len = l4h + k.payload;
  uint8_t* ip = f + l2 + 2;
  size_t iph;
  if (!s.v6) {
    put16(f + l2, 0x0800);
    iph = 20;
    std::memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, static_cast<uint16_t>(20 + l4len));
    ip[6] = 0x40;  // DF
    ip[8] = 64;
    ip[9] = udp ? 17 : 6;
    std::memcpy(ip + 12, src, 4);
    std::memcpy(ip + 16, dst, 4);
    put16(ip + 10, finish(sum16(ip, 20, 0)));
  } else {
    put16(f + l2, 0x86dd);
    iph = 40;
    std::memset(ip, 0, 40);
    ip[0] = 0x60;
    put16(ip + 4, static_cast<uint16_t>(l4len));
    ip[6] = udp ? 17 : 6;
    ip[7] = 64;
    std::memcpy(ip + 8, src, 16);
    std::memcpy(ip + 24, dst, 16);
  }
  uint8_t* l4 = ip + iph;
  std::memset(l4, 0, l4h);
  put16(l4, sp);
  put16(l4 + 2, dp);
  for (size_t i = 0; i < k.payload; ++i) l4[l4h + i] = static_cast<uint8_t>('a' + (i % 26));
  uint32_t acc = 0;
  const size_t alen = s.v6 ? 16 : 4;
  acc = sum16(src, alen, acc);
  acc = sum16(dst, alen, acc);
  acc += udp ? 17 : 6;
  acc += static_cast<uint32_t>(l4len);
  if (udp) {
    put16(l4 + 4, static_cast<uint16_t>(l4len));
    put16(l4 + 6, finish(sum16(l4, l4len, acc)));
  } else {
    put32(l4 + 4, k.seq);
    put32(l4 + 8, k.ack);
    l4[12] = 5 << 4;
    l4[13] = k.flags;
    put16(l4 + 14, 64240);
    put16(l4 + 16, finish(sum16(l4, l4len, acc)));
  }
  size_t len = l2 + 2 + iph + l4len;
  if (k.kind == FrameKind::kTruncatedTcp) len = l2 + 2 + iph + 10;  // cut inside the TCP header
  return len;
}

}  // namespace synscope::bench
