// packet: frame decoding. See packet.hpp. Written as a chain of small decoders over a bounds-checked cursor;
// each decoder either hands the rest of the frame to the next one or returns a FrameClass.
#include "packet/packet.hpp"

#if defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

#include <arpa/inet.h>

#include <bit>
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
constexpr uint16_t kEtherPpp = 0x880b;                  // PPP inside enhanced GRE (PPTP)

constexpr uint8_t kProtoIpInIp = 4;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIpv6InIp = 41;
constexpr uint8_t kProtoGre = 47;

constexpr uint16_t kPortVxlan = 4789;
constexpr uint16_t kPortGeneve = 6081;
constexpr uint16_t kPortGtpU = 2152;
constexpr uint16_t kPortTeredo = 3544;

constexpr int kMaxL2Layers = 16;   // VLAN/MPLS labels before we call the frame bogus
constexpr int kMaxIpv6ExtHeaders = 8;

// The decoding context shared by the decoders of one frame.
struct Decoder {
  const ParseOptions& options;
  PacketMeta& out;
  DeferredChecksum* deferred;  ///< non-null: record the checksum to verify instead of verifying it
  uint8_t depth = 0;

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
  FrameClass gre(const uint8_t* p, uint32_t captured) noexcept;
  FrameClass ppp(const uint8_t* p, uint32_t len) noexcept;
  bool enter_tunnel() noexcept { return ++depth <= options.max_tunnel_depth; }
};

FrameClass Decoder::ethernet(const uint8_t* p, uint32_t len) noexcept {
  if (len < 14) return FrameClass::kTruncated;
  return ethertype(load_be16(p + 12), p + 14, len - 14);
}

FrameClass Decoder::ethertype(uint16_t type, const uint8_t* p, uint32_t len) noexcept {
  for (int layer = 0; layer < kMaxL2Layers; ++layer) {
    switch (type) {
      case kEtherIpv4:
        return ipv4(p, len);
      case kEtherIpv6:
        return ipv6(p, len);
      case kEtherVlan:
      case kEtherQinq:
      case kEtherQinqOld:
        if (len < 4) return FrameClass::kTruncated;
        type = load_be16(p + 2);
        p += 4;
        len -= 4;
        continue;
      case kEtherMplsUc:
      case kEtherMplsMc: {
        // Walk the label stack to the bottom-of-stack bit, then guess the payload from its first nibble,
        // as Zeek does: 4/6 is IP, 0 is a pseudowire control word followed by Ethernet.
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
          if (len < 4) return FrameClass::kTruncated;
          return ethernet(p + 4, len - 4);
        }
        return ip_by_version(p, len);
      }
      case kEtherPppoeSession:
        if (len < 6) return FrameClass::kTruncated;
        return ppp(p + 6, len - 6);
      case kEtherPbb:
        // 802.1ah: 4-byte I-TAG, then the customer's MAC addresses and ethertype.
        if (len < 18) return FrameClass::kTruncated;
        type = load_be16(p + 16);
        p += 18;
        len -= 18;
        continue;
      case kEtherFabricPath:
        // Cisco FabricPath: 2-byte FTag/TTL after the outer ethertype, then the original frame.
        if (len < 16) return FrameClass::kTruncated;
        type = load_be16(p + 14);
        p += 16;
        len -= 16;
        continue;
      default:
        return FrameClass::kNotIp;
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
  if (proto == 0x0021) return ipv4(p, len);
  if (proto == 0x0057) return ipv6(p, len);
  return FrameClass::kNotIp;
}

FrameClass Decoder::ip_by_version(const uint8_t* p, uint32_t len) noexcept {
  if (len < 1) return FrameClass::kTruncated;
  switch (p[0] >> 4) {
    case 4:
      return ipv4(p, len);
    case 6:
      return ipv6(p, len);
    default:
      return FrameClass::kNotIp;
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
  const uint16_t frag = load_be16(p + 6);
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
        return l4(next, p, 6, h + off, payload - off, captured - off, first_fragment);
    }
    if (captured < off + ext_len) return FrameClass::kTruncated;
    next = h[off];
    off += ext_len;
  }
  return FrameClass::kBadIpHeader;
}

