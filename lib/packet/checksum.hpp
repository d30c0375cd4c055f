// checksum: the TCP checksum check, made at parse time or deferred (DeferredChecksum) to a thread with time
// for it, or answered by the NIC's RX offload.
//
// Pure functions over caller-owned bytes: no state, safe from any thread. A DeferredChecksum points into
// a frame; whoever holds it must check it while that frame is still in memory.
#pragma once

#include <cstdint>

namespace synscope::packet {

/// What the receiving NIC said about a frame's L4 checksum (DPDK RX offload flags; kUnknown without them).
enum class NicChecksum : uint8_t {
  kUnknown,
  kGood,
  kBad,
  kNotInData,  ///< the data was verified but the field never filled in (a local sender's offload): intact
};

/// True when the TCP segment `seg` (`seg_len` bytes, all captured) inside the IP header at `ip`
/// (`ip_version` 4 or 6) carries the right checksum over the pseudo-header and the segment. `final_dst`,
/// when not null, is an IPv6 routing header's final destination (16 bytes), which the pseudo-header uses in
/// place of the header's destination (RFC 8200 section 8.1).
[[nodiscard]] bool tcp_checksum_ok(const uint8_t* ip, uint8_t ip_version, const uint8_t* seg, uint32_t seg_len,
                                   const uint8_t* final_dst = nullptr) noexcept;

/// The one's-complement sum (RFC 1071) of `len` bytes, folded to 16 bits, as the checksum adds them (native
/// loads: only sums taken this way combine). Parts that each start on an even byte of a sequence add up, with
/// ones_fold(), to the sum of the whole: how IP fragments' payloads (at multiples of 8) are summed apart.
[[nodiscard]] uint16_t ones_complement_sum(const uint8_t* p, uint32_t len) noexcept;

/// tcp_checksum_ok() for a segment of `seg_len` bytes given the sum of its bytes (ones_complement_sum of its
/// parts, added) instead of the bytes: a reassembled datagram's segment, whose payload was never kept.
[[nodiscard]] bool tcp_checksum_ok_sum(const uint8_t* ip, uint8_t ip_version, uint32_t seg_len, uint64_t seg_sum,
                                       const uint8_t* final_dst = nullptr) noexcept;

/// A TCP checksum the parser was asked to leave for later (parse_frame's `deferred`): where the segment and
/// its IP header lie in the frame, which must still be in memory when ok() is called. Lets a replay hand
/// the payload sum to whichever thread has time for it, and a live RX core take the NIC's word instead of
/// summing (it resolves the check at once, before freeing the frame).
struct DeferredChecksum {
  const uint8_t* ip = nullptr;  ///< nullptr: nothing was deferred (not TCP, not checkable, or checked)
  const uint8_t* segment = nullptr;
  uint32_t length = 0;
  uint8_t ip_version = 0;
  const uint8_t* final_dst = nullptr;  ///< an IPv6 routing header's final destination (tcp_checksum_ok)
  /// True when the segment's checksum is right (the check parse_frame would have made), or nothing was
  /// deferred.
  [[nodiscard]] bool ok() const noexcept;
  /// The same, taking the NIC's word when it has one: only for a segment outside any tunnel, since a NIC
  /// checks the outermost L4 header (inside a tunnel, or without a word, the sum is computed here).
  [[nodiscard]] bool ok(NicChecksum nic, uint8_t tunnel_depth) const noexcept {
    if (ip == nullptr) return true;
    if (tunnel_depth == 0 && nic != NicChecksum::kUnknown) return nic != NicChecksum::kBad;
    return ok();
  }
};

}  // namespace synscope::packet
