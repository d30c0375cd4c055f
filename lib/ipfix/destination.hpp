// destination: where IPFIX goes (--ipfix-out): udp://HOST:PORT, tcp://HOST:PORT or file:PATH.
//
// Parsed at start-up by the options (a bad value is a usage error naming the option) and again by the
// exporter. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace synscope::ipfix {

enum class TransportKind : uint8_t { kUdp, kTcp, kFile };

struct Destination {
  TransportKind kind = TransportKind::kUdp;
  std::string host;  ///< udp/tcp: a name, an IPv4 address or an IPv6 address (written [addr] in the URL)
  uint16_t port = 0;
  std::string path;  ///< file
  std::string text;  ///< the URL as given, for messages
};

/// Parses `url`. False with `why` saying what is wrong (no scheme, no port, a port out of 1-65535, an
/// empty host or path).
[[nodiscard]] bool parse_destination(std::string_view url, Destination& out, std::string& why);

}  // namespace synscope::ipfix
