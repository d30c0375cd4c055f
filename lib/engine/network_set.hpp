// network_set: the "internal networks" prefix list (--internal-nets) that decides a session's
// perspective. Built at start-up (add() allocates); contains() is read-only, allocation-free and safe to
// call from any number of threads once building is done.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "packet/packet.hpp"

namespace synscope::engine {

/// An IPv4/IPv6 prefix list ("internal networks").
class NetworkSet {
 public:
  /// Adds a CIDR such as "10.0.0.0/8" or "fc00::/7"; false (and nothing added) when malformed.
  [[nodiscard]] bool add(std::string_view cidr);
  [[nodiscard]] bool contains(const packet::IpAddr& addr, uint8_t ip_version) const noexcept;
  /// RFC 1918, 100.64.0.0/10 (CGNAT), 169.254.0.0/16, fc00::/7 and fe80::/10.
  static NetworkSet defaults();
  [[nodiscard]] const std::vector<std::string>& text() const noexcept { return text_; }

 private:
  /// A prefix as two masked 64-bit words (network byte order in memory), so a match is two ANDs and
  /// compares instead of a memcmp call per prefix (asked for both addresses of every new session).
  struct Prefix {
    uint64_t word[2];
    uint64_t mask[2];
    uint8_t ip_version;
  };
  std::vector<Prefix> prefixes_;
  std::vector<std::string> text_;
};

}  // namespace synscope::engine