FrameClass Decoder::l4(uint8_t proto, const uint8_t* ip, uint8_t ip_version, const uint8_t* p, uint32_t l4_len,
                    uint32_t captured, bool first_fragment) noexcept {
  switch (proto) {
    case kProtoTcp:
      return tcp(ip, ip_version, p, l4_len, captured, first_fragment);
    case kProtoUdp:
      if (first_fragment) return FrameClass::kNotTcp;
      return udp(p, captured);
    case kProtoGre:
      if (!enter_tunnel()) return FrameClass::kTunnelUnsupported;
      return gre(p, captured);
    case kProtoIpInIp:
      if (!enter_tunnel()) return FrameClass::kTunnelUnsupported;
      return ipv4(p, captured);
    case kProtoIpv6InIp:
      if (!enter_tunnel()) return FrameClass::kTunnelUnsupported;
      return ipv6(p, captured);
    default:
      return FrameClass::kNotTcp;
  }
}

// One's-complement sum of `len` bytes (RFC 1071): 32-bit words added into four 64-bit accumulators, which
// cannot overflow for any IP packet, so the loop needs no carry handling; fold() reduces to 16 bits.
uint64_t ones_sum(const uint8_t* p, uint32_t len, uint64_t acc) noexcept {
#if defined(__AVX512BW__)
  // AVX-512: 64 bytes per step, and the last 1-63 bytes in one masked load, which reads only the bytes
  // asked for (masked-out bytes never fault) and zero-fills the rest: exactly the zero padding an odd
  // final byte needs. No scalar tail, which was most of the work for a typical 100-200 byte segment.
  const __m512i zero = _mm512_setzero_si512();
  __m512i s0 = zero, s1 = zero;
  // 32-bit words widened to 64-bit lanes by interleaving with zero. The zero-masking forms with a full mask
  // are the plain instructions; the plain intrinsics trip GCC 12's false -Wmaybe-uninitialized (bug 105593).
  const auto add_words = [&](__m512i v) {
    s0 = _mm512_add_epi64(s0, _mm512_maskz_unpacklo_epi32(0xffff, v, zero));
    s1 = _mm512_add_epi64(s1, _mm512_maskz_unpackhi_epi32(0xffff, v, zero));
  };
  while (len >= 64) {
    add_words(_mm512_loadu_si512(p));
    p += 64;
    len -= 64;
  }
  if (len != 0) add_words(_mm512_maskz_loadu_epi8((uint64_t{1} << len) - 1, p));
  alignas(64) uint64_t lanes[8];
  _mm512_store_si512(lanes, _mm512_add_epi64(s0, s1));
  for (uint64_t lane : lanes) acc += lane;
  return acc;
#else
  uint64_t a = 0, b = 0, c = 0, d = 0;
#if defined(__AVX2__) || defined(__SSE2__)
  // SIMD: the same 32-bit words, widened to 64-bit lanes by interleaving with zero and added lane-wise
  // (the sum is order-independent). The checksum was a fifth of replay's instructions with the scalar
  // loop below (~1 instruction per byte); this takes ~8 per 64 bytes.
  if (len >= 64) {
#if defined(__AVX2__)
    const __m256i zero = _mm256_setzero_si256();
    __m256i s0 = zero, s1 = zero;
    while (len >= 64) {
      const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
      const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
      s0 = _mm256_add_epi64(s0, _mm256_unpacklo_epi32(v0, zero));
      s1 = _mm256_add_epi64(s1, _mm256_unpackhi_epi32(v0, zero));
      s0 = _mm256_add_epi64(s0, _mm256_unpacklo_epi32(v1, zero));
      s1 = _mm256_add_epi64(s1, _mm256_unpackhi_epi32(v1, zero));
      p += 64;
      len -= 64;
    }
    alignas(32) uint64_t lanes[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), _mm256_add_epi64(s0, s1));
#else
    const __m128i zero = _mm_setzero_si128();
    __m128i s0 = zero, s1 = zero;
    while (len >= 64) {
      for (int k = 0; k < 4; ++k) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
        s0 = _mm_add_epi64(s0, _mm_unpacklo_epi32(v, zero));
        s1 = _mm_add_epi64(s1, _mm_unpackhi_epi32(v, zero));
      }
      p += 64;
      len -= 64;
    }
    alignas(16) uint64_t lanes[4];
    _mm_store_si128(reinterpret_cast<__m128i*>(lanes), s0);
    _mm_store_si128(reinterpret_cast<__m128i*>(lanes + 2), s1);
#endif
    a = lanes[0];
    b = lanes[1];
    c = lanes[2];
    d = lanes[3];
  }
