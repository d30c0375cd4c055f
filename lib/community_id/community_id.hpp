// community_id: Community ID v1 flow hashes (github.com/corelight/community-id-spec), the flow identifier
// Zeek, Suricata, Wireshark and Elastic share, so a session record joins their logs on one field.
//
// A pure function over caller-owned buffers: no allocation, no state (the SHA-1 context lives on the
// stack), safe from any thread at once (the session writer's thread and a replay worker preparing lines).
#pragma once

#include <cstddef>
#include <cstdint>

#include "packet/ip_text.hpp"

namespace synscope::community_id {

/// A Community ID's text: "1:" and the base64 of a 20-byte SHA-1 (28 characters, ending in one '=').
inline constexpr size_t kTextLength = 30;

/// IANA protocol numbers whose flows carry ports (ICMP and ICMPv6: type and code) in the hash.
inline constexpr uint8_t kIcmp = 1, kTcp = 6, kUdp = 17, kIcmp6 = 58, kSctp = 132;

/// One flow as seen in one packet (either direction gives the same ID).
struct FlowTuple {
  packet::IpAddr src, dst;  ///< IPv4 in the first 4 bytes
  uint8_t ip_version = 4;   ///< 4 or 6
  uint8_t proto = kTcp;
  /// Host order. ICMP and ICMPv6: the message's type and code (mapped to the spec's port equivalents here);
  /// ignored for protocols without ports.
  uint16_t src_port = 0, dst_port = 0;
};

/// Writes the flow's Community ID v1 ("1:" + base64(SHA-1(seed, ordered addresses, proto, 0, ordered ports)))
/// into `out`, which has room for kTextLength bytes (no NUL is written). `seed` is the spec's 16-bit seed
/// (0 unless the sites that share IDs agree on another). Returns kTextLength, or 0 (nothing written) when
/// ip_version is neither 4 nor 6.
size_t format(const FlowTuple& flow, uint16_t seed, char* out) noexcept;

}  // namespace synscope::community_id
