// tcp_frame: builds one Ethernet/IPv4-or-IPv6/TCP frame with correct checksums, for the bench generators.
//
// Shared by synscope-gen (a pcap of planned sessions) and synscope-loadgen (sessions synthesised on the
// fly into a DPDK port or a pcap). Pure functions over caller-owned buffers: no allocation, no state, safe
// from any thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace synscope::bench {

inline constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;

/// The two ends of a session: client (originator) and server, addresses in network order.
struct Endpoints {
  uint8_t client[16] = {};
  uint8_t server[16] = {};
  bool v6 = false;
  uint16_t cport = 0, sport = 0;
};

/// What a frame carries: a TCP segment (or, for frame accounting tests, a UDP datagram or a TCP frame cut
/// inside its header).
enum class FrameKind : uint8_t { kTcp, kUdp, kTruncatedTcp };

/// One segment of a session.
struct Segment {
  uint32_t seq = 0, ack = 0;
  uint16_t payload = 0;  ///< payload bytes ('a'..'z' repeated)
  uint8_t flags = 0;
  bool from_client = true;
  FrameKind kind = FrameKind::kTcp;
};

/// Link-layer framing: an optional 802.1Q tag.
struct FrameShape {
  uint16_t vlan = 0;  ///< 802.1Q VLAN id (1-4094); 0 = untagged
};

/// Largest frame build_frame() writes: a 1500-byte IP packet behind Ethernet and one VLAN tag.
inline constexpr size_t kMaxFrame = 14 + 4 + 1500;

/// Bytes of Ethernet (with the tag, if any), IP and TCP headers in front of a segment's payload.
[[nodiscard]] constexpr size_t header_bytes(bool v6, const FrameShape& shape) noexcept {
  return 14 + (shape.vlan != 0 ? 4 : 0) + (v6 ? 40 : 20) + 20;
}

/// Writes the frame of `seg` between `ends` into `out` (at least kMaxFrame bytes; the caller keeps
/// header_bytes() + payload within it). Returns the frame length (no FCS).
size_t build_frame(const Endpoints& ends, const Segment& seg, uint8_t* out, const FrameShape& shape = {}) noexcept;

}  // namespace synscope::bench