#endif
  while (len >= 16) {
    uint32_t w[4];
    std::memcpy(w, p, 16);
    a += w[0];
    b += w[1];
    c += w[2];
    d += w[3];
    p += 16;
    len -= 16;
  }
  while (len >= 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    a += w;
    p += 4;
    len -= 4;
  }
  // 0-3 final bytes, zero-padded on the right. Loaded as a word and a byte, not memcpy'd into a zeroed
  // word: a load after narrower stores to the same word misses store forwarding.
  uint32_t tail = 0;
  if (len & 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    tail = w;
    p += 2;
  }
  if (len & 1) tail += static_cast<uint32_t>(*p) << (std::endian::native == std::endian::little ? 0 : 8);
  return acc + a + b + c + d + tail;
#endif
}

uint16_t fold(uint64_t acc) noexcept {
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffffu) + (acc >> 16);
  acc = (acc & 0xffffu) + (acc >> 16);
  acc = (acc & 0xffffu) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}

bool tcp_checksum_ok(const uint8_t* ip, uint8_t ip_version, const uint8_t* seg, uint32_t seg_len) noexcept {
  // Pseudo-header: the addresses are summed straight from the IP header, the protocol and the length are
  // added as the 16-bit words they are on the wire (htons = the pair of wire bytes loaded natively). The
  // one's-complement sum is byte-order independent as long as every term is loaded the same way, and fold()
  // reduces modulo 0xffff, where a 16-bit word counts the same at any position of the accumulator.
  // (Built in a stack buffer with byte stores, the word loads that followed missed store forwarding: a
  // third of the parse time on an RX core.)
  uint64_t acc = ip_version == 4 ? ones_sum(ip + 12, 8, 0) : ones_sum(ip + 8, 32, 0);
  acc += htons(kProtoTcp);
  acc += htons(static_cast<uint16_t>(seg_len));
  // Each part is summed from its own start, so every part must begin on an even byte of the 16-bit word
  // sequence: the address blocks (8 and 32 bytes) are even, and an odd final byte of the segment is
  // zero-padded on the right by the tail load in ones_sum().
  acc = ones_sum(seg, seg_len, acc);
  return fold(acc) == 0xffff;
}

FrameClass Decoder::tcp(const uint8_t* ip, uint8_t ip_version, const uint8_t* p, uint32_t l4_len,
                     uint32_t captured, bool first_fragment) noexcept {
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
    std::memcpy(out.dst.bytes.data(), ip + 24, 16);
  }
  out.ip_version = ip_version;
  out.src_port = load_be16(p);
  out.dst_port = load_be16(p + 2);
  out.seq = load_be32(p + 4);
  out.ack = load_be32(p + 8);
  out.flags = p[13];
  out.window = load_be16(p + 14);
  out.tcp_header_len = static_cast<uint16_t>(doff);
  out.payload_len = l4_len - doff;
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
  // A first fragment or a short snaplen does not hold the whole segment: its checksum cannot be checked.
  if (options.verify_checksums && !first_fragment && captured >= l4_len) {
    if (deferred != nullptr) {
      *deferred = DeferredChecksum{ip, p, l4_len, ip_version};
    } else if (!tcp_checksum_ok(ip, ip_version, p, l4_len)) {
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
    if (!enter_tunnel()) return FrameClass::kTunnelUnsupported;
    return ethernet(d + 8, len - 8);
  }
  if (either(kPortGeneve)) {
    if (len < 8) return FrameClass::kNotTcp;
    const uint32_t hdr = 8 + (d[0] & 0x3fu) * 4;
    if (len < hdr) return FrameClass::kTruncated;
    if (!enter_tunnel()) return FrameClass::kTunnelUnsupported;
    return ethertype(load_be16(d + 2), d + hdr, len - hdr);
  }
  if (either(kPortGtpU)) {
    // GTPv1-U G-PDU: 8-byte header, +4 when any of E/S/PN is set, then a chain of extension headers.
    if (len < 8 || (d[0] >> 5) != 1 || (d[0] & 0x10) == 0 || d[1] != 0xff) return FrameClass::kNotTcp;
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
  if (either(kPortTeredo)) {
    // Teredo (RFC 4380): optional authentication and origin-indication headers, then bare IPv6.
    uint32_t off = 0;
    if (len >= 2 && d[0] == 0x00 && d[1] == 0x01) {
      if (len < 4) return FrameClass::kNotTcp;
      off = 4u + d[2] + d[3] + 8 + 1;
    }
    if (len >= off + 2 && d[off] == 0x00 && d[off + 1] == 0x00) off += 8;
    if (len < off + 40 || (d[off] >> 4) != 6) return FrameClass::kNotTcp;
    if (uint32_t{load_be16(d + off + 4)} + 40 > len - off) return FrameClass::kNotTcp;  // not a real IPv6 packet
    if (!enter_tunnel()) return FrameClass::kTunnelUnsupported;
    return ipv6(d + off, len - off);
  }
  return FrameClass::kNotTcp;
}

FrameClass Decoder::gre(const uint8_t* p, uint32_t len) noexcept {
  if (len < 4) return FrameClass::kTruncated;
  const uint8_t f = p[0];
  const uint8_t version = p[1] & 0x07;
  const uint16_t proto = load_be16(p + 2);
  uint32_t hdr = 4;
  if (version == 0) {
    if (f & 0xc0) hdr += 4;  // checksum and/or routing present
    if (f & 0x20) hdr += 4;  // key
    if (f & 0x10) hdr += 4;  // sequence
    if (f & 0x40) return FrameClass::kTunnelUnsupported;  // source routing entries: obsolete, not decoded
  } else if (version == 1) {
    // Enhanced GRE (PPTP): key always present, optional sequence and acknowledgement.
    hdr += 4;
    if (f & 0x10) hdr += 4;
    if (p[1] & 0x80) hdr += 4;
    if (len < hdr) return FrameClass::kTruncated;
    if (proto != kEtherPpp) return FrameClass::kTunnelUnsupported;
    if (len == hdr) return FrameClass::kNotTcp;  // ack-only packet
    return ppp(p + hdr, len - hdr);
  } else {
    return FrameClass::kTunnelUnsupported;
  }
  if (len < hdr) return FrameClass::kTruncated;
  p += hdr;
  len -= hdr;
  switch (proto) {
    case kEtherTransparentBridging:
      return ethernet(p, len);
    case kEtherErspan2:
      if (len < 8) return FrameClass::kTruncated;
      return ethernet(p + 8, len - 8);
    case kEtherErspan3: {
      if (len < 12) return FrameClass::kTruncated;
      const uint32_t extra = (p[11] & 0x01) ? 8 : 0;  // optional platform-specific subheader
      if (len < 12 + extra) return FrameClass::kTruncated;
      return ethernet(p + 12 + extra, len - 12 - extra);
    }
    default:
      return ethertype(proto, p, len);
  }
}

}  // namespace

