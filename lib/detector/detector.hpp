// detector: seasonal baseline, tail-probability score and alert decision for one series of per-bucket
// counts (failed sessions per perspective, per server, ...) or any non-negative measurement.
//
// Pure and single-threaded: a SeriesModel is a small fixed-size value (no allocation after construction,
// no I/O, no threads), so the stats/control side can keep thousands of them in one vector and update them
// with a parallel_for over series. Nothing here runs on an RX lcore.
//
// Model, per series:
//  * expected(t) = profile[slot(t)] + drift. The profile has one cell per hour of the week once a week of
//    data exists (each day's own shape), per hour of the day before that — with `weekend_profile`, kept
//    apart for weekdays and weekends, so a quiet first weekend does not make Monday morning look like a
//    surge — and a single global level during the first day. drift is a slow mean of residuals, so a level
//    shift is learned in hours while the seasonal shape is learned over days (with separate weekend hours,
//    weekend residuals teach their profile, not the drift).
//  * Robust to contamination: every update uses the value clipped to expected ± clip_sigma · scale, so an
//    anomalous hour moves the baseline by at most a few scales, not to the anomaly.
//  * Scale per cell: a mean absolute deviation, floored by the Poisson standard deviation sqrt(expected)
//    and by a small fraction of the level; for counts z is also capped by Anscombe's variance-stabilised
//    Poisson deviate, so counts near zero do not produce huge z-scores.
//  * Evidence: the bucket itself (z) and a one-sided CUSUM of z (a sustained moderate rise is an anomaly
//    too). Each is calibrated by its own recent tail (a decaying maximum, at least 3: bursty series see
//    big z-scores daily), the stronger calibrated one counts, and it is mapped to 0-100 without
//    saturating: score = 100 · (1 - 2^-((e - knee) / halving)); with the defaults e = 3 → 34, 5 → 62,
//    8 → 83. Separate tails matter for spiky series: one usual spike sets z's tail, so a run of usual
//    spikes (or a long moderate rise) must be judged against how far the CUSUM usually climbs, not z's.
//  * Warm-up (the first day) caps the score, and the tails are not learned from it: z-scores of a model
//    that has not seen a day are not evidence of how bursty the series is. An incident in the first hours
//    used to set the tail for days (NAB's iio series: a z = 80 spike at hour 17 hid the labelled rise
//    eight hours later).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace synscope::detector {

/// Elastic's severity bands.
enum class Severity : uint8_t { kNone, kWarning, kMinor, kMajor, kCritical };
[[nodiscard]] Severity severity_of(double score) noexcept;  ///< warning >= 3, minor >= 25, major >= 50, critical >= 75
[[nodiscard]] std::string_view severity_name(Severity s) noexcept;

/// The struct's defaults are the settings failed-session series used before CountModel (count_model.hpp):
/// slow learning, so a two-hour surge does not become the baseline. metric_series_config() has the faster
/// settings `synscope backtest` uses for general metric series.
struct DetectorConfig {
  double bucket_s = 60;             ///< bucket span (sets how many buckets a day has)
  double profile_alpha = 0.25;      ///< per-visit learning rate of a profile cell (days to adapt ≈ 1/alpha)
  double drift_alpha = 0.02;        ///< per-bucket learning rate of the level drift
  double scale_alpha = 0.05;        ///< learning rate of the global scale
  double clip_sigma = 3.0;          ///< updates use the value clipped to expected ± clip_sigma · scale
  double rel_scale_floor = 0.02;    ///< scale >= this fraction of |expected|
  double cusum_slack = 1.0;         ///< CUSUM allowance k (in z units)
  double warmup_days = 1.0;         ///< scores capped, and the series' tails not learned, until this much history
  double warmup_cap = 40.0;         ///< the cap (below major) during warm-up
  bool counts = true;               ///< Poisson floor on the scale (series of counts)
  double score_knee = 1.5;          ///< calibrated evidence below this scores 0
  double score_halving = 2.5;       ///< evidence above the knee that halves the distance to 100
  double tail_halflife_days = 2.0;  ///< how fast a series' typical maximum z is forgotten
  double tail_growth = 2.0;         ///< per bucket, the typical maximum z grows at most by this factor
  /// After warm-up, a bucket scoring at least this leaves the typical maximum z as it is: an incident is
  /// not the series' normal burstiness, and learning it would hide the next, smaller incident for days.
  /// 101 (never) suits NAB's scoring, where a series' big spikes recur and are mostly not labelled.
  double tail_freeze_score = 101;
  bool weekend_profile = false;  ///< separate hour-of-day profiles for Saturdays/Sundays before a week exists
};

