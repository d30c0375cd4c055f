// backtest: see backtest.hpp.
#include "backtest.hpp"

#include <cmath>
#include <ctime>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "output/output.hpp"

namespace synscope::app {

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
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::vector<Row> rows;
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const size_t comma = line.find(',');
    if (comma == std::string::npos) throw std::runtime_error(path + ":" + std::to_string(line_no) + ": expected timestamp,value");
    Row r;
    r.ts_text = line.substr(0, comma);
    const std::string value = line.substr(comma + 1);
    const bool ts_ok = parse_time(r.ts_text, r.ts_s);
    if (line_no == 1 && !ts_ok) continue;  // header
    char* end = nullptr;
    r.value = std::strtod(value.c_str(), &end);
    if (!ts_ok || end == value.c_str() || !std::isfinite(r.value)) {
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": bad row '" + line + "'");
    }
    if (!rows.empty() && r.ts_s < rows.back().ts_s) {
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": timestamps go backwards");
    }
    rows.push_back(std::move(r));
  }
  if (rows.size() < 2) throw std::runtime_error(path + ": needs at least two rows");
  return rows;
}

}  // namespace

CLI::App* add_backtest_command(CLI::App& app, BacktestOptions& out) {
  CLI::App* cmd = app.add_subcommand("backtest", "Score a timestamp,value CSV with the seasonal detector (NAB layout)");
  cmd->add_option("--input", out.input, "Series CSV: timestamp,value (header optional)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--output", out.output, "Scored CSV: timestamp,value,anomaly_score ('-' = stdout)")->required();
  cmd->add_flag("--raw-scores", out.raw_scores,
                "Write every bucket's score; default: the score only where an alert fires or escalates, 0 elsewhere");
  cmd->add_option("--fire-score", out.policy.fire_score, "Score at which an alert fires")
      ->check(CLI::Range(0.0, 100.0))->capture_default_str();
  cmd->add_option("--resolve-score", out.policy.resolve_score, "Score below which an alert starts to resolve")
      ->check(CLI::Range(0.0, 100.0))->capture_default_str();
  cmd->add_option("--resolve-buckets", out.policy.resolve_buckets, "Quiet buckets before an alert resolves")
      ->check(CLI::Range(1u, 10000u))->capture_default_str();
  cmd->add_option("--profile-alpha", out.model.profile_alpha, "Learning rate of a seasonal cell per visit")
      ->check(CLI::Range(0.001, 1.0))->capture_default_str();
  cmd->add_option("--drift-alpha", out.model.drift_alpha, "Learning rate of the level drift per bucket")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--scale-alpha", out.model.scale_alpha, "Learning rate of the global scale per bucket")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--clip-sigma", out.model.clip_sigma, "Updates clip values to expected +- this many scales")
      ->check(CLI::Range(0.5, 100.0))->capture_default_str();
  cmd->add_option("--cusum-slack", out.model.cusum_slack, "CUSUM allowance in scale units")
      ->check(CLI::Range(0.0, 10.0))->capture_default_str();
  cmd->add_option("--rel-scale-floor", out.model.rel_scale_floor, "Scale floor as a fraction of the level")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--tail-growth", out.model.tail_growth, "Most the typical maximum z may grow per bucket (factor)")
      ->check(CLI::Range(1.0, 100.0));
  cmd->add_option("--tail-halflife-days", out.model.tail_halflife_days, "Half-life of the series' typical maximum z")
      ->check(CLI::Range(0.01, 365.0))->capture_default_str();
  cmd->add_option("--score-halving", out.model.score_halving, "Evidence above the knee that halves the distance to 100")
      ->check(CLI::Range(0.1, 100.0))->capture_default_str();
  cmd->add_flag("!--not-counts", out.model.counts, "Values are not counts: no Poisson floor on the scale");
  cmd->add_option("--tail-freeze-score", out.model.tail_freeze_score,
                  "After warm-up, buckets scoring at least this do not teach the typical maximum z (101 = never)")
      ->check(CLI::Range(0.0, 101.0))
      ->capture_default_str();
  cmd->add_flag("--weekend-profile", out.model.weekend_profile,
                "Before a week of history, learn Saturdays and Sundays apart from weekdays (on for failed-session alerts)");
  return cmd;
}

int run_backtest(BacktestOptions options) {
  const std::vector<Row> rows = read_series(options.input);
  // Bucket span = the median spacing of the rows.
  std::vector<double> gaps;
  for (size_t i = 1; i < rows.size(); ++i) gaps.push_back(rows[i].ts_s - rows[i - 1].ts_s);
  std::nth_element(gaps.begin(), gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2), gaps.end());
  options.model.bucket_s = std::max(1.0, gaps[gaps.size() / 2]);

  output::OutputFile out(options.output);
  out.write("timestamp,value,anomaly_score\n", 30);
  detector::SeriesModel model;
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
  if (!out.flush()) throw std::runtime_error(options.output + ": write failed");
  return 0;
}

}  // namespace synscope::app