bool link_type_from_number(uint32_t number, LinkType& out) noexcept {
  switch (number) {
    case 0: out = LinkType::kNull; return true;
    case 1: out = LinkType::kEthernet; return true;
    case 12:  // DLT_RAW on most BSDs and Linux
    case 14:  // DLT_RAW on OpenBSD
    case 101: out = LinkType::kRaw; return true;
    case 108: out = LinkType::kLoop; return true;
    case 113: out = LinkType::kLinuxSll; return true;
    case 228: out = LinkType::kIpv4; return true;
    case 229: out = LinkType::kIpv6; return true;
    case 276: out = LinkType::kLinuxSll2; return true;
    default: return false;
  }
}

bool DeferredChecksum::ok() const noexcept { return ip == nullptr || tcp_checksum_ok(ip, ip_version, segment, length); }

FrameClass parse_frame(LinkType link, const uint8_t* data, uint32_t caplen, const ParseOptions& options,
                    PacketMeta& out, DeferredChecksum* deferred) noexcept {
  if (deferred != nullptr) deferred->ip = nullptr;
  Decoder d{options, out, deferred};
  out.tunnel_depth = 0;
  FrameClass v;
  switch (link) {
    case LinkType::kEthernet:
      v = d.ethernet(data, caplen);
      break;
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
    case LinkType::kRaw:
      v = d.ip_by_version(data, caplen);
      break;
    case LinkType::kIpv4:
      v = d.ipv4(data, caplen);
      break;
    case LinkType::kIpv6:
      v = d.ipv6(data, caplen);
      break;
    case LinkType::kLinuxSll:
      if (caplen < 16) return FrameClass::kTruncated;
      v = d.ethertype(load_be16(data + 14), data + 16, caplen - 16);
      break;
    case LinkType::kLinuxSll2:
      if (caplen < 20) return FrameClass::kTruncated;
      v = d.ethertype(load_be16(data), data + 20, caplen - 20);
      break;
    default:
      v = FrameClass::kNotIp;
  }
  out.tunnel_depth = d.depth;
  return v;
}

