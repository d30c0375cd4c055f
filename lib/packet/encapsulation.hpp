// encapsulation: the layers a frame can pass through on the way to its innermost IP packet, one bit each,
// so a parse can say which it met (parse_frame's `encapsulations`) and the engine can count frames per
// encapsulation (the summary, synscope_encapsulated_frames_total) — "is that tunnel really decoded?" is
// the first thing to check on a new tap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace synscope::packet {

enum class Encapsulation : uint8_t {
  kVlan,            ///< 802.1Q / 802.1ad (QinQ) tags
  kVnTag,           ///< Cisco VN-Tag
  kPbb,             ///< 802.1ah provider backbone bridging
  kFabricPath,      ///< Cisco FabricPath
  kMpls,            ///< an MPLS label stack
  kMplsPseudowire,  ///< Ethernet over MPLS (a pseudowire control word)
  kPppoe,           ///< PPPoE session
  kLlcSnap,         ///< 802.3 with LLC/SNAP
  kGre,             ///< GRE (any payload)
  kErspan,          ///< ERSPAN inside GRE
  kPptp,            ///< PPTP's enhanced GRE carrying PPP
  kIpInIp,          ///< IPv4/IPv6 in IPv4/IPv6
  kVxlan,
  kGeneve,
  kGtpU,
  kTeredo,
  kAyiya,
  kIpFragment,  ///< an IPv4 fragment (reassembled into its datagram when a FragmentTable is given)
  kCount
};
inline constexpr size_t kEncapsulationCount = static_cast<size_t>(Encapsulation::kCount);
static_assert(kEncapsulationCount <= 24, "a frame's set travels in 24 bits (engine::ParsedPacket)");

/// The bit of `e` in a set of encapsulations.
[[nodiscard]] constexpr uint32_t encapsulation_bit(Encapsulation e) noexcept { return 1u << static_cast<unsigned>(e); }

/// "vlan", "mpls", "gre", ... (the label value of synscope_encapsulated_frames_total).
[[nodiscard]] std::string_view encapsulation_name(Encapsulation e) noexcept;

}  // namespace synscope::packet
