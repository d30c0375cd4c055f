// ip_text: an IpAddr as text and back (dotted quad, RFC 5952 IPv6), for session records, alerts and the
// --internal network list.
//
// Pure functions over caller-owned buffers: no allocation, no state beyond a constant table, safe from any
// thread.
#include "packet/ip_text.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace synscope::packet {
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
  // By hand, not inet_ntop: glibc's goes through sprintf per group, and this runs for every session
  // record written. The output is inet_ntop's, character for character
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
