// detector/metric_model: the calibrated model of one continuous metric series (CPU, latency, bytes, request
// rates: what `synscope backtest` scores): an expected value, a heavy-tailed tail probability of what was
// observed, and the same fixed map from that probability to 0-100 as CountModel (score_of_p).
//
// Pure and single-threaded like CountModel: a fixed-size trivially copyable value, no allocation, no I/O, no
// exceptions (Boost.Math with an errno policy).
//
// Model (docs/detector.md has the why of each choice):
//  * expected(t) = level + offset(t). The offset is an hour-of-day cell, weekdays and weekends apart: a cell
//    keeps decayed sums of residuals from the level and of their weight, and its offset is their posterior
//    mean shrunk toward its prior (0 for a weekday hour, the weekday hour's offset for a weekend hour) by
//    empirical Bayes: a = noise variance / spread of the true offsets (the weekday cells' mean square less
//    their noise), at least one bucket; a series without a daily
//    shape gets none from its noise, one with a strong shape learns it in a few days. Prediction interpolates between hour centres; a bucket teaches its own hour only. The level
//    is an exponentially weighted mean of value - offset (half-life level_halflife_hours).
//  * Residuals r = value - expected. Evidence over the last 1, 3 and 12 buckets: z = the window's mean
//    residual over its own robust scale (a decayed mean absolute deviation of that window's mean residual,
//    learned online), so a series whose residuals are autocorrelated (most metrics) is judged by how far its
//    window means really wander, not by 1/sqrt(w).
//  * The tail of z is the series' own, by peaks over threshold (Pickands; SPOT, Siffer et al., KDD 2017):
//    above u = tail_threshold scales, excesses follow a generalised Pareto distribution fitted by moments
//    from decayed sums (fixed state) with a prior of a few pseudo-excesses; p = rate(z > u) × survival of
//    z - u. The shape is kept in [0, 1/2]: light-tailed noise is judged as exponential beyond u
//    (conservative). Scales are floored at half the series' resolution (the smallest
//    step seen between values): a quantised series is not known better than its quantum.
//  * Direction: rises only (the default, like failed sessions), or both (two-sided, counted as two tests).
//  * Score: score_of_p(min(1, tests × p_min)), tests = windows × directions: the same map as CountModel.
//  * Learning: a bucket whose corrected p <= gate_p teaches nothing (level, offsets, scales) for at most
//    max_gate_hours in a row, then the series follows its data (a level shift is adopted at the level's
//    pace). The first warmup_days learn from everything and score at most warmup_cap.
#pragma once

#include <array>
#include <cstdint>

#include "detector/detector.hpp"

namespace synscope::detector {

enum class Direction : uint8_t { kUp, kBoth };

/// Settings of MetricModel. None was chosen on a public corpus (docs/detector.md says why each is what it is).
struct MetricConfig {
  double bucket_s = 300;             ///< the series' bucket span
  double level_halflife_hours = 24;  ///< the level forgets half its weight over this long (>= a day: see docs)
  double shape_halflife_days = 10;   ///< an hour cell forgets half its sums over this many visits (days)
  double scale_halflife_days = 3;    ///< the scales' memory
  double clip_scales = 8;            ///< one bucket moves a scale by at most this many scales
  double tail_threshold = 1.5;       ///< u: excesses of z over this many scales are the tail
  double tail_prior_excesses = 2;    ///< pseudo-excesses of the prior tail (shape 0.1, sigma 1 scale)
  double gate_p = 1e-3;              ///< a bucket with corrected p at most this does not teach the model
  double max_gate_hours = 3;         ///< ... for at most this long in a row
  double warmup_days = 2;            ///< scores capped for this long (day 1: level; day 2: scales, cells)
  double warmup_cap = 40;            ///< the cap during warm-up (below the fire score)
  Direction direction = Direction::kUp;
};

/// The model of one metric series. Fixed size; trivially copyable.
class MetricModel {
 public:
  /// Scores `value` observed in the bucket starting at `ts_s` (epoch seconds), then learns from it unless
  /// it is gated. Fills Scored::p, window, window_actual and window_expected (window sums).
  Scored observe(double ts_s, double value, const MetricConfig& cfg) noexcept;

  [[nodiscard]] uint64_t buckets() const noexcept { return n_; }

 private:
  static constexpr size_t kRing = 12;
  struct Cells {
    std::array<float, 24> sum{};     ///< decayed residuals from the level
    std::array<float, 24> weight{};  ///< decayed buckets
  };
  /// Pseudo-buckets pulling a cell toward its prior: noise variance over the spread of the true offsets.
  [[nodiscard]] double shrinkage(const MetricConfig& cfg) const noexcept;
  [[nodiscard]] double offset(size_t kind, size_t h, double shrinkage) const noexcept;
  /// P(Z >= z) for window `w` from its peaks-over-threshold fit (1 at or below the threshold).
  [[nodiscard]] double tail(size_t w, double z, const MetricConfig& cfg) const noexcept;

  std::array<Cells, 2> cells_{};  ///< [0] weekdays, [1] Saturdays and Sundays
  std::array<float, kRing> ring_r_{};
  std::array<float, kRing> ring_mu_{};
  std::array<float, kRing> ring_x_{};
  std::array<double, 3> scale_sum_{};  ///< per window: decayed |mean residual|
  std::array<double, 3> scale_w_{};    ///< per window: decayed weight (buckets)
  std::array<double, 3> exc_n_{};      ///< per window: decayed count of z > u
  std::array<double, 3> exc_s1_{};     ///< per window: decayed sum of z - u over those
  std::array<double, 3> exc_s2_{};     ///< per window: decayed sum of (z - u)^2 over those
  double level_ = 0;
  double prev_ = 0;
  double quantum_ = 0;  ///< smallest positive step between consecutive values seen (0: none yet)
  double alert_from_ts_ = 0;
  uint64_t n_ = 0;
  uint32_t gated_ = 0;
  uint32_t ring_filled_ = 0;
};

}  // namespace synscope::detector
