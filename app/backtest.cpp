// backtest: see backtest.hpp.
#include "backtest.hpp"

#include <map>
#include "finite_range.hpp"

namespace synscope::app {

CLI::App* add_backtest_command(CLI::App& app, BacktestOptions& out) {
  CLI::App* cmd = app.add_subcommand("backtest", "Score a timestamp,value CSV with the seasonal detector (NAB layout)");
  cmd->add_option("--input", out.input, "Series CSV: timestamp,value (header optional)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--output", out.output, "Scored CSV: timestamp,value,anomaly_score ('-' = stdout)")->required();
  cmd->add_flag("--raw-scores", out.raw_scores,
                "Write every bucket's score; default: the score only where an alert fires or escalates, 0 elsewhere");
  cmd->add_option("--fire-score", out.policy.fire_score, "Score at which an alert fires")
      ->check(finite_range(0.0, 100.0))
      ->capture_default_str();
  cmd->add_option("--resolve-score", out.policy.resolve_score, "Score below which an alert starts to resolve")
      ->check(finite_range(0.0, 100.0))
      ->capture_default_str();
  cmd->add_option("--resolve-buckets", out.policy.resolve_buckets, "Quiet buckets before an alert resolves")
      ->check(CLI::Range(1u, 10000u))
      ->capture_default_str();
  cmd->add_option("--direction", out.model.direction,
                  "Which deviations are anomalies: up (rises only, like failed sessions) or both (two-sided)")
      ->transform(
          CLI::CheckedTransformer(std::map<std::string, detector::Direction>{{"up", detector::Direction::kUp},
                                                                             {"both", detector::Direction::kBoth}},
                                  CLI::ignore_case))
      ->capture_default_str();
  cmd->add_option("--level-halflife-hours", out.model.level_halflife_hours, "Half-life of the series' level")
      ->check(finite_range(0.01, 8760.0))
      ->capture_default_str();
  cmd->add_option("--warmup-days", out.model.warmup_days, "Scores are capped below the fire score for this long")
      ->check(finite_range(0.0, 365.0))
      ->capture_default_str();
  return cmd;
}

int run_backtest(const BacktestOptions& options) {
  backtest::run(options);
  return 0;
}

}  // namespace synscope::app