/// Settings for general metric series (CPU, bytes, request and tweet counts), the defaults of
/// `synscope backtest`. Against the struct's defaults: profile cells and the level drift learn about twice
/// as fast (a level shift in a metric is the new normal within hours; a failed-session surge must not be),
/// updates are clipped tighter (2.25 scales), a smaller CUSUM allowance (0.2) lets long moderate rises add
/// up, and a series' typical maximum z may grow 4x per bucket and halves over 2.5 days. Chosen by a search
/// on NAB's 20 files; docs/detector.md lists the neighbours' scores (the score moves in steps of one label
/// window, ~3.6 points).
[[nodiscard]] DetectorConfig metric_series_config() noexcept;

/// One scored bucket.
struct Scored {
  double actual = 0;
  double typical = 0;  ///< expected value for this bucket
  double upper = 0;    ///< expected + 3 scales: values above this are unusual
  double score = 0;    ///< 0-100
  Severity severity = Severity::kNone;
  /// CountModel only: the smallest tail probability over its windows, the window it came from (buckets) and
  /// that window's observed and expected sums. SeriesModel leaves p = 1 and the window at this bucket.
  double p = 1;
  uint32_t window = 1;
  double window_actual = 0;
  double window_expected = 0;
};

/// The model of one series. Fixed size; trivially copyable, so it can be saved as bytes.
class SeriesModel {
 public:
  /// Scores `value` observed in the bucket starting at `ts_s` (epoch seconds), then learns from it.
  Scored observe(double ts_s, double value, const DetectorConfig& cfg) noexcept;
  /// Buckets seen so far.
  [[nodiscard]] uint64_t buckets() const noexcept { return n_; }

 private:
  static constexpr int kHoursPerWeek = 168;
  struct Cell {
    float level = 0;
    float mad = 0;
    uint16_t visits = 0;
  };
  [[nodiscard]] double expected_and_scale(double ts_s, const DetectorConfig& cfg, int& week_cell, int& day_cell,
                                          double& scale) const noexcept;

  std::array<Cell, kHoursPerWeek> week_{};
  std::array<std::array<Cell, 24>, 2> day_{};  ///< hour of day: [0] weekdays, [1] Saturdays and Sundays
  double first_ts_ = 0;
  double level_ = 0;  ///< global level (first day)
  double mad_ = 0;    ///< global scale
  double drift_ = 0;
  double cusum_ = 0;
  double tail_z_ = 0;  ///< decaying maximum of z: what "large" means for this series
  double tail_c_ = 0;  ///< decaying maximum of cusum_ / 2: what a "long" rise means for this series
  uint64_t n_ = 0;
};

/// Alert state of one series: fires when the score reaches `fire_score`, resolves after `resolve_buckets`
/// consecutive buckets below `resolve_score` (hysteresis), so one incident is one alert however long.
struct AlertPolicy {
  double fire_score = 50;
  double resolve_score = 25;
  uint32_t resolve_buckets = 3;
  double min_excess = 0;  ///< actual - typical must exceed this to fire (ignore tiny absolute rises)
  /// alerts::AlertEngine: how many per-server series to keep beside the per-perspective ones (the servers
  /// with the most failed sessions, recently); 0 = per-perspective series only.
  uint32_t server_series = 1000;
  /// alerts::AlertEngine: the detector's bucket in seconds. Record buckets are summed into spans of this
  /// length (rounded to a whole number of record buckets, at least one) before they are scored, so a short
  /// record bucket (60 s) still gives each series enough events per bucket to be judged (docs/detector.md).
  double detector_bucket_s = 300;
};

enum class Transition : uint8_t { kNone, kFiring, kEscalated, kResolved };

class AlertState {
 public:
  /// Feeds one scored bucket; returns the transition it caused, if any.
  Transition update(const Scored& s, const AlertPolicy& policy) noexcept;
  [[nodiscard]] bool firing() const noexcept { return firing_; }
  [[nodiscard]] double peak_score() const noexcept { return peak_; }

 private:
  bool firing_ = false;
  double peak_ = 0;
  uint32_t quiet_ = 0;
};

}  // namespace synscope::detector
