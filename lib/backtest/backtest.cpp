// backtest: see backtest.hpp.
#include "backtest/backtest.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <vector>

#include "error/error.hpp"
#include "output/output.hpp"

namespace synscope::backtest {

namespace {

struct Row {
  std::string ts_text;
  double ts_s;
  double value;
};

/// "YYYY-MM-DD HH:MM:SS[.frac]" (UTC) or epoch seconds.
bool parse_time(const std::string& text, double& out) {
  std::tm tm{};
  int y, mo, d, h, mi;
  double s;
  if (std::sscanf(text.c_str(), "%d-%d-%d%*[ T]%d:%d:%lf", &y, &mo, &d, &h, &mi, &s) == 6) {
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    out = static_cast<double>(timegm(&tm)) + s;
    return true;
  }
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end != text.c_str() && *end == '\0';
}

std::vector<Row> read_series(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorKind::kInput, path + ": cannot open");
  std::vector<Row> rows;
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const size_t comma = line.find(',');
    if (comma == std::string::npos)
      throw Error(ErrorKind::kInput, path + ":" + std::to_string(line_no) + ": expected timestamp,value");
    Row r;
    r.ts_text = line.substr(0, comma);
    const std::string value = line.substr(comma + 1);
    const bool ts_ok = parse_time(r.ts_text, r.ts_s);
    if (line_no == 1 && !ts_ok) continue;  // header
    char* end = nullptr;
    r.value = std::strtod(value.c_str(), &end);
    if (!ts_ok || end == value.c_str() || !std::isfinite(r.value)) {
      throw Error(ErrorKind::kInput, path + ":" + std::to_string(line_no) + ": bad row '" + line + "'");
    }
    if (!rows.empty() && r.ts_s < rows.back().ts_s) {
      throw Error(ErrorKind::kInput, path + ":" + std::to_string(line_no) + ": timestamps go backwards");
    }
    rows.push_back(std::move(r));
  }
  if (rows.size() < 2) throw Error(ErrorKind::kInput, path + ": needs at least two rows");
  return rows;
}

}  // namespace

void run(BacktestConfig options) {
  const std::vector<Row> rows = read_series(options.input);
  // Bucket span = the median spacing of the rows.
  std::vector<double> gaps;
  for (size_t i = 1; i < rows.size(); ++i) gaps.push_back(rows[i].ts_s - rows[i - 1].ts_s);
  std::nth_element(gaps.begin(), gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2), gaps.end());
  options.model.bucket_s = std::max(1.0, gaps[gaps.size() / 2]);

  output::OutputFile out(options.output);
  out.write("timestamp,value,anomaly_score\n", 30);
  detector::MetricModel model;
  detector::AlertState alert;
  char buf[128];
  for (const Row& r : rows) {
    const detector::Scored s = model.observe(r.ts_s, r.value, options.model);
    const detector::Transition t = alert.update(s, options.policy);
    double emitted = s.score;
    if (!options.raw_scores) {
      emitted = (t == detector::Transition::kFiring || t == detector::Transition::kEscalated) ? s.score : 0.0;
    }
    out.write(r.ts_text.data(), r.ts_text.size());
    const int n = std::snprintf(buf, sizeof(buf), ",%.10g,%.6f\n", r.value, emitted / 100.0);
    out.write(buf, static_cast<size_t>(n));
  }
  if (!out.flush()) throw Error(ErrorKind::kOutput, options.output + ": write failed");
}

}  // namespace synscope::backtest
