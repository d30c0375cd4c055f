// alerts/alert_line: see alert_line.hpp.
#include "alerts/alert_line.hpp"

#include <algorithm>
#include <cstdio>

namespace synscope::alerts {

namespace {

constexpr size_t kMaxAlertLine = 2048;

/// `v` with `decimals` digits after the point, as printf's "%.*f" writes it.
void put_fixed(output::LineBuffer& line, double v, int decimals) noexcept {
  char text[400];  // the longest double in %f: 309 digits, a sign, a point and the decimals
  const int n = std::snprintf(text, sizeof(text), "%.*f", decimals, v);
  if (n > 0) line.raw(std::string_view(text, std::min<size_t>(static_cast<size_t>(n), sizeof(text) - 1)));
}

}  // namespace

void TopList::add(std::string_view kind, std::string_view value, uint64_t count) noexcept {
  if (line_.size() > 0) line_.raw(",");
  line_.raw("{\"kind\":\"");
  line_.raw(kind);
  line_.raw("\",\"value\":\"");
  line_.raw(value);
  line_.raw("\",\"count\":");
  line_.u64(count);
  line_.raw("}");
}

void AlertWriter::write(uint64_t start_ns, AlertMetric metric, std::string_view perspective, std::string_view partition,
                        const detector::Scored& s, LineState state, const TopList& top) noexcept {
  // A client line's actual and typical are counts; a series' typical and upper are model values.
  const bool client = metric == AlertMetric::kFailedSessionsClient;
  const bool resolved = state == LineState::kResolved;
  char buf[kMaxAlertLine];
  output::LineBuffer line(buf);
  line.raw("{\"ts\":");
  line.u64(start_ns / 1'000'000'000);
  line.raw(client ? ",\"metric\":\"failed_sessions_client\",\"perspective\":\""
                  : ",\"metric\":\"failed_sessions\",\"perspective\":\"");
  line.raw(perspective);
  line.raw("\",\"partition\":\"");
  line.raw(partition);
  line.raw("\",\"actual\":");
  put_fixed(line, s.actual, 0);
  line.raw(",\"typical\":");
  put_fixed(line, s.typical, client ? 0 : 3);
  line.raw(",\"upper\":");
  put_fixed(line, s.upper, client ? 1 : 3);
  line.raw(",\"score\":");
  put_fixed(line, s.score, 1);
  line.raw(",\"severity\":\"");
  line.raw(detector::severity_name(detector::severity_of(resolved ? 0 : s.score)));
  line.raw(resolved ? "\",\"state\":\"resolved\"" : "\",\"state\":\"firing\"");
  if (!client) {  // the evidence: the window's tail probability and sums (docs/outputs.md)
    char p[32];
    const int n = std::snprintf(p, sizeof(p), "%.3g", s.p);
    line.raw(",\"p\":");
    if (n > 0) line.raw(std::string_view(p, std::min<size_t>(static_cast<size_t>(n), sizeof(p) - 1)));
    line.raw(",\"window\":");
    line.u64(s.window);
    line.raw(",\"window_actual\":");
    put_fixed(line, s.window_actual, 0);
    line.raw(",\"window_expected\":");
    put_fixed(line, s.window_expected, 3);
  }
  line.raw(",\"top\":[");
  line.raw(top.text());
  line.raw("]}\n");
  if (!line.overflowed()) out_.write(line.data(), line.size());
  ++written_;
}

}  // namespace synscope::alerts
