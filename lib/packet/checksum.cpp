// checksum: the TCP checksum (RFC 1071 one's-complement sum over the pseudo-header and the segment), in
// the variant the build's ISA allows (AVX-512, AVX2/SSE2, or scalar), chosen at compile time.
//
// Pure functions over caller-owned bytes: no state, safe from any thread. parse_frame calls
// tcp_checksum_ok() on the thread that parses; a DeferredChecksum is checked by whichever thread holds it
// while the frame is still in memory.
#include "packet/checksum.hpp"

#if defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

#include <arpa/inet.h>

#include <bit>
#include <cstring>

namespace synscope::packet {
namespace {

constexpr uint8_t kProtoTcp = 6;  // the pseudo-header's protocol field

// One's-complement sum of `len` bytes (RFC 1071): 32-bit words added into four 64-bit accumulators, which
// cannot overflow for any IP packet, so the loop needs no carry handling; fold() reduces to 16 bits.
uint64_t ones_sum(const uint8_t* p, uint32_t len, uint64_t acc) noexcept {
#if defined(__AVX512BW__)
  // AVX-512: 64 bytes per step, and the last 1-63 bytes in one masked load, which reads only the bytes
  // asked for (masked-out bytes never fault) and zero-fills the rest: exactly the zero padding an odd
  // final byte needs. No scalar tail, which would be most of the work for a typical 100-200 byte segment.
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
  // (the sum is order-independent): about 8 instructions per 64 bytes, where the scalar loop below takes
  // about one per byte.
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

}  // namespace

bool tcp_checksum_ok_sum(const uint8_t* ip, uint8_t ip_version, uint32_t seg_len, uint64_t seg_sum,
                         const uint8_t* final_dst) noexcept {
  // Pseudo-header: the addresses are summed straight from the IP header, the protocol and the length are
  // added as the 16-bit words they are on the wire (htons = the pair of wire bytes loaded natively). The
  // one's-complement sum is byte-order independent as long as every term is loaded the same way, and fold()
  // reduces modulo 0xffff, where a 16-bit word counts the same at any position of the accumulator.
  // Not copied into a pseudo-header buffer: word loads right after byte stores miss store forwarding.
  uint64_t acc = ip_version == 4        ? ones_sum(ip + 12, 8, 0)
                 : final_dst == nullptr ? ones_sum(ip + 8, 32, 0)
                                        : ones_sum(final_dst, 16, ones_sum(ip + 8, 16, 0));
  acc += htons(kProtoTcp);
  acc += htons(static_cast<uint16_t>(seg_len));
  return fold(acc + seg_sum) == 0xffff;
}

bool tcp_checksum_ok(const uint8_t* ip, uint8_t ip_version, const uint8_t* seg, uint32_t seg_len,
                     const uint8_t* final_dst) noexcept {
  // Each part is summed from its own start, so every part must begin on an even byte of the 16-bit word
  // sequence: the address blocks (8 and 32 bytes) are even, and an odd final byte of the segment is
  // zero-padded on the right by the tail load in ones_sum().
  return tcp_checksum_ok_sum(ip, ip_version, seg_len, ones_sum(seg, seg_len, 0), final_dst);
}

uint16_t ones_complement_sum(const uint8_t* p, uint32_t len) noexcept { return fold(ones_sum(p, len, 0)); }

bool DeferredChecksum::ok() const noexcept {
  return ip == nullptr || tcp_checksum_ok(ip, ip_version, segment, length, final_dst);
}

}  // namespace synscope::packet
