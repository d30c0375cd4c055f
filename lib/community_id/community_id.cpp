// community_id: see community_id.hpp.
//
// SHA-1 through libcrypto's SHA1_Init/Update/Final on a stack SHA_CTX. OpenSSL 3 marks them deprecated in
// favour of EVP, but OpenSSL 3.0's EVP_DigestInit allocates and frees a provider context for every digest
// (and the one-shot SHA1() fetches the algorithm each time): the low-level calls are pure computation on
// caller memory, need no per-thread context and take half the time. OPENSSL_API_COMPAT declares them
// without the deprecation attribute (openssl_user_macros(7)), for this file only.
#define OPENSSL_API_COMPAT 10101
#include "community_id/community_id.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstring>

namespace synscope::community_id {
namespace {

/// The spec's port equivalents of an ICMP message (its ICMPHelper): a request and its reply map to each
/// other, so both directions of an exchange hash alike; any other type is one-way (type, code), hashed in
/// the order seen.
struct IcmpPorts {
  uint16_t src, dst;
  bool one_way;
};

IcmpPorts icmp_ports(uint8_t proto, uint16_t type, uint16_t code) noexcept {
  int counterpart = -1;
  if (proto == kIcmp) {
    switch (type) {
      case 8: counterpart = 0; break;  // echo request / reply
      case 0: counterpart = 8; break;
      case 13: counterpart = 14; break;  // timestamp
      case 14: counterpart = 13; break;
      case 15: counterpart = 16; break;  // information
      case 16: counterpart = 15; break;
      case 10: counterpart = 9; break;   // router solicitation -> advertisement (the spec maps this way only)
      case 17: counterpart = 18; break;  // address mask
      case 18: counterpart = 17; break;
      default: break;
    }
  } else {
    switch (type) {
      case 128: counterpart = 129; break;  // echo request / reply
      case 129: counterpart = 128; break;
      case 133: counterpart = 134; break;  // router solicitation / advertisement
      case 134: counterpart = 133; break;
      case 135: counterpart = 136; break;  // neighbor solicitation / advertisement
      case 136: counterpart = 135; break;
      case 130: counterpart = 131; break;  // multicast listener query / report
      case 131: counterpart = 130; break;
      case 139: counterpart = 140; break;  // node information query / reply ("who are you")
      case 140: counterpart = 139; break;
      case 144: counterpart = 145; break;  // home agent address discovery request / reply
      case 145: counterpart = 144; break;
      default: break;
    }
  }
  if (counterpart < 0) return {type, code, true};
  return {type, static_cast<uint16_t>(counterpart), false};
}

}  // namespace

size_t format(const FlowTuple& flow, uint16_t seed, char* out) noexcept {
  if (flow.ip_version != 4 && flow.ip_version != 6) return 0;
  const size_t addr_len = flow.ip_version == 4 ? 4 : 16;
  const bool has_ports =
      flow.proto == kTcp || flow.proto == kUdp || flow.proto == kSctp || flow.proto == kIcmp || flow.proto == kIcmp6;
  uint16_t sport = flow.src_port, dport = flow.dst_port;
  bool one_way = false;
  if (flow.proto == kIcmp || flow.proto == kIcmp6) {
    const IcmpPorts p = icmp_ports(flow.proto, flow.src_port, flow.dst_port);
    sport = p.src;
    dport = p.dst;
    one_way = p.one_way;
  }
  // The smaller address first (bytes compared as unsigned, network order), the smaller port on a tie;
  // without ports equal addresses need no swap.
  const int cmp = std::memcmp(flow.src.bytes.data(), flow.dst.bytes.data(), addr_len);
  const bool keep = one_way || cmp < 0 || (cmp == 0 && (!has_ports || sport < dport));
  const packet::IpAddr& a = keep ? flow.src : flow.dst;
  const packet::IpAddr& b = keep ? flow.dst : flow.src;
  const uint16_t pa = keep ? sport : dport, pb = keep ? dport : sport;

  // seed(2) addr(4|16) addr(4|16) proto(1) pad(1) [port(2) port(2)]: at most 40 bytes, all big-endian.
  uint8_t input[40];
  size_t n = 0;
  input[n++] = static_cast<uint8_t>(seed >> 8);
  input[n++] = static_cast<uint8_t>(seed);
  std::memcpy(input + n, a.bytes.data(), addr_len);
  n += addr_len;
  std::memcpy(input + n, b.bytes.data(), addr_len);
  n += addr_len;
  input[n++] = flow.proto;
  input[n++] = 0;
  if (has_ports) {
    input[n++] = static_cast<uint8_t>(pa >> 8);
    input[n++] = static_cast<uint8_t>(pa);
    input[n++] = static_cast<uint8_t>(pb >> 8);
    input[n++] = static_cast<uint8_t>(pb);
  }
  uint8_t digest[SHA_DIGEST_LENGTH];
  SHA_CTX ctx;
  SHA1_Init(&ctx);
  SHA1_Update(&ctx, input, n);
  SHA1_Final(digest, &ctx);

  // Base64 (RFC 4648, padded) of the 20 bytes: 28 characters; EVP_EncodeBlock adds a NUL, which `out`
  // has no room for.
  char text[kTextLength - 2 + 1];
  static_assert(sizeof(text) == 4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1);
  (void)EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text), digest, SHA_DIGEST_LENGTH);
  out[0] = '1';
  out[1] = ':';
  std::memcpy(out + 2, text, kTextLength - 2);
  return kTextLength;
}

}  // namespace synscope::community_id
