// detector: what every series model shares: a scored bucket, Elastic's severity bands, and the alert state
// that turns scores into one alert per incident (fire, escalate, resolve with hysteresis).
//
// The models are detector::CountModel (counts of failed sessions: count_model.hpp) and detector::MetricModel
// (continuous metric series, `synscope backtest`: metric_model.hpp). Both are pure fixed-size values updated
// by the stats/control side; nothing here runs on an RX lcore.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace synscope::detector {

/// Elastic's severity bands.
enum class Severity : uint8_t { kNone, kWarning, kMinor, kMajor, kCritical };
[[nodiscard]] Severity severity_of(double score) noexcept;  ///< warning >= 3, minor >= 25, major >= 50, critical >= 75
[[nodiscard]] std::string_view severity_name(Severity s) noexcept;

/// One scored bucket.
struct Scored {
  double actual = 0;
  double typical = 0;  ///< expected value for this bucket
  double upper = 0;    ///< expected + 3 standard deviations (scales): values above this are unusual
  double score = 0;    ///< 0-100
  Severity severity = Severity::kNone;
  /// Named padding, always zero: a model file holds Scored values byte for byte, and unnamed padding
  /// would carry whatever the stack held (two saves of one model differed).
  uint8_t reserved0[7] = {};
  /// The smallest tail probability over the model's windows, the window it came from (buckets) and that
  /// window's observed and expected sums.
  double p = 1;
  uint32_t window = 1;
  uint32_t reserved1 = 0;
  double window_actual = 0;
  double window_expected = 0;
};
static_assert(sizeof(Scored) == 72 && offsetof(Scored, p) == 40 && offsetof(Scored, window_actual) == 56,
              "the model file (kModelVersion) holds Scored byte for byte: its layout may not move");

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
