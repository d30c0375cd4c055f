// packet: turns the bytes of one captured frame into a PacketMeta (addresses, ports, TCP header fields,
// lengths) or a counted reason why it is not a usable TCP segment.
//
// Pure functions over caller-owned bytes: no allocation, no exceptions, no global state, safe to call from
// any thread. Nothing here includes rte_mbuf.h; the live RX path hands mbuf data pointers in, the replay
// path hands file bytes in, and both get the same answer. Every read is bounds-checked against `caplen`.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace synscope::packet {

/// Link-layer framing of a capture, as numbered by tcpdump.org's LINKTYPE_* registry.
enum class LinkType : uint16_t {
  kNull = 0,        ///< BSD loopback: 4-byte address family in host byte order
  kEthernet = 1,    ///< Ethernet II (with VLAN/QinQ/MPLS/PPPoE/PBB/FabricPath inside)
  kRaw = 101,       ///< raw IPv4 or IPv6, version from the first nibble
  kLoop = 108,      ///< OpenBSD loopback: 4-byte address family in network byte order
  kLinuxSll = 113,  ///< Linux cooked capture v1
  kIpv4 = 228,      ///< raw IPv4
  kIpv6 = 229,      ///< raw IPv6
  kLinuxSll2 = 276, ///< Linux cooked capture v2
};

/// Maps a pcap/pcapng link-type number to a LinkType; false when synscope cannot decode it.
[[nodiscard]] bool link_type_from_number(uint32_t number, LinkType& out) noexcept;

/// What a frame turned out to be. Every frame gets exactly one verdict, so the counters of all verdicts
/// add up to the frames received.
enum class FrameClass : uint8_t {
  kTcp = 0,            ///< a usable TCP segment: PacketMeta is filled in
  // not TCP (well-formed traffic we do not analyse)
  kNotIp,              ///< ARP, LLDP, STP, ... or an unknown ethertype
  kNotTcp,             ///< IP, but UDP/ICMP/ESP/... (after any tunnel decapsulation)
  kFragment,           ///< an IP fragment other than the first: no TCP header in it
  kTunnelUnsupported,  ///< an encapsulation we recognise but do not decode (ESP, L2TP, too deep)
  // malformed (counted, never read past the captured bytes)
  kTruncated,          ///< the capture ends before a header does
  kBadL2,              ///< a link-layer header with an impossible value
  kBadIpHeader,        ///< IP version/IHL/total-length inconsistent
  kBadTcpHeader,       ///< TCP data offset < 5 or past the IP payload
  kBadChecksum,        ///< TCP checksum wrong (only when checksums are verified)
  kCount
};

inline constexpr size_t kFrameClassCount = static_cast<size_t>(FrameClass::kCount);

/// Snake-case name of a verdict, used as the `reason` label in metrics and summaries.
[[nodiscard]] std::string_view frame_class_name(FrameClass v) noexcept;

/// The frame class a verdict belongs to: "tcp", "not_tcp", "fragment" or "malformed".
[[nodiscard]] std::string_view frame_category(FrameClass v) noexcept;

/// TCP flag bits, as in the header.
namespace tcp_flag {
inline constexpr uint8_t kFin = 0x01;
inline constexpr uint8_t kSyn = 0x02;
inline constexpr uint8_t kRst = 0x04;
inline constexpr uint8_t kPsh = 0x08;
inline constexpr uint8_t kAck = 0x10;
inline constexpr uint8_t kUrg = 0x20;
}  // namespace tcp_flag

/// An IPv4 or IPv6 address; IPv4 is stored in the first 4 bytes with the rest zero.
struct IpAddr {
  std::array<uint8_t, 16> bytes{};
  friend bool operator==(const IpAddr&, const IpAddr&) = default;
};

/// One parsed TCP segment, in wire order (src = sender of this packet).
struct PacketMeta {
  IpAddr src;
  IpAddr dst;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t ip_version = 0;      ///< 4 or 6 (the innermost IP header, after tunnels)
  uint8_t flags = 0;           ///< TCP flags byte
  uint8_t window_scale = 0xff; ///< window-scale option on SYNs, 0xff when absent
  uint8_t tunnel_depth = 0;    ///< number of tunnel layers removed (GRE, VXLAN, GTP-U, Teredo, ...)
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint16_t window = 0;
  uint16_t tcp_header_len = 0;
  uint32_t payload_len = 0;    ///< TCP payload bytes per the IP length (not the captured length)
  uint32_t ip_len = 0;         ///< IP total length including the IP header (Zeek's *_ip_bytes)
};

/// Options that change how a frame is judged.
struct ParseOptions {
  bool verify_checksums = true;  ///< drop TCP segments whose checksum is wrong, as Zeek does by default
  uint8_t max_tunnel_depth = 4;  ///< deeper encapsulations are counted as kTunnelUnsupported
};

/// What the receiving NIC said about a frame's L4 checksum (DPDK RX offload flags; kUnknown without them).
enum class NicChecksum : uint8_t {
  kUnknown,
  kGood,
  kBad,
  kNotInData,  ///< the data was verified but the field never filled in (a local sender's offload): intact
};

/// A TCP checksum the parser was asked to leave for later (parse_frame's `deferred`): where the segment and
/// its IP header lie in the frame, which must still be in memory when ok() is called. Lets a replay hand
/// the payload sum to whichever thread has time for it, and a live RX core take the NIC's word instead of
/// summing (it resolves the check at once, before freeing the frame).
struct DeferredChecksum {
  const uint8_t* ip = nullptr;  ///< nullptr: nothing was deferred (not TCP, not checkable, or checked)
  const uint8_t* segment = nullptr;
  uint32_t length = 0;
  uint8_t ip_version = 0;
  /// True when the segment's checksum is right (the check parse_frame would have made).
  [[nodiscard]] bool ok() const noexcept;
  /// The same, taking the NIC's word when it has one: only for a segment outside any tunnel, since a NIC
  /// checks the outermost L4 header (inside a tunnel, or without a word, the sum is computed here).
  [[nodiscard]] bool ok(NicChecksum nic, uint8_t tunnel_depth) const noexcept {
    if (ip == nullptr) return true;
    if (tunnel_depth == 0 && nic != NicChecksum::kUnknown) return nic != NicChecksum::kBad;
    return ok();
  }
};

/// Parses one frame. On kTcp `out` holds the segment; on any other verdict `out` is unspecified.
/// Never reads outside [data, data + caplen). With `deferred` non-null and checksums verified, a segment
/// whose checksum can be checked is returned as kTcp with `*deferred` describing it (else `deferred->ip`
/// is null): the caller turns it into kBadChecksum if DeferredChecksum::ok() fails.
[[nodiscard]] FrameClass parse_frame(LinkType link, const uint8_t* data, uint32_t caplen,
                                  const ParseOptions& options, PacketMeta& out,
                                  DeferredChecksum* deferred = nullptr) noexcept;

/// Formats an address as text (dotted quad or RFC 5952 IPv6) into `buf`; returns the length written.
size_t format_ip(const IpAddr& addr, uint8_t ip_version, char* buf, size_t buf_len) noexcept;

/// Parses dotted-quad or IPv6 text; false if malformed.
[[nodiscard]] bool parse_ip(std::string_view text, IpAddr& out, uint8_t& ip_version) noexcept;

}  // namespace synscope::packet
