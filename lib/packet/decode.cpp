// decode: parse_frame and the chain of small decoders behind it, one per header (Ethernet, 802.3 LLC/SNAP
// and the tags, PPP, NFLOG, 802.11 and radiotap, IPv4, IPv6, TCP, and the UDP and GRE tunnels), each with
// the detection rules of Zeek's packet analyzer of the same name. Each decoder either hands the rest of the
// frame to the next one or returns a FrameClass; every read is bounds-checked against the bytes handed in.
//
// Pure functions over caller-owned bytes, called on the thread that owns the frame (an RX lcore or the
// replay reader); a Decoder lives on that thread's stack for one frame. No shared state, so thread-safe.
#include "packet/encapsulation.hpp"
#include "packet/packet.hpp"

#include <cstring>

namespace synscope::packet {
namespace {

inline uint16_t load_be16(const uint8_t* p) noexcept { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t load_be32(const uint8_t* p) noexcept {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint16_t kEtherQinq = 0x88a8;
constexpr uint16_t kEtherQinqOld = 0x9100;
constexpr uint16_t kEtherMplsUc = 0x8847;
constexpr uint16_t kEtherMplsMc = 0x8848;
constexpr uint16_t kEtherPppoeSession = 0x8864;
constexpr uint16_t kEtherPbb = 0x88e7;
constexpr uint16_t kEtherFabricPath = 0x8903;
constexpr uint16_t kEtherTransparentBridging = 0x6558;  // Ethernet inside GRE/Geneve
constexpr uint16_t kEtherErspan2 = 0x88be;
constexpr uint16_t kEtherErspan3 = 0x22eb;
constexpr uint16_t kEtherPpp = 0x880b;  // PPP inside enhanced GRE (PPTP)
constexpr uint16_t kEtherVnTag = 0x8926;
constexpr uint16_t kEtherMinType = 1536;    // below: an 802.3 length field
constexpr uint16_t kEtherMaxLength = 1500;  // 1501..1535: neither a length nor a type

constexpr uint16_t kPppIpv4 = 0x0021;
constexpr uint16_t kPppIpv6 = 0x0057;
constexpr uint16_t kPppMpls = 0x0281;

constexpr uint8_t kProtoIpInIp = 4;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIpv6InIp = 41;
constexpr uint8_t kProtoGre = 47;

constexpr uint16_t kPortVxlan = 4789;
constexpr uint16_t kPortGeneve = 6081;
constexpr uint16_t kPortGtpU = 2152;
constexpr uint16_t kPortTeredo = 3544;
constexpr uint16_t kPortAyiya = 5072;

/// Zeek's TeredoAnalyzer::DetectProtocol, for UDP payloads on ports no analyzer is registered for: a Teredo
/// bubble (exactly an IPv6 header, with a source or destination in Teredo's 2001:0000::/32), or an
/// authentication and/or origin-indication header followed by an IPv6 header. Its quirks are kept: a
/// second byte of 0 or 1 is read as those headers even after an IPv6 version nibble.
bool looks_like_teredo(const uint8_t* d, uint32_t len) noexcept {
  if (len < 40 || ((d[0] >> 4) != 6 && (d[0] != 0x00 || (d[1] != 0x00 && d[1] != 0x01)))) return false;
  const auto teredo_prefix = [](const uint8_t* a) { return a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0; };
  if (len == 40 && (d[0] >> 4) == 6 && (teredo_prefix(d + 8) || teredo_prefix(d + 24))) return true;
  uint16_t val = d[1];
  if (val == 1) {
    const uint32_t auth = 13u + d[2] + d[3];  // 4 bytes, client id, authentication value, nonce (8), confirmation
    if (len < auth) return false;
    d += auth;
    len -= auth;
    if (len < 40) return false;
    val = load_be16(d);
  }
  if (val == 0) {
    if (len < 8) return false;
    d += 8;  // the origin indication
    len -= 8;
    return len >= 40 && (d[0] >> 4) == 6;
  }
  return false;
}

constexpr int kMaxL2Layers = 16;  // VLAN/MPLS labels before we call the frame bogus
constexpr int kMaxIpv6ExtHeaders = 8;

// The decoding context shared by the decoders of one frame.
struct Decoder {
  const ParseOptions& options;
  PacketMeta& out;
  DeferredChecksum* deferred;  ///< non-null: record the checksum to verify instead of verifying it
  uint8_t depth = 0;
  uint32_t encapsulations = 0;  ///< encapsulation_bit() of each layer met
  uint32_t held_beyond = 0;     ///< bytes of the frame captured past the readable ones (parse_frame's frame_len)
  /// The innermost IPv6 header's routing final destination (16 bytes), as Zeek's IPv6_Hdr_Chain::DstAddr()
  /// gives it: the connection's responder address and the checksum's pseudo-header destination.
  const uint8_t* final_dst = nullptr;
  FragmentView* fragment_out = nullptr;   ///< non-null: report IPv4 fragments instead of judging them
  const Datagram* reassembled = nullptr;  ///< decoding a reassembled datagram, whose IPv4 header is its head

  void met(Encapsulation e) noexcept { encapsulations |= encapsulation_bit(e); }

  FrameClass ethernet(const uint8_t* p, uint32_t len) noexcept;
  FrameClass ethertype(uint16_t type, const uint8_t* p, uint32_t len) noexcept;
  FrameClass ip_by_version(const uint8_t* p, uint32_t len) noexcept;
  FrameClass ipv4(const uint8_t* p, uint32_t len) noexcept;
  FrameClass ipv6(const uint8_t* p, uint32_t len) noexcept;
  FrameClass l4(uint8_t proto, const uint8_t* ip, uint8_t ip_version, const uint8_t* p, uint32_t l4_len,
                uint32_t captured, bool first_fragment) noexcept;
  FrameClass tcp(const uint8_t* ip, uint8_t ip_version, const uint8_t* p, uint32_t l4_len, uint32_t captured,
                 bool first_fragment) noexcept;
  FrameClass udp(const uint8_t* p, uint32_t captured) noexcept;
  FrameClass teredo(const uint8_t* d, uint32_t len) noexcept;
  FrameClass ayiya(const uint8_t* d, uint32_t len) noexcept;
  FrameClass gre(const uint8_t* p, uint32_t captured) noexcept;
  FrameClass ppp(const uint8_t* p, uint32_t len) noexcept;
  FrameClass ppp_protocol(uint16_t proto, const uint8_t* p, uint32_t len) noexcept;
  FrameClass ppp_link(const uint8_t* p, uint32_t len) noexcept;
  FrameClass ppp_serial(const uint8_t* p, uint32_t len) noexcept;
  FrameClass ieee8023(uint16_t length, const uint8_t* p, uint32_t len) noexcept;
  FrameClass snap(const uint8_t* p, uint32_t len) noexcept;
  FrameClass snap_ethertype(uint16_t type, const uint8_t* p, uint32_t len) noexcept;
  FrameClass nflog(const uint8_t* p, uint32_t len) noexcept;
  FrameClass radiotap(const uint8_t* p, uint32_t len) noexcept;
  FrameClass ieee80211(const uint8_t* p, uint32_t len) noexcept;
  FrameClass ieee80211_llc(const uint8_t* p, uint32_t len) noexcept;
  bool enter_tunnel() noexcept { return ++depth <= options.max_tunnel_depth; }
};

FrameClass Decoder::ethernet(const uint8_t* p, uint32_t len) noexcept {
  if (len < 14) return FrameClass::kTruncated;
  const uint16_t type = load_be16(p + 12);
  if (type < kEtherMinType) return ieee8023(type, p + 14, len - 14);
  return ethertype(type, p + 14, len - 14);
}

// IEEE 802.3 framing, as Zeek's Ethernet analyzer: the type field is a length (at most 1500, else the frame
// is bogus), the captured payload must hold that many bytes, and the first two payload bytes pick the
// header that follows: 0xaa 0xaa is SNAP, 0xff 0xff is Novell raw 802.3 (IPX), anything else a plain LLC
// header whose DSAP Zeek dispatches nowhere: neither of the last two carries IP.
FrameClass Decoder::ieee8023(uint16_t length, const uint8_t* p, uint32_t len) noexcept {
  if (length > kEtherMaxLength) return FrameClass::kBadL2;
  if (len < 3) return FrameClass::kTruncated;  // Zeek wants more than 16 bytes of frame before reading these
  if (len < length) return FrameClass::kTruncated;
  if (p[0] == 0xaa && p[1] == 0xaa) return snap(p, len);
  return FrameClass::kNotIp;
}

// An 802.2 LLC header (3 bytes, 4 when the control field is not an unnumbered PDU) and the SNAP header
// (3-byte OUI, 2-byte protocol): an OUI of zero names an ethertype, any other a vendor protocol, not IP.
FrameClass Decoder::snap(const uint8_t* p, uint32_t len) noexcept {
  met(Encapsulation::kLlcSnap);
  const uint32_t llc = (p[2] & 0x03) == 0x03 ? 3 : 4;
  if (len < llc + 5) return FrameClass::kTruncated;
  p += llc;
  len -= llc;
  if (p[0] != 0 || p[1] != 0 || p[2] != 0) return FrameClass::kNotIp;
  return snap_ethertype(load_be16(p + 3), p + 5, len - 5);
}

// The ethertypes Zeek's SNAP and 802.11 analyzers dispatch onwards: IP, and ARP (not IP). No VLAN tags.
FrameClass Decoder::snap_ethertype(uint16_t type, const uint8_t* p, uint32_t len) noexcept {
  if (type == kEtherIpv4) return ipv4(p, len);
  if (type == kEtherIpv6) return ipv6(p, len);
  return FrameClass::kNotIp;
}

FrameClass Decoder::ethertype(uint16_t type, const uint8_t* p, uint32_t len) noexcept {
  for (int layer = 0; layer < kMaxL2Layers; ++layer) {
    switch (type) {
      case kEtherIpv4: return ipv4(p, len);
      case kEtherIpv6: return ipv6(p, len);
      case kEtherVlan:
      case kEtherQinq:
      case kEtherQinqOld:
        met(Encapsulation::kVlan);
        if (len < 4) return FrameClass::kTruncated;
        type = load_be16(p + 2);
        p += 4;
        len -= 4;
        continue;
      case kEtherMplsUc:
      case kEtherMplsMc: {
        // Walk the label stack to the bottom-of-stack bit, then guess the payload from its first nibble,
        // as Zeek does: 4/6 is IP, 0 is a pseudowire control word followed by Ethernet.
        met(Encapsulation::kMpls);
        bool bottom = false;
        for (int label = 0; label < kMaxL2Layers && !bottom; ++label) {
          if (len < 4) return FrameClass::kTruncated;
          bottom = (p[2] & 0x01) != 0;
          p += 4;
          len -= 4;
        }
        if (!bottom) return FrameClass::kBadL2;
        if (len < 1) return FrameClass::kTruncated;
        if ((p[0] >> 4) == 0) {
          // A pseudowire carries a whole Ethernet frame, which may hold MPLS again: it is a tunnel layer,
          // so the depth limit bounds the recursion (and the stack) as for GRE or VXLAN.
          if (len < 4) return FrameClass::kTruncated;
          met(Encapsulation::kMplsPseudowire);
          if (!enter_tunnel()) return FrameClass::kTunnelUnsupported;
          return ethernet(p + 4, len - 4);
        }
        return ip_by_version(p, len);
      }
      case kEtherPppoeSession:
        met(Encapsulation::kPppoe);
        if (len < 6) return FrameClass::kTruncated;
        return ppp(p + 6, len - 6);
      case kEtherPbb:
        // 802.1ah: 4-byte I-TAG, then the customer's MAC addresses and ethertype.
        met(Encapsulation::kPbb);
        if (len < 18) return FrameClass::kTruncated;
        type = load_be16(p + 16);
        p += 18;
        len -= 18;
        continue;
      case kEtherVnTag:
        // Cisco VN-Tag: 4 bytes of tag, then an ethertype that Zeek follows only into a VLAN tag.
        met(Encapsulation::kVnTag);
        if (len <= 6) return FrameClass::kTruncated;
        type = load_be16(p + 4);
        if (type != kEtherVlan && type != kEtherQinq && type != kEtherQinqOld) return FrameClass::kNotIp;
        p += 6;
        len -= 6;
        continue;
      case kEtherFabricPath:
        // Cisco FabricPath: 2-byte FTag/TTL after the outer ethertype, then the original frame.
        met(Encapsulation::kFabricPath);
        if (len < 16) return FrameClass::kTruncated;
        type = load_be16(p + 14);
        p += 16;
        len -= 16;
        continue;
      default: return FrameClass::kNotIp;
    }
  }
  return FrameClass::kBadL2;
}

FrameClass Decoder::ppp(const uint8_t* p, uint32_t len) noexcept {
  if (len >= 2 && p[0] == 0xff && p[1] == 0x03) {  // address/control field, absent when compressed
    p += 2;
    len -= 2;
  }
  if (len < 1) return FrameClass::kTruncated;
  uint16_t proto = p[0];
  if ((proto & 0x01) == 0) {  // uncompressed 2-byte protocol field
    if (len < 2) return FrameClass::kTruncated;
    proto = load_be16(p);
    p += 2;
    len -= 2;
  } else {
    p += 1;
    len -= 1;
  }
  if (proto == kPppIpv4) return ipv4(p, len);
  if (proto == kPppIpv6) return ipv6(p, len);
  return FrameClass::kNotIp;
}

// The protocols Zeek's PPP and PPP-serial analyzers dispatch: IPv4, IPv6 and MPLS (unicast).
FrameClass Decoder::ppp_protocol(uint16_t proto, const uint8_t* p, uint32_t len) noexcept {
  switch (proto) {
    case kPppIpv4: return ipv4(p, len);
    case kPppIpv6: return ipv6(p, len);
    case kPppMpls: return ethertype(kEtherMplsUc, p, len);
    default: return FrameClass::kNotIp;
  }
}

// LINKTYPE_PPP, as Zeek's PPP analyzer: 0xff 0x03 then a 2-byte protocol, or the protocol alone. Unlike
// PPPoE's PPP, a 1-byte (compressed) protocol field is not recognised.
FrameClass Decoder::ppp_link(const uint8_t* p, uint32_t len) noexcept {
  if (len <= 2) return FrameClass::kTruncated;
  if (p[0] == 0xff && p[1] == 0x03) {
    if (len <= 4) return FrameClass::kTruncated;
    return ppp_protocol(load_be16(p + 2), p + 4, len - 4);
  }
  return ppp_protocol(load_be16(p), p + 2, len - 2);
}

// LINKTYPE_PPP_HDLC (DLT_PPP_SERIAL), as Zeek's PPPSerial analyzer: address and control bytes (not checked),
// then the 2-byte protocol.
FrameClass Decoder::ppp_serial(const uint8_t* p, uint32_t len) noexcept {
  if (len <= 4) return FrameClass::kTruncated;
  return ppp_protocol(load_be16(p + 2), p + 4, len - 4);
}

// LINKTYPE_NFLOG, as Zeek's NFLog analyzer: address family, version 0, resource id, then TLVs whose length
// and type are in the capturing host's byte order (libpcap swaps them for a file of the other byte order,
// our reader does not: such a trace does not decode). A TLV's length counts its 4-byte header and is
// padded to a multiple of 4; the payload TLV (type 9) holds the packet from its network header on.
FrameClass Decoder::nflog(const uint8_t* p, uint32_t len) noexcept {
  constexpr uint16_t kTlvPayload = 9;
  constexpr uint8_t kAfInet = 2;
  constexpr uint8_t kAfInet6 = 10;
  if (len <= 4) return FrameClass::kTruncated;
  const uint8_t family = p[0];
  if (p[1] != 0) return FrameClass::kBadL2;  // unknown version
  p += 4;
  len -= 4;
  for (;;) {
    if (len == 0) return FrameClass::kNotIp;  // no payload TLV: nothing was logged
    if (len <= 4) return FrameClass::kTruncated;
    uint16_t tlv_len;
    uint16_t tlv_type;
    std::memcpy(&tlv_len, p, 2);
    std::memcpy(&tlv_type, p + 2, 2);
    if (tlv_type == kTlvPayload) {
      p += 4;
      len -= 4;
      break;
    }
    if (tlv_len < 4) return FrameClass::kBadL2;
    const uint32_t padded = (uint32_t{tlv_len} + 3) & ~3u;
    if (padded > len) return FrameClass::kTruncated;
    p += padded;
    len -= padded;
  }
  if (family == kAfInet) return ipv4(p, len);
  if (family == kAfInet6) return ipv6(p, len);
  return FrameClass::kNotIp;
}

FrameClass Decoder::ip_by_version(const uint8_t* p, uint32_t len) noexcept {
  if (len < 1) return FrameClass::kTruncated;
  switch (p[0] >> 4) {
    case 4: return ipv4(p, len);
    case 6: return ipv6(p, len);
    default: return FrameClass::kNotIp;
  }
}

FrameClass Decoder::ipv4(const uint8_t* p, uint32_t len) noexcept {
  if (len < 20) return FrameClass::kTruncated;
  if ((p[0] >> 4) != 4) return FrameClass::kBadIpHeader;
  const uint32_t ihl = (p[0] & 0x0fu) * 4u;
  if (ihl < 20) return FrameClass::kBadIpHeader;
  if (ihl > len) return FrameClass::kTruncated;
  uint32_t total = load_be16(p + 2);
  if (total == 0) total = len;  // TSO/LRO captures leave total length 0; take what was captured
  if (total < ihl) return FrameClass::kBadIpHeader;
  uint16_t frag = load_be16(p + 6);
  if (reassembled != nullptr && p == reassembled->head) {
    // The datagram is whole: its length is the reassembled one, the rest of it beyond the head was captured
    // (summed, not kept) unless a fragment was cut.
    total = reassembled->total;
    frag = 0;
    held_beyond = reassembled->payload_cut || total < len ? 0 : total - len;
  } else if ((frag & 0x3fff) != 0 && fragment_out != nullptr) {
    met(Encapsulation::kIpFragment);
    *fragment_out = FragmentView{
        p, total < len ? total : len, total, (frag & 0x1fffu) * 8u, (frag & 0x2000) != 0, encapsulations, depth};
    return FrameClass::kFragment;
  }
  if ((frag & 0x1fff) != 0) return FrameClass::kFragment;
  const bool first_fragment = (frag & 0x2000) != 0;
  // Ethernet padding makes len > total; a short snaplen makes len < total.
  const uint32_t captured_l4 = (total < len ? total : len) - ihl;
  out.ip_version = 4;
  out.ip_len = total;
  return l4(p[9], p, 4, p + ihl, total - ihl, captured_l4, first_fragment);
}

FrameClass Decoder::ipv6(const uint8_t* p, uint32_t len) noexcept {
  if (len < 40) return FrameClass::kTruncated;
  if ((p[0] >> 4) != 6) return FrameClass::kBadIpHeader;
  uint32_t payload = load_be16(p + 4);
  if (payload == 0) payload = len - 40;  // jumbogram or TSO capture
  const uint32_t captured = (payload < len - 40 ? payload : len - 40);
  out.ip_version = 6;
  out.ip_len = 40 + payload;

  uint8_t next = p[6];
  const uint8_t* h = p + 40;
  uint32_t off = 0;  // bytes of extension headers consumed
  bool first_fragment = false;
  const uint8_t* route_dst = nullptr;
  for (int i = 0; i <= kMaxIpv6ExtHeaders; ++i) {
    uint32_t ext_len = 0;
    switch (next) {
      case 0:   // hop-by-hop
      case 43:  // routing
      case 60:  // destination options
        if (captured < off + 2) return FrameClass::kTruncated;
        ext_len = (uint32_t{h[off + 1]} + 1) * 8;
        break;
      case 44: {  // fragment
        if (captured < off + 8) return FrameClass::kTruncated;
        const uint16_t fo = load_be16(h + off + 2);
        if ((fo & 0xfff8) != 0) return FrameClass::kFragment;
        first_fragment = (fo & 0x0001) != 0;
        ext_len = 8;
        break;
      }
      case 51:  // authentication header
        if (captured < off + 2) return FrameClass::kTruncated;
        ext_len = (uint32_t{h[off + 1]} + 2) * 4;
        break;
      default:
        if (off > payload) return FrameClass::kBadIpHeader;
        final_dst = route_dst;  // this header is the innermost so far: a tunnel inside sets its own
        return l4(next, p, 6, h + off, payload - off, captured - off, first_fragment);
    }
    if (captured < off + ext_len) return FrameClass::kTruncated;
    // Routing type 0 with segments left: Zeek takes the header's last 16 bytes as the destination (the
    // first such header only; type 2 is Mobile IPv6, which Zeek builds without).
    if (next == 43 && h[off + 2] == 0 && h[off + 3] > 0 && h[off + 1] >= 2 && h[off + 1] % 2 == 0 &&
        route_dst == nullptr) {
      route_dst = h + off + ext_len - 16;
    }
    next = h[off];
    off += ext_len;
  }
  return FrameClass::kBadIpHeader;
}

FrameClass Decoder::l4(uint8_t proto, const uint8_t* ip, uint8_t ip_version, const uint8_t* p, uint32_t l4_len,
                       uint32_t captured, bool first_fragment) noexcept {
  switch (proto) {
    case kProtoTcp: return tcp(ip, ip_version, p, l4_len, captured, first_fragment);
    case kProtoUdp:
      if (first_fragment) return FrameClass::kNotTcp;
      return udp(p, captured);
    case kProtoGre:
      met(Encapsulation::kGre);
      if (!enter_tunnel()) return FrameClass::kTunnelUnsupported;
      return gre(p, captured);
    case kProtoIpInIp:
      met(Encapsulation::kIpInIp);
      if (!enter_tunnel()) return FrameClass::kTunnelUnsupported;
      return ipv4(p, captured);
    case kProtoIpv6InIp:
      met(Encapsulation::kIpInIp);
      if (!enter_tunnel()) return FrameClass::kTunnelUnsupported;
      return ipv6(p, captured);
    default: return FrameClass::kNotTcp;
  }
}

FrameClass Decoder::tcp(const uint8_t* ip, uint8_t ip_version, const uint8_t* p, uint32_t l4_len, uint32_t captured,
                        bool first_fragment) noexcept {
  if (captured < 20) return FrameClass::kTruncated;
  const uint32_t doff = (p[12] >> 4) * 4u;
  if (doff < 20 || doff > l4_len) return FrameClass::kBadTcpHeader;
  if (doff > captured) return FrameClass::kTruncated;

  if (ip_version == 4) {
    std::memcpy(out.src.bytes.data(), ip + 12, 4);
    std::memcpy(out.dst.bytes.data(), ip + 16, 4);
    std::memset(out.src.bytes.data() + 4, 0, 12);
    std::memset(out.dst.bytes.data() + 4, 0, 12);
  } else {
    std::memcpy(out.src.bytes.data(), ip + 8, 16);
    std::memcpy(out.dst.bytes.data(), final_dst != nullptr ? final_dst : ip + 24, 16);
  }
  out.ip_version = ip_version;
  out.src_port = load_be16(p);
  out.dst_port = load_be16(p + 2);
  out.seq = load_be32(p + 4);
  out.ack = load_be32(p + 8);
  out.flags = p[13];
  out.window = load_be16(p + 14);
  out.tcp_header_len = static_cast<uint8_t>(doff);
  out.payload_len = l4_len - doff;
  out.partial = static_cast<uint8_t>((uint64_t{captured} + held_beyond < l4_len ? segment_part::kPayloadCut : 0) |
                                     (first_fragment ? segment_part::kFragment : 0));
  out.window_scale = 0xff;
  if ((out.flags & tcp_flag::kSyn) && doff > 20) {
    // Only the window-scale option matters to the state machine (zero-window 'W' detection).
    const uint8_t* o = p + 20;
    const uint8_t* end = p + doff;
    while (o < end) {
      const uint8_t kind = o[0];
      if (kind == 0) break;
      if (kind == 1) {
        ++o;
        continue;
      }
      if (o + 1 >= end || o[1] < 2 || o + o[1] > end) break;
      if (kind == 3 && o[1] >= 3) out.window_scale = o[2] > 14 ? 14 : o[2];
      o += o[1];
    }
  }
  if (reassembled != nullptr) {
    // A reassembled datagram: the segment's bytes were summed as its fragments passed. A segment in a tunnel
    // inside it starts past the head's other headers, whose sum comes off (on an even offset; on an odd one
    // the sums do not line up and the checksum is not judged).
    const uint8_t* payload = reassembled->head + (reassembled->head[0] & 0x0fu) * 4u;
    const auto before = static_cast<uint32_t>(p - payload);
    if (options.verify_checksums && !reassembled->payload_cut && before % 2 == 0) {
      const uint16_t prefix = ones_complement_sum(payload, before);
      const uint64_t sum = reassembled->payload_sum + static_cast<uint16_t>(~prefix);
      if (!tcp_checksum_ok_sum(ip, ip_version, l4_len, sum, ip_version == 6 ? final_dst : nullptr)) {
        return FrameClass::kBadChecksum;
      }
    }
    return FrameClass::kTcp;
  }
  // A first fragment or a short snaplen does not hold the whole segment: its checksum cannot be checked.
  if (options.verify_checksums && !first_fragment && captured >= l4_len) {
    if (deferred != nullptr) {
      *deferred = DeferredChecksum{ip, p, l4_len, ip_version, ip_version == 6 ? final_dst : nullptr};
    } else if (!tcp_checksum_ok(ip, ip_version, p, l4_len, ip_version == 6 ? final_dst : nullptr)) {
      return FrameClass::kBadChecksum;
    }
  }
  return FrameClass::kTcp;
}

FrameClass Decoder::udp(const uint8_t* p, uint32_t captured) noexcept {
  if (captured < 8) return FrameClass::kTruncated;
  const uint16_t sport = load_be16(p);
  const uint16_t dport = load_be16(p + 2);
  const uint8_t* d = p + 8;
  const uint32_t len = captured - 8;
  auto either = [&](uint16_t port) { return sport == port || dport == port; };

  if (either(kPortVxlan)) {
    if (len < 8 || (d[0] & 0x08) == 0) return FrameClass::kNotTcp;
    met(Encapsulation::kVxlan);
    if (!enter_tunnel()) return FrameClass::kTunnelUnsupported;
    return ethernet(d + 8, len - 8);
  }
  if (either(kPortGeneve)) {
    if (len < 8) return FrameClass::kNotTcp;
    const uint32_t hdr = 8 + (d[0] & 0x3fu) * 4;
    met(Encapsulation::kGeneve);
    if (len < hdr) return FrameClass::kTruncated;
    if (!enter_tunnel()) return FrameClass::kTunnelUnsupported;
    return ethertype(load_be16(d + 2), d + hdr, len - hdr);
  }
  if (either(kPortGtpU)) {
    // GTPv1-U G-PDU: 8-byte header, +4 when any of E/S/PN is set, then a chain of extension headers.
    if (len < 8 || (d[0] >> 5) != 1 || (d[0] & 0x10) == 0 || d[1] != 0xff) return FrameClass::kNotTcp;
    met(Encapsulation::kGtpU);
    uint32_t hdr = 8;
    if (d[0] & 0x07) {
      if (len < 12) return FrameClass::kTruncated;
      hdr = 12;
      uint8_t next_ext = (d[0] & 0x04) ? d[11] : 0;
      while (next_ext != 0) {
        if (len < hdr + 1) return FrameClass::kTruncated;
        const uint32_t ext_len = uint32_t{d[hdr]} * 4;
        if (ext_len == 0 || len < hdr + ext_len) return FrameClass::kTruncated;
        next_ext = d[hdr + ext_len - 1];
        hdr += ext_len;
      }
    }
    if (!enter_tunnel()) return FrameClass::kTunnelUnsupported;
    return ip_by_version(d + hdr, len - hdr);
  }
  if (either(kPortAyiya)) return ayiya(d, len);
  // Teredo and AYIYA on their ports, and on any other port when the payload passes Zeek's protocol
  // detection: Zeek registers both for detection on every UDP port no analyzer claims. AYIYA's detection
  // is two bytes: a 20-byte SHA-1 signature with an IPv6 identity (0x52), SHA-1 and forwarding (0x11).
  if (either(kPortTeredo) || looks_like_teredo(d, len)) return teredo(d, len);
  if (len >= 3 && d[1] == 0x52 && d[2] == 0x11) return ayiya(d, len);
  return FrameClass::kNotTcp;
}

// AYIYA ("anything in anything"), as Zeek's AYIYA analyzer: 8 bytes, then an identity of 2^(high nibble of
// byte 0) bytes (as an 8-bit count: a nibble of 8 or more gives 0) and a signature of 4 * (high nibble of
// byte 1) bytes. Only the forward operation (low nibble of byte 2 = 1) carries a packet, IPv4 (next header
// 4) or IPv6 (41), which Zeek's IP analyzer takes by its version nibble.
FrameClass Decoder::ayiya(const uint8_t* d, uint32_t len) noexcept {
  if (len < 8) return FrameClass::kNotTcp;
  const auto identity_len = static_cast<uint8_t>(1u << (d[0] >> 4));
  const uint32_t hdr = 8u + identity_len + (d[1] >> 4) * 4u;
  if (hdr > len) return FrameClass::kNotTcp;
  if ((d[2] & 0x0f) != 1) return FrameClass::kNotTcp;  // not a forwarded packet
  const uint8_t next = d[3];
  if (len == hdr) return FrameClass::kNotTcp;
  if (next != kProtoIpInIp && next != kProtoIpv6InIp) return FrameClass::kNotTcp;
  met(Encapsulation::kAyiya);
  if (!enter_tunnel()) return FrameClass::kTunnelUnsupported;
  return ip_by_version(d + hdr, len - hdr);
}

FrameClass Decoder::teredo(const uint8_t* d, uint32_t len) noexcept {
  // Teredo (RFC 4380): optional authentication and origin-indication headers, then bare IPv6.
  uint32_t off = 0;
  if (len >= 2 && d[0] == 0x00 && d[1] == 0x01) {
    if (len < 4) return FrameClass::kNotTcp;
    off = 4u + d[2] + d[3] + 8 + 1;
  }
  if (len >= off + 2 && d[off] == 0x00 && d[off + 1] == 0x00) off += 8;
  if (len < off + 40 || (d[off] >> 4) != 6) return FrameClass::kNotTcp;
  if (uint32_t{load_be16(d + off + 4)} + 40 > len - off) return FrameClass::kNotTcp;  // not a real IPv6 packet
  met(Encapsulation::kTeredo);
  if (!enter_tunnel()) return FrameClass::kTunnelUnsupported;
  return ipv6(d + off, len - off);
}

// GRE, as Zeek's GRE analyzer. The header is 4 bytes plus 4 for each of checksum, key, sequence and (the
// enhanced GRE of PPTP) acknowledgement, read from the flags in either version; routing (RFC 1701) and the
// reserved flag bits 0x0078 are refused. Version 0 carries transparent Ethernet (0x6558), ERSPAN type I
// (0x88be without a sequence number: the mirrored frame right after GRE), type II (0x88be with one: an
// 8-byte ERSPAN header), type III (0x22eb: 12 bytes, 20 with the platform sub-header flagged in byte 11),
// Aruba's 802.11 (0x8200-0x82f0 and 0x8300-0x8370 in steps of 16, 0x9000), or the ethertype's protocol.
// Version 1 (PPTP) must carry PPP (0x880b): 4 bytes of PPP header whose last two are the protocol, IPv4
// (0x0021) or IPv6 (0x0057). An acknowledgement-only packet carries nothing.
FrameClass Decoder::gre(const uint8_t* p, uint32_t len) noexcept {
  if (len < 4) return FrameClass::kTruncated;
  const uint16_t flags = load_be16(p);
  const uint16_t version = flags & 0x0007;
  const uint16_t proto = load_be16(p + 2);
  uint32_t hdr = 4;
  if (flags & 0x8000) hdr += 4;  // checksum and reserved word
  if (flags & 0x2000) hdr += 4;  // key
  if (flags & 0x1000) hdr += 4;  // sequence number
  if (flags & 0x0080) hdr += 4;  // acknowledgement number
  if (version > 1) return FrameClass::kTunnelUnsupported;
  if (version == 1 && proto != kEtherPpp) return FrameClass::kTunnelUnsupported;
  if (flags & 0x4000) return FrameClass::kTunnelUnsupported;  // source routing entries: obsolete, not decoded
  if (flags & 0x0078) return FrameClass::kTunnelUnsupported;  // reserved flags: Zeek gives up
  if (len < hdr) return FrameClass::kTruncated;
  p += hdr;
  len -= hdr;
  if (version == 1) {
    met(Encapsulation::kPptp);
    if (len == 0) return FrameClass::kNotTcp;  // acknowledgement only
    if (len < 4) return FrameClass::kTruncated;
    const uint16_t ppp_proto = load_be16(p + 2);
    if (ppp_proto == kPppIpv4) return ipv4(p + 4, len - 4);
    if (ppp_proto == kPppIpv6) return ipv6(p + 4, len - 4);
    return FrameClass::kNotTcp;  // LCP, CCP, compressed or encrypted PPP: no IP for Zeek either
  }
  const bool aruba = ((proto & 0x8200) == 0x8200 && (proto & 0x0f) == 0) ||
                     ((proto & 0x8300) == 0x8300 && (proto & 0x0f) == 0 && proto <= 0x8370) || proto == 0x9000;
  switch (proto) {
    case kEtherTransparentBridging:
      if (len <= 14) return FrameClass::kTruncated;
      return ethernet(p, len);
    case kEtherErspan2: {
      met(Encapsulation::kErspan);
      if (len <= 14) return FrameClass::kTruncated;
      const uint32_t erspan = (flags & 0x1000) ? 8 : 0;  // type II has a sequence number, type I none
      if (len < erspan + 14) return FrameClass::kTruncated;
      return ethernet(p + erspan, len - erspan);
    }
    case kEtherErspan3: {
      met(Encapsulation::kErspan);
      if (len <= 12 + 14) return FrameClass::kTruncated;
      uint32_t erspan = 12;
      if (p[11] & 0x01) {  // optional platform-specific sub-header
        if (len <= 12 + 8 + 14) return FrameClass::kTruncated;
        erspan += 8;
      }
      return ethernet(p + erspan, len - erspan);
    }
    default:
      if (aruba) {
        if (len == 0) return FrameClass::kTruncated;
        return ieee80211(p, len);
      }
      return ethertype(proto, p, len);
  }
}

// LINKTYPE_IEEE802_11_RADIO, as Zeek's IEEE802_11_Radio analyzer: skip the radiotap header by its
// little-endian length; the 802.11 frame must follow it.
FrameClass Decoder::radiotap(const uint8_t* p, uint32_t len) noexcept {
  if (len <= 3) return FrameClass::kTruncated;
  const uint32_t rt_len = p[2] | (uint32_t{p[3]} << 8);
  if (rt_len >= len) return FrameClass::kTruncated;
  return ieee80211(p + rt_len, len - rt_len);
}

// An IEEE 802.11 frame, as Zeek's IEEE802_11 analyzer: only data frames (type 2, and 3 as Zeek tests one
// bit) of a subtype that carries data; 24 bytes of header, 30 with both To-DS and From-DS (a fourth
// address), 2 more for QoS data. Zeek reads no HT Control field (the order bit), so neither do we. A
// protected QoS frame is encrypted: not IP. An A-MSDU (QoS control bit 7) holds subframes of a 14-byte
// header and an LLC/SNAP packet each: Zeek analyses every one, we decode the first (one frame, one verdict).
FrameClass Decoder::ieee80211(const uint8_t* p, uint32_t len) noexcept {
  uint32_t hdr = 24;
  if (hdr >= len) return FrameClass::kTruncated;
  const uint8_t fc = p[0];
  if (((fc >> 2) & 0x02) == 0) return FrameClass::kNotIp;  // management or control
  if (((fc >> 4) & 0x04) != 0) return FrameClass::kNotIp;  // null-data subtypes
  if ((p[1] & 0x03) == 0x03) hdr += 6;
  if (hdr >= len) return FrameClass::kTruncated;
  bool amsdu = false;
  if (((fc >> 4) & 0x08) != 0) {  // QoS data
    amsdu = (p[hdr] & 0x80) != 0;
    if ((p[1] & 0x40) != 0) return FrameClass::kNotIp;  // protected: encrypted payload
    hdr += 2;
  }
  if (hdr >= len) return FrameClass::kTruncated;
  p += hdr;
  len -= hdr;
  if (!amsdu) return ieee80211_llc(p, len);
  if (len < 14) return FrameClass::kTruncated;
  const uint32_t sub_len = load_be16(p + 12);
  if (len < sub_len + 14) return FrameClass::kTruncated;
  return ieee80211_llc(p + 14, sub_len);
}

// The LLC/SNAP header inside an 802.11 data frame: exactly 0xaa 0xaa 0x03 and a zero OUI (encapsulated
// Ethernet), then the ethertype; any other LLC header is skipped as Zeek does.
FrameClass Decoder::ieee80211_llc(const uint8_t* p, uint32_t len) noexcept {
  if (len < 8) return FrameClass::kTruncated;
  if (p[0] != 0xaa || p[1] != 0xaa || p[2] != 0x03 || p[3] != 0 || p[4] != 0 || p[5] != 0) {
    return FrameClass::kNotIp;
  }
  return snap_ethertype(load_be16(p + 6), p + 8, len - 8);
}

}  // namespace

LinkType link_type_of(uint32_t number) noexcept {
  switch (number) {
    case 0: return LinkType::kNull;
    case 1: return LinkType::kEthernet;
    case 12:  // DLT_RAW on most BSDs and Linux
    case 14:  // DLT_RAW on OpenBSD
    case 101: return LinkType::kRaw;
    case 9: return LinkType::kPpp;
    case 50: return LinkType::kPppSerial;
    case 105: return LinkType::kIeee80211;
    case 108: return LinkType::kLoop;
    case 113: return LinkType::kLinuxSll;
    case 127: return LinkType::kIeee80211Radio;
    case 239: return LinkType::kNflog;
    case 228: return LinkType::kIpv4;
    case 229: return LinkType::kIpv6;
    case 276: return LinkType::kLinuxSll2;
    default: return LinkType::kUnsupported;
  }
}

FrameClass parse_datagram(const Datagram& datagram, const ParseOptions& options, PacketMeta& out,
                          uint32_t* encapsulations) noexcept {
  Decoder d{options, out, nullptr};
  d.reassembled = &datagram;
  d.encapsulations = datagram.encapsulations | encapsulation_bit(Encapsulation::kIpFragment);
  d.depth = datagram.depth;
  const FrameClass v = d.ipv4(datagram.head, datagram.head_len);
  out.tunnel_depth = d.depth;
  if (encapsulations != nullptr) *encapsulations = d.encapsulations;
  return v;
}

FrameClass parse_frame(LinkType link, const uint8_t* data, uint32_t caplen, const ParseOptions& options,
                       PacketMeta& out, DeferredChecksum* deferred, uint32_t* encapsulations, uint32_t frame_len,
                       FragmentView* fragment) noexcept {
  if (encapsulations != nullptr) *encapsulations = 0;
  if (deferred != nullptr) deferred->ip = nullptr;
  if (fragment != nullptr) fragment->ip = nullptr;
  Decoder d{options, out, deferred};
  d.held_beyond = frame_len > caplen ? frame_len - caplen : 0;
  d.fragment_out = fragment;
  out.tunnel_depth = 0;
  FrameClass v;
  switch (link) {
    case LinkType::kEthernet: v = d.ethernet(data, caplen); break;
    case LinkType::kNull:
    case LinkType::kLoop: {
      if (caplen < 4) return FrameClass::kTruncated;
      uint32_t family;
      if (link == LinkType::kLoop) {
        family = load_be32(data);
      } else {
        // Host byte order of the capturing machine: accept either.
        std::memcpy(&family, data, 4);
        if (family > 0xffff) family = __builtin_bswap32(family);
      }
      if (family == 2) {
        v = d.ipv4(data + 4, caplen - 4);
      } else if (family == 24 || family == 28 || family == 30) {  // AF_INET6 on NetBSD/OpenBSD, FreeBSD, macOS
        v = d.ipv6(data + 4, caplen - 4);
      } else {
        v = FrameClass::kNotIp;
      }
      break;
    }
    case LinkType::kRaw: v = d.ip_by_version(data, caplen); break;
    case LinkType::kIpv4: v = d.ipv4(data, caplen); break;
    case LinkType::kIpv6: v = d.ipv6(data, caplen); break;
    case LinkType::kLinuxSll:
      if (caplen < 16) return FrameClass::kTruncated;
      v = d.ethertype(load_be16(data + 14), data + 16, caplen - 16);
      break;
    case LinkType::kLinuxSll2:
      if (caplen < 20) return FrameClass::kTruncated;
      v = d.ethertype(load_be16(data), data + 20, caplen - 20);
      break;
    case LinkType::kPpp: v = d.ppp_link(data, caplen); break;
    case LinkType::kPppSerial: v = d.ppp_serial(data, caplen); break;
    case LinkType::kNflog: v = d.nflog(data, caplen); break;
    case LinkType::kIeee80211: v = d.ieee80211(data, caplen); break;
    case LinkType::kIeee80211Radio: v = d.radiotap(data, caplen); break;
    case LinkType::kUnsupported:  // nothing we can decode: counted as not IP, the frame is not read
    default: v = FrameClass::kNotIp;
  }
  out.tunnel_depth = d.depth;
  if (encapsulations != nullptr) *encapsulations = d.encapsulations;
  return v;
}

}  // namespace synscope::packet
