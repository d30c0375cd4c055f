// backtest: scores a recorded series (`timestamp,value` CSV, NAB's layout) with the metric-series detector (detector::MetricModel) and
// writes `timestamp,value,anomaly_score` (score / 100), so NAB's scorer can judge the detector. Runs on
// the calling thread.
#pragma once

#include <string>

#include "detector/detector.hpp"
#include "detector/metric_model.hpp"

namespace synscope::backtest {

struct BacktestConfig {
  std::string input;
  std::string output;
  detector::MetricConfig model;
  detector::AlertPolicy policy;
  bool raw_scores = false;  ///< write every bucket's score instead of alert transitions only
};

/// Scores `config.input` into `config.output` (the bucket span is the median spacing of the rows). Throws
/// Error: kInput naming the file and line of an unreadable or malformed row, kOutput when the output
/// cannot be opened or written.
void run(BacktestConfig config);

}  // namespace synscope::backtest
