// destination: see destination.hpp.
#include "ipfix/destination.hpp"

namespace synscope::ipfix {

bool parse_destination(std::string_view url, Destination& out, std::string& why) {
  out = Destination{};
  out.text = std::string(url);
  if (url.rfind("file:", 0) == 0) {
    out.kind = TransportKind::kFile;
    out.path = std::string(url.substr(5));
    if (out.path.empty()) {
      why = "file: needs a path (file:PATH)";
      return false;
    }
    return true;
  }
  std::string_view rest;
  if (url.rfind("udp://", 0) == 0) {
    out.kind = TransportKind::kUdp;
    rest = url.substr(6);
  } else if (url.rfind("tcp://", 0) == 0) {
    out.kind = TransportKind::kTcp;
    rest = url.substr(6);
  } else {
    why = "not udp://HOST:PORT, tcp://HOST:PORT or file:PATH";
    return false;
  }
  std::string_view host, port;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      why = "an IPv6 host is written [ADDRESS]:PORT";
      return false;
    }
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      why = "no port (HOST:PORT)";
      return false;
    }
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      why = "an IPv6 host is written [ADDRESS]:PORT";
      return false;
    }
  }
  if (host.empty()) {
    why = "no host (HOST:PORT)";
    return false;
  }
  uint32_t p = 0;
  for (char c : port) {
    if (c < '0' || c > '9' || p > 65535) {
      p = 70000;
      break;
    }
    p = p * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port.empty() || p == 0 || p > 65535) {
    why = "the port must be a number 1-65535";
    return false;
  }
  out.host = std::string(host);
  out.port = static_cast<uint16_t>(p);
  return true;
}

}  // namespace synscope::ipfix
