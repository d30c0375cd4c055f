// detector/count_model: the calibrated model of one series of per-bucket event counts (failed sessions of a
// perspective, of their total, of one server): an expected rate, an exact tail probability of what was
// observed, and a fixed map from that probability to a 0-100 score.
//
// Pure and single-threaded: a CountModel is a fixed-size trivially copyable value (saved
// as bytes in the model file), updated by whichever thread owns it (the alerts side, in a parallel_for over
// series). No allocation, no I/O, no exceptions (Boost.Math is called with an errno policy).
//
// Model (docs/detector.md has the why of each choice):
//  * expected(t) = level × shape(t). A weekday hour-of-day cell keeps decayed sums of counts S and of the
//    level they were observed under E; its shape is the gamma-Poisson posterior mean (S + a)/(E + a) with
//    a = CountConfig::shape_prior_counts pseudo-counts at the series mean (shape 1), so a sparse series
//    keeps a flat shape until its counts say otherwise. On Saturdays and Sundays the shape is the weekday
//    shape × a weekend hour's ratio (S + a·R)/(E + a), E counted under level × weekday shape and R the
//    whole weekend's ratio (a weekend hour not seen yet is the weekday's scaled like the rest of the
//    weekend). Prediction interpolates linearly between hour centres; a bucket teaches its own hour only. The level is the decayed count sum over the decayed sum
//    of shapes (half-life CountConfig::level_halflife_days), floored at one event a week.
//  * Evidence: over the last 1, 3 and 12 buckets, X = observed sum, M = expected sum,
//    p = P(X' >= X) for X' negative binomial with mean M and 1/size = max(phi_w, u). phi_w is the window's
//    overdispersion learned online by weighted least squares on E[(X-M)^2 - M] = phi M^2 (weights
//    M / (1 + 2M)) with a prior phi = 0 ± dispersion_prior_sd, so a sparse series, whose counts can hardly
//    tell Poisson from bursty, is not called bursty on one event; u = 1/S_level + 1/(S_cell + a) is
//    the relative variance of the estimate itself (large for a new or sparse series; the residuals phi is
//    learned on include it once the series is known), plus the weekend cells' own part on weekends.
//    phi = u = 0 is
//    Poisson. p is computed only for a window more than one standard deviation above its expectation
//    (else 1: it would score 0).
//  * Score: L = -log10(min(1, 3 p_min)) (Bonferroni over the three windows), score = clamp(10 (L - 1),
//    0, 100): 10^-3 → 20, 10^-6 → 50 (the fire score), 10^-8.5 → 75. The same map for every series.
//  * Learning: a bucket whose corrected p (3 p_min) <= gate_p teaches neither the level nor the shape, for
//    at most max_gate_hours in a row; every bucket is learned 3 buckets late, and not at all if an alert
//    fired in between (an incident's first buckets score below the fire score); a window holding a bucket
//    that scored the fire score does not teach the dispersion; after that the new level is
//    learned (a real level shift is adopted, at the level's own pace).
//  * A fresh series without a prior takes its first bucket as its level and scores at most warmup_cap for
//    warmup_days; a series started with_prior() (a per-server series at admission) alerts at once.
#pragma once

#include <array>
#include <cstdint>

#include "detector/detector.hpp"

