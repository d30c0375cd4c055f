// backtest: scores a recorded series (`timestamp,value` CSV, NAB's layout) with the seasonal detector and
// writes `timestamp,value,anomaly_score` (score / 100), so NAB's scorer can judge the detector. Runs on
// the calling thread; start-up errors throw std::runtime_error naming the file and line.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "detector/detector.hpp"

namespace synscope::app {

struct BacktestOptions {
  std::string input;
  std::string output;
  detector::DetectorConfig model = detector::metric_series_config();
  detector::AlertPolicy policy;
  bool raw_scores = false;  ///< write every bucket's score instead of alert transitions only
};

CLI::App* add_backtest_command(CLI::App& app, BacktestOptions& out);

/// Returns an exit code (0 ok). Throws std::runtime_error on unreadable or malformed input.
int run_backtest(BacktestOptions options);

}  // namespace synscope::app
