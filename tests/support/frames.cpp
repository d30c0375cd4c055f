// frames: see frames.hpp.
#include "support/frames.hpp"

#include <cstring>

namespace synscope::test {

void put_be(Bytes& b, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void put_le(Bytes& b, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint16_t internet_checksum(const uint8_t* p, size_t n, uint32_t acc) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += (uint32_t{p[i]} << 8) | p[i + 1];
  if (n & 1) acc += uint32_t{p[n - 1]} << 8;
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(~acc);
}

Bytes tcp_segment(const TcpFields& f, std::span<const uint8_t> src, std::span<const uint8_t> dst) {
  Bytes t;
  put_be(t, f.src_port, 2);
  put_be(t, f.dst_port, 2);
  put_be(t, f.seq, 4);
  put_be(t, f.ack, 4);
  t.push_back(static_cast<uint8_t>(((20 + f.options) / 4) << 4));
  t.push_back(f.flags);
  put_be(t, f.window, 2);
  put_be(t, 0, 4);                  // checksum (below), urgent pointer
  t.insert(t.end(), f.options, 1);  // NOPs
  for (size_t i = 0; i < f.payload; ++i) t.push_back(static_cast<uint8_t>(i * 7));
  // The pseudo-header: both addresses, the protocol and the segment length.
  uint32_t acc = 6 + static_cast<uint32_t>(t.size());
  for (size_t i = 0; i + 1 < src.size(); i += 2) acc += (uint32_t{src[i]} << 8) | src[i + 1];
  for (size_t i = 0; i + 1 < dst.size(); i += 2) acc += (uint32_t{dst[i]} << 8) | dst[i + 1];
  const uint16_t c = internet_checksum(t.data(), t.size(), acc);
  t[16] = static_cast<uint8_t>(c >> 8), t[17] = static_cast<uint8_t>(c);
  return t;
}

Bytes ipv4(const Bytes& l4, uint8_t proto, size_t options, uint16_t frag, std::span<const uint8_t, 4> src,
           std::span<const uint8_t, 4> dst) {
  Bytes ip(20 + options, 0);
  ip[0] = static_cast<uint8_t>(0x40 | ((20 + options) / 4));
  const size_t total = ip.size() + l4.size();
  ip[2] = static_cast<uint8_t>(total >> 8), ip[3] = static_cast<uint8_t>(total);
  ip[6] = static_cast<uint8_t>(frag >> 8), ip[7] = static_cast<uint8_t>(frag);
  ip[8] = 64, ip[9] = proto;
  std::memcpy(&ip[12], src.data(), 4);
  std::memcpy(&ip[16], dst.data(), 4);
  const uint16_t c = internet_checksum(ip.data(), ip.size());
  ip[10] = static_cast<uint8_t>(c >> 8), ip[11] = static_cast<uint8_t>(c);
  ip.insert(ip.end(), l4.begin(), l4.end());
  return ip;
}

Bytes ipv6(const Bytes& l4, uint8_t next, const Bytes& ext, std::span<const uint8_t, 16> src,
           std::span<const uint8_t, 16> dst) {
  Bytes ip(40, 0);
  ip[0] = 0x60;
  const size_t plen = ext.size() + l4.size();
  ip[4] = static_cast<uint8_t>(plen >> 8), ip[5] = static_cast<uint8_t>(plen);
  ip[6] = next, ip[7] = 64;
  std::memcpy(&ip[8], src.data(), 16);
  std::memcpy(&ip[24], dst.data(), 16);
  ip.insert(ip.end(), ext.begin(), ext.end());
  ip.insert(ip.end(), l4.begin(), l4.end());
  return ip;
}

Bytes ether(uint16_t ethertype, const Bytes& payload, const Bytes& tags) {
  Bytes f(12, 0xaa);
  f.insert(f.end(), tags.begin(), tags.end());
  put_be(f, ethertype, 2);
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

PcapBuilder::PcapBuilder(uint32_t link_type) {
  for (uint32_t v : {0xa1b2c3d4u, 0x00040002u, 0u, 0u, 65535u, link_type}) put_le(bytes_, v, 4);
}

void PcapBuilder::add(uint64_t ts_ns, std::span<const uint8_t> frame) {
  put_le(bytes_, ts_ns / 1'000'000'000, 4);
  put_le(bytes_, ts_ns % 1'000'000'000 / 1000, 4);
  put_le(bytes_, frame.size(), 4);
  put_le(bytes_, frame.size(), 4);
  bytes_.insert(bytes_.end(), frame.begin(), frame.end());
}

}  // namespace synscope::test