namespace synscope::detector {

/// Settings of CountModel. The defaults are the failed-session settings; none was chosen on a public corpus.
struct CountConfig {
  double bucket_s = 300;                ///< the detector's bucket span
  double shape_prior_counts = 10;       ///< pseudo-counts pulling a cell's shape toward its prior mean
  double shape_halflife_days = 10;      ///< a cell forgets half its sums over this many visits (days)
  double level_halflife_days = 3;       ///< the level forgets half its sums over this many days
  double dispersion_halflife_days = 3;  ///< the overdispersion estimates' memory
  double dispersion_prior_sd = 0.5;     ///< prior: phi ~ 0 (Poisson) with this spread
  double gate_p = 1e-3;                 ///< a bucket with its own p at most this does not teach the model
  double max_gate_hours = 3;            ///< ... for at most this long in a row (then a level shift is learned)
  double warmup_days = 1;               ///< a series without a prior does not alert for this long
  double warmup_cap = 40;               ///< the score's cap during warm-up (below the fire score)
  double fire_score = 50;               ///< gate: a bucket scoring this much does not teach the model
};

/// The fixed map from a tail probability (already corrected for the windows) to 0-100.
[[nodiscard]] double score_of_p(double p) noexcept;

/// P(X >= x) for X negative binomial with mean `mean` and 1/size `inv_size` (0: Poisson). 1 for x <= 0.
[[nodiscard]] double count_tail(double x, double mean, double inv_size) noexcept;

/// Windows (in buckets) the evidence is summed over.
inline constexpr std::array<uint32_t, 3> kCountWindows{1, 3, 12};

/// The model of one count series. Fixed size (see sizeof in docs/detector.md); trivially copyable.
class CountModel {
 public:
  /// A series that starts from a prior rate instead of its first value: `rate` events per bucket, as
  /// strongly as `counts` events of evidence; it may alert from `alert_from_ts` (epoch seconds) on.
  [[nodiscard]] static CountModel with_prior(double rate, double counts, double alert_from_ts) noexcept;

  /// Scores `count` observed in the bucket starting at `ts_s` (epoch seconds), then learns from it unless
  /// it is gated (see the header). Fills Scored::p, window, window_actual and window_expected.
  Scored observe(double ts_s, double count, const CountConfig& cfg) noexcept;

  [[nodiscard]] uint64_t buckets() const noexcept { return n_; }
  /// The level (events per bucket, deseasonalised).
  [[nodiscard]] double level() const noexcept;

 private:
  static constexpr size_t kRing = 12;
  static constexpr size_t kDelay = 3;
  /// What one bucket teaches, held kDelay buckets before it is learned (dropped if an alert fires).
  struct Pending {
    std::array<float, 3> num{};  ///< dispersion evidence per window
    std::array<float, 3> den{};
    float count = 0, exposure = 0, shape = 0, confidence = 0;
    uint8_t kind = 0, own = 0;
    bool valid = false;
    bool baseline = false;    ///< teaches the level and shape (not gated)
    bool dispersion = false;  ///< teaches the dispersion
  };
  void learn(const Pending& b, const CountConfig& cfg) noexcept;
  struct Cells {
    std::array<float, 24> s{};  ///< decayed counts
    std::array<float, 24> e{};  ///< decayed expected counts: the level (× the weekday shape, weekend cells)
  };
  /// phi of window `window` (see the header), at least 0.
  [[nodiscard]] double dispersion(size_t window, const CountConfig& cfg) const noexcept;
  /// The weekend's overall ratio to the weekday shape: the prior of a weekend hour not seen yet.
  [[nodiscard]] double weekend_ratio(const CountConfig& cfg) const noexcept;

  std::array<Cells, 2> cells_{};  ///< [0] weekdays, [1] Saturdays and Sundays
  std::array<float, kRing> ring_x_{};
  std::array<float, kRing> ring_mu_{};
  std::array<float, 3> disp_num_{};        ///< per window: decayed sum of g ((X - M)^2 - M)
  std::array<float, 3> disp_den_{};        ///< per window: decayed sum of g M^2
  std::array<Pending, kDelay> pending_{};  ///< [0] newest
  double level_s_ = 0;                     ///< decayed counts
  double level_e_ = 0;                     ///< decayed shapes (buckets weighted by their shape)
  double alert_from_ts_ = 0;
  uint64_t n_ = 0;
  uint32_t gated_ = 0;            ///< buckets in a row that taught nothing
  uint32_t ring_filled_ = 0;      ///< buckets in the ring (at most kRing)
  uint32_t since_alert_ = kRing;  ///< buckets since one scored the fire score (at most kRing)
  bool started_ = false;
};

}  // namespace synscope::detector
