// ip_text: the address type of a parsed packet and its text form (dotted quad or RFC 5952 IPv6).
//
// Plain values and pure functions over caller-owned buffers: no allocation, safe from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace synscope::packet {

/// An IPv4 or IPv6 address; IPv4 is stored in the first 4 bytes with the rest zero.
struct IpAddr {
  std::array<uint8_t, 16> bytes{};
  friend bool operator==(const IpAddr&, const IpAddr&) = default;
};

/// Formats an address as text (dotted quad or RFC 5952 IPv6, as inet_ntop writes it) into `buf`, with a
/// terminating NUL. Returns the length written, or 0 (nothing written) when `buf_len` is under 16 bytes
/// for IPv4 or 46 (INET6_ADDRSTRLEN) for IPv6.
size_t format_ip(const IpAddr& addr, uint8_t ip_version, char* buf, size_t buf_len) noexcept;

/// Parses dotted-quad or IPv6 text into `out` and `ip_version` (4 or 6); false if malformed.
[[nodiscard]] bool parse_ip(std::string_view text, IpAddr& out, uint8_t& ip_version) noexcept;

}  // namespace synscope::packet
