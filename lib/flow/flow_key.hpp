// flow/flow_key: the direction-free identity of a TCP flow.
//
// FlowKey is plain data and make_key() a pure function: any thread may build keys. Both directions of a
// connection give the same key, so the flow table keeps one entry per connection.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "packet/packet.hpp"

namespace synscope::flow {

/// Canonical, direction-free TCP flow key: (addr, port) pairs ordered so both directions map to one key.
struct FlowKey {
  packet::IpAddr addr_lo;
  packet::IpAddr addr_hi;
  uint16_t port_lo = 0;
  uint16_t port_hi = 0;
  uint8_t ip_version = 0;
  uint8_t pad[3] = {};

  friend bool operator==(const FlowKey& a, const FlowKey& b) noexcept {
    return std::memcmp(&a, &b, sizeof(FlowKey)) == 0;
  }
};
static_assert(sizeof(FlowKey) == 40 && std::has_unique_object_representations_v<FlowKey>);

/// A key's last 8 bytes (ports, version, zero padding) as one word: the value memcpy gives on little-endian.
[[nodiscard]] inline uint64_t key_tail_word(uint16_t port_lo, uint16_t port_hi, uint8_t ip_version) noexcept {
  return uint64_t{port_lo} | uint64_t{port_hi} << 16 | uint64_t{ip_version} << 32;
}

/// Builds the canonical key of a packet; `from_lo` tells whether the packet's sender is the key's lo side.
/// The order is any fixed total order on (address, port), not a textual one: addresses compare as two
/// native 64-bit words. Inline and branch-light because every packet pays it twice (classify, engine).
inline FlowKey make_key(const packet::PacketMeta& pkt, bool& from_lo) noexcept {
  uint64_t s[2], d[2];
  std::memcpy(s, pkt.src.bytes.data(), 16);
  std::memcpy(d, pkt.dst.bytes.data(), 16);
  from_lo = s[0] != d[0] ? s[0] < d[0] : (s[1] != d[1] ? s[1] < d[1] : pkt.src_port <= pkt.dst_port);
  FlowKey key;
  key.addr_lo = from_lo ? pkt.src : pkt.dst;
  key.addr_hi = from_lo ? pkt.dst : pkt.src;
  // Ports, version and padding as one 8-byte store (the layout memcpy gives on little-endian): after three
  // narrow stores, the 8-byte load of the key's copy into the engine's batch cannot be forwarded from them
  // and stalls.
  const uint16_t port_lo = from_lo ? pkt.src_port : pkt.dst_port;
  const uint16_t port_hi = from_lo ? pkt.dst_port : pkt.src_port;
  static_assert(offsetof(FlowKey, port_lo) == 32 && std::endian::native == std::endian::little);
  const uint64_t tail = key_tail_word(port_lo, port_hi, pkt.ip_version);
  std::memcpy(reinterpret_cast<char*>(&key) + offsetof(FlowKey, port_lo), &tail, sizeof(tail));
  return key;
}

}  // namespace synscope::flow
