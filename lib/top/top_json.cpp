// top/top_json: see top.hpp (append_json).
#include <string>

#include "tcp_session/tcp_session.hpp"
#include "top/top.hpp"

namespace synscope::top {

void append_json(const View& v, std::string& out) {
  out += "{\"version\":1,\"late_sessions\":" + std::to_string(v.late_sessions) + ",\"windows\":{";
  for (size_t w = 0; w < kWindows; ++w) {
    if (w > 0) out += ',';
    out += '"';
    out += window_name(static_cast<Window>(w));
    out += "\":{\"from\":" + std::to_string(v.from_s[w]) + ",\"to\":" + std::to_string(v.to_s[w]);
    for (size_t k = 0; k < kKinds; ++k) {
      const auto kind = static_cast<Kind>(k);
      out += ",\"";
      out += kind_name(kind);
      out += "\":[";
      const View::List& l = v.lists[w][k];
      for (size_t i = 0; i < l.size; ++i) {
        const Counter& c = l.entries[i];
        if (i > 0) out += ',';
        // Keys are addresses, ports and " -> ": nothing to escape.
        out += "{\"key\":\"" + key_text(kind, c.key) + "\",\"count\":" + std::to_string(c.count) +
               ",\"error\":" + std::to_string(c.error) + ",\"reasons\":{";
        bool first = true;
        for (size_t r = 0; r < kReasons; ++r) {
          if (c.reasons[r] == 0) continue;
          if (!first) out += ',';
          first = false;
          out += '"';
          out += tcp_session::kFailedStates[r].reason;
          out += "\":" + std::to_string(c.reasons[r]);
        }
        out += "}}";
      }
      out += ']';
    }
    out += '}';
  }
  out += "}}\n";
}

}  // namespace synscope::top