std::string_view frame_class_name(FrameClass v) noexcept {
  switch (v) {
    case FrameClass::kTcp: return "tcp";
    case FrameClass::kNotIp: return "not_ip";
    case FrameClass::kNotTcp: return "not_tcp";
    case FrameClass::kFragment: return "fragment";
    case FrameClass::kTunnelUnsupported: return "tunnel_unsupported";
    case FrameClass::kTruncated: return "truncated";
    case FrameClass::kBadL2: return "bad_l2";
    case FrameClass::kBadIpHeader: return "bad_ip_header";
    case FrameClass::kBadTcpHeader: return "bad_tcp_header";
    case FrameClass::kBadChecksum: return "bad_checksum";
    case FrameClass::kCount: break;
  }
  return "unknown";
}

std::string_view frame_category(FrameClass v) noexcept {
  switch (v) {
    case FrameClass::kTcp: return "tcp";
    case FrameClass::kNotIp:
    case FrameClass::kNotTcp:
    case FrameClass::kTunnelUnsupported: return "not_tcp";
    case FrameClass::kFragment: return "fragment";
    default: return "malformed";
  }
}

namespace {

/// Each byte's decimal text, padded to 4 bytes, with its length in the last one: an octet is one 4-byte copy.
constexpr auto kOctetText = [] {
  std::array<std::array<char, 4>, 256> t{};
  for (unsigned v = 0; v < 256; ++v) {
    uint8_t n = 0;
    if (v >= 100) t[v][n++] = static_cast<char>('0' + v / 100);
    if (v >= 10) t[v][n++] = static_cast<char>('0' + v / 10 % 10);
    t[v][n++] = static_cast<char>('0' + v % 10);
    t[v][3] = static_cast<char>(n);
  }
  return t;
}();

/// "a.b.c.d" from four bytes; returns the length written (7..15). Writes up to 16 bytes of `buf`.
size_t format_dotted_quad(const uint8_t* b, char* buf) noexcept {
  size_t n = 0;
  for (int i = 0; i < 4; ++i) {
    const std::array<char, 4>& text = kOctetText[b[i]];
    std::memcpy(buf + n, text.data(), 4);  // the 4th byte is overwritten by the dot or the next octet
    n += static_cast<size_t>(text[3]);
    buf[n++] = '.';
  }
  return n - 1;
}

}  // namespace

size_t format_ip(const IpAddr& addr, uint8_t ip_version, char* buf, size_t buf_len) noexcept {
  // By hand, not inet_ntop: glibc's goes through sprintf per group, and on a capture with IPv6 it was a
  // third of the instructions of a session's JSON line. The output is inet_ntop's, character for character
  // (RFC 5952: lower-case hex without leading zeros, the first longest run of two or more zero groups as
  // "::", and ::a.b.c.d / ::ffff:a.b.c.d for IPv4-compatible and -mapped addresses); a unit test compares.
  const uint8_t* b = addr.bytes.data();
  if (ip_version != 6) {
    if (buf_len < 16) return 0;
    const size_t n = format_dotted_quad(b, buf);
    buf[n] = '\0';
    return n;
  }
  if (buf_len < 46) return 0;  // INET6_ADDRSTRLEN
  uint16_t words[8];
  for (int i = 0; i < 8; ++i) words[i] = static_cast<uint16_t>(b[2 * i] << 8 | b[2 * i + 1]);
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (words[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && words[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best = -1;
  static constexpr char kHex[] = "0123456789abcdef";
  size_t n = 0;
  for (int i = 0; i < 8; ++i) {
    if (best >= 0 && i >= best && i < best + best_len) {
      if (i == best) buf[n++] = ':';
      continue;
    }
    if (i != 0) buf[n++] = ':';
    if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff))) {
      n += format_dotted_quad(b + 12, buf + n);
      buf[n] = '\0';
      return n;
    }
    const unsigned w = words[i];
    for (int shift = w >= 0x1000 ? 12 : w >= 0x100 ? 8 : w >= 0x10 ? 4 : 0; shift >= 0; shift -= 4) {
      buf[n++] = kHex[(w >> shift) & 0xf];
    }
  }
  if (best >= 0 && best + best_len == 8) buf[n++] = ':';
  buf[n] = '\0';
  return n;
}

bool parse_ip(std::string_view text, IpAddr& out, uint8_t& ip_version) noexcept {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof(buf)) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  out = IpAddr{};
  if (inet_pton(AF_INET, buf, out.bytes.data()) == 1) {
    ip_version = 4;
    return true;
  }
  if (inet_pton(AF_INET6, buf, out.bytes.data()) == 1) {
    ip_version = 6;
    return true;
  }
  return false;
}

}  // namespace synscope::packet
