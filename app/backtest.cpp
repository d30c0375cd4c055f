// backtest: see backtest.hpp.
#include "backtest.hpp"

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
  cmd->add_option("--profile-alpha", out.model.profile_alpha, "Learning rate of a seasonal cell per visit")
      ->check(finite_range(0.001, 1.0))
      ->capture_default_str();
  cmd->add_option("--drift-alpha", out.model.drift_alpha, "Learning rate of the level drift per bucket")
      ->check(finite_range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--scale-alpha", out.model.scale_alpha, "Learning rate of the global scale per bucket")
      ->check(finite_range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--clip-sigma", out.model.clip_sigma, "Updates clip values to expected +- this many scales")
      ->check(finite_range(0.5, 100.0))
      ->capture_default_str();
  cmd->add_option("--cusum-slack", out.model.cusum_slack, "CUSUM allowance in scale units")
      ->check(finite_range(0.0, 10.0))
      ->capture_default_str();
  cmd->add_option("--rel-scale-floor", out.model.rel_scale_floor, "Scale floor as a fraction of the level")
      ->check(finite_range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--tail-growth", out.model.tail_growth, "Most the typical maximum z may grow per bucket (factor)")
      ->check(finite_range(1.0, 100.0));
  cmd->add_option("--tail-halflife-days", out.model.tail_halflife_days, "Half-life of the series' typical maximum z")
      ->check(finite_range(0.01, 365.0))
      ->capture_default_str();
  cmd->add_option("--score-halving", out.model.score_halving, "Evidence above the knee that halves the distance to 100")
      ->check(finite_range(0.1, 100.0))
      ->capture_default_str();
  cmd->add_flag("!--not-counts", out.model.counts, "Values are not counts: no Poisson floor on the scale");
  cmd->add_option("--tail-freeze-score", out.model.tail_freeze_score,
                  "After warm-up, buckets scoring at least this do not teach the typical maximum z (101 = never)")
      ->check(finite_range(0.0, 101.0))
      ->capture_default_str();
  cmd->add_flag(
      "--weekend-profile", out.model.weekend_profile,
      "Before a week of history, learn Saturdays and Sundays apart from weekdays (on for failed-session alerts)");
  return cmd;
}

int run_backtest(const BacktestOptions& options) {
  backtest::run(options);
  return 0;
}

}  // namespace synscope::app
