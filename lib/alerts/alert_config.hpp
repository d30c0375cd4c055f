// alerts/alert_config: the settings of an AlertEngine.
//
// Plain values, built at start-up (replay or the live stats core) and then only read by the engine's thread.
#pragma once

#include <cstdint>

#include "detector/detector.hpp"

namespace synscope::alerts {

/// The detector settings for failed-session series. One large incident (a SYN flood scoring z = 50) must
/// not make the model blind to the next one for days, so a series' typical maximum z may grow only 25% per
/// bucket here (the backtest's metric-series settings allow 4x, which suits NAB's one-detection-per-window
/// scoring). Network traffic is quieter at weekends: before a week of history exists, weekend hours learn
/// their own profile, so Monday morning is not compared with Sunday (`backtest` leaves it off unless asked:
/// NAB's series have no such week). An incident does not teach a series what "large" means
/// (tail_freeze_score = the fire score): after a flood the typical maximum z stays at the normal noise's, so
/// the next, small rise still scores.
inline detector::DetectorConfig failed_session_detector() noexcept {
  detector::DetectorConfig c;
  c.tail_growth = 1.25;
  c.weekend_profile = true;
  c.tail_freeze_score = 50;
  return c;
}

struct AlertConfig {
  detector::DetectorConfig detector = failed_session_detector();
  detector::AlertPolicy policy;
  /// Client-over-server view (ElastiFlow's "high count over clients, partitioned by server"): a client
  /// fires `failed_sessions_client` when, in one bucket, its failed attempts at a server reach
  /// `client_min` and are at least `client_ratio` times those of that server's next busiest client.
  uint64_t client_min = 20;
  double client_ratio = 10;
  uint64_t bucket_span_ns = 60'000'000'000;
  uint64_t bucket_settle_ns = 360'000'000'000;
};

/// The alert settings for buckets of `span_ns` that wait `settle_ns` for running sessions (the engine's
/// bucket settings: replay and the live stats core build the engine the same way).
inline AlertConfig alert_config(const detector::AlertPolicy& policy, uint64_t span_ns, uint64_t settle_ns) {
  AlertConfig c;
  c.policy = policy;
  c.bucket_span_ns = span_ns;
  c.bucket_settle_ns = settle_ns;
  return c;
}

}  // namespace synscope::alerts
