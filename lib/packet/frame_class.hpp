// frame_class: what a captured frame turned out to be (parse_frame's answer) and the names under which
// each class is counted.
//
// Plain values and pure functions over constant strings: safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace synscope::packet {

/// What a frame turned out to be. Every frame gets exactly one class, so the counters of all classes
/// add up to the frames received.
enum class FrameClass : uint8_t {
  kTcp = 0,  ///< a usable TCP segment: PacketMeta is filled in
  // not TCP (well-formed traffic we do not analyse)
  kNotIp,              ///< ARP, LLDP, STP, ... an unknown ethertype, or a link type we do not decode
  kNotTcp,             ///< IP, but UDP/ICMP/ESP/... (after any tunnel decapsulation)
  kFragment,           ///< an IP fragment other than the first: no TCP header in it
  kTunnelUnsupported,  ///< an encapsulation we recognise but do not decode (ESP, L2TP, too deep)
  // malformed (counted, never read past the captured bytes)
  kTruncated,     ///< the capture ends before a header does
  kBadL2,         ///< a link-layer header with an impossible value
  kBadIpHeader,   ///< IP version/IHL/total-length inconsistent
  kBadTcpHeader,  ///< TCP data offset < 5 or past the IP payload
  kBadChecksum,   ///< TCP checksum wrong (only when checksums are verified)
  kCount
};

inline constexpr size_t kFrameClassCount = static_cast<size_t>(FrameClass::kCount);

/// Snake-case name of a frame class, used as the `reason` label in metrics and summaries; "unknown" for
/// a value outside the enum.
[[nodiscard]] std::string_view frame_class_name(FrameClass v) noexcept;

/// The category a frame class belongs to: "tcp", "not_tcp", "fragment" or "malformed".
[[nodiscard]] std::string_view frame_category(FrameClass v) noexcept;

}  // namespace synscope::packet
