// packet: turns the bytes of one captured frame into a PacketMeta (addresses, ports, TCP header fields,
// lengths) or a counted reason why it is not a usable TCP segment. The public header of the library: it
// includes the small ones (frame_class.hpp, ip_text.hpp, checksum.hpp), so a user includes only this one.
//
// Pure functions over caller-owned bytes: no allocation, no exceptions, no global state, safe to call from
// any thread. Nothing here includes rte_mbuf.h; the live RX path hands mbuf data pointers in, the replay
// path hands file bytes in, and both get the same answer. Every read is bounds-checked against `caplen`.
#pragma once

#include <cstddef>
#include <cstdint>

#include "packet/checksum.hpp"
#include "packet/fragments.hpp"
#include "packet/frame_class.hpp"
#include "packet/ip_text.hpp"

namespace synscope::packet {

/// Link-layer framing of a capture, as numbered by tcpdump.org's LINKTYPE_* registry.
enum class LinkType : uint16_t {
  kNull = 0,              ///< BSD loopback: 4-byte address family in host byte order
  kEthernet = 1,          ///< Ethernet II or 802.3 with LLC/SNAP (VLAN/QinQ/VN-Tag/MPLS/PPPoE/PBB/FabricPath inside)
  kPpp = 9,               ///< PPP, with or without the 0xff 0x03 HDLC address and control bytes
  kPppSerial = 50,        ///< PPP in HDLC-like framing: address, control, 2-byte protocol
  kRaw = 101,             ///< raw IPv4 or IPv6, version from the first nibble
  kIeee80211 = 105,       ///< IEEE 802.11 frames: data frames' LLC/SNAP to IP
  kLoop = 108,            ///< OpenBSD loopback: 4-byte address family in network byte order
  kLinuxSll = 113,        ///< Linux cooked capture v1
  kIeee80211Radio = 127,  ///< radiotap header, then an IEEE 802.11 frame
  kNflog = 239,           ///< Linux NFLOG: address family, version, TLVs (host byte order), the payload TLV's IP
  kIpv4 = 228,            ///< raw IPv4
  kIpv6 = 229,            ///< raw IPv6
  kLinuxSll2 = 276,       ///< Linux cooked capture v2
  kUnsupported = 0xffff,  ///< a link type synscope does not decode: parse_frame says FrameClass::kNotIp
};

/// Maps a pcap/pcapng link-type number to a LinkType; kUnsupported when synscope cannot decode it.
[[nodiscard]] LinkType link_type_of(uint32_t number) noexcept;

/// TCP flag bits, as in the header.
namespace tcp_flag {
inline constexpr uint8_t kFin = 0x01;
inline constexpr uint8_t kSyn = 0x02;
inline constexpr uint8_t kRst = 0x04;
inline constexpr uint8_t kPsh = 0x08;
inline constexpr uint8_t kAck = 0x10;
inline constexpr uint8_t kUrg = 0x20;
}  // namespace tcp_flag

/// Why a frame holds less than its whole segment (PacketMeta::partial), as bits: one byte written once per
/// segment, which the session's content path tests for zero.
namespace segment_part {
inline constexpr uint8_t kPayloadCut = 0x01;  ///< the payload is not all in the frame (a short snaplen)
/// The first fragment of an IP datagram: payload_len counts this fragment's part only (the rest is in
/// fragments synscope does not reassemble).
inline constexpr uint8_t kFragment = 0x02;
}  // namespace segment_part

/// One parsed TCP segment, in wire order (src = sender of this packet).
struct PacketMeta {
  IpAddr src;
  IpAddr dst;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t ip_version = 0;       ///< 4 or 6 (the innermost IP header, after tunnels)
  uint8_t flags = 0;            ///< TCP flags byte
  uint8_t window_scale = 0xff;  ///< window-scale option on SYNs, 0xff when absent
  uint8_t tunnel_depth = 0;     ///< number of tunnel layers removed (GRE, VXLAN, GTP-U, Teredo, MPLS pseudowire, ...)
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint16_t window = 0;
  uint8_t tcp_header_len = 0;
  uint8_t partial = 0;       ///< segment_part bits: 0 when the frame holds the whole segment
  uint32_t payload_len = 0;  ///< TCP payload bytes per the IP length (not the captured length)
  uint32_t ip_len = 0;       ///< IP total length including the IP header (Zeek's *_ip_bytes)
};

/// Options that change how a frame is judged.
struct ParseOptions {
  bool verify_checksums = true;  ///< drop TCP segments whose checksum is wrong, as Zeek does by default
  uint8_t max_tunnel_depth = 4;  ///< deeper encapsulations are counted as kTunnelUnsupported
};

/// Parses one frame. On kTcp `out` holds the segment; on any other class `out` is unspecified. A `link` of
/// kUnsupported gives kNotIp without reading the frame, so a capture of any link type needs no special case.
/// Never reads outside [data, data + caplen). With `deferred` non-null and checksums verified, a segment
/// whose checksum can be checked is returned as kTcp with `*deferred` describing it (else `deferred->ip`
/// is null): the caller turns it into kBadChecksum if DeferredChecksum::ok() fails.
/// With `encapsulations` non-null, it receives the set (encapsulation_bit()) of the layers the frame passed
/// through, whatever its class. `frame_len`, when more than `caplen`, is how many bytes of the frame were
/// captured in all while only the first `caplen` can be read here (a chained mbuf): the payload then counts
/// as captured (no segment_part::kPayloadCut) though the parser never reads it.
/// With `fragment` non-null, an IPv4 fragment (the first one too) is kFragment with `*fragment` describing
/// it (else `fragment->ip` is null), for a FragmentTable; parse_datagram() decodes what the table completes.
[[nodiscard]] FrameClass parse_frame(LinkType link, const uint8_t* data, uint32_t caplen, const ParseOptions& options,
                                     PacketMeta& out, DeferredChecksum* deferred = nullptr,
                                     uint32_t* encapsulations = nullptr, uint32_t frame_len = 0,
                                     FragmentView* fragment = nullptr) noexcept;

/// Decodes a datagram a FragmentTable reassembled, from its IPv4 header on, as parse_frame() decodes a
/// frame: the TCP checksum is judged at once from the payload's sum (nothing deferred), and the payload
/// counts as captured unless a fragment was cut. `encapsulations` as parse_frame's, the datagram's own
/// layers included.
[[nodiscard]] FrameClass parse_datagram(const Datagram& datagram, const ParseOptions& options, PacketMeta& out,
                                        uint32_t* encapsulations = nullptr) noexcept;

}  // namespace synscope::packet
