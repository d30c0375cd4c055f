// frame_class: the names of the frame classes parse_frame returns, as the `reason` and `class` labels of
// the counters and summaries.
//
// Pure functions over constant strings: safe from any thread.
#include "packet/frame_class.hpp"

namespace synscope::packet {

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

}  // namespace synscope::packet
