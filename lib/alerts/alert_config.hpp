// alerts/alert_config: the settings of an AlertEngine.
//
// Plain values, built at start-up (replay or the live stats core) and then only read by the engine's thread.
#pragma once

#include <algorithm>
#include <cmath>

#include <cstdint>

#include "detector/count_model.hpp"
#include "detector/detector.hpp"

namespace synscope::alerts {

struct AlertConfig {
  /// The count model's settings (detector/count_model.hpp); the engine sets bucket_s to its detector bucket
  /// (AlertPolicy::detector_bucket_s rounded) and fire_score to the policy's.
  detector::CountConfig counts;
  detector::AlertPolicy policy;
  /// The prior of a per-server series at admission: this many failed sessions a day, as strong as one event
  /// (a server earns a series by failing twice in one record bucket; one that had not earned it yet failed
  /// rarely, so its first burst is judged against "about once a day", not against itself).
  double server_prior_per_day = 1;
  /// Client-over-server view (ElastiFlow's "high count over clients, partitioned by server"): a client
  /// fires `failed_sessions_client` when, in one bucket, its failed attempts at a server reach
  /// `client_min` and are at least `client_ratio` times those of that server's next busiest client.
  uint64_t client_min = 20;
  double client_ratio = 10;
  uint64_t bucket_span_ns = 60'000'000'000;
  uint64_t bucket_settle_ns = 360'000'000'000;
};

/// The detector bucket: `want_s` rounded to a whole number of `record_ns` buckets, at least one.
inline uint64_t detector_span_ns(double want_s, uint64_t record_ns) {
  const auto n = static_cast<uint64_t>(std::llround(std::max(want_s, 0.0) * 1e9 / static_cast<double>(record_ns)));
  return std::max<uint64_t>(n, 1) * record_ns;
}

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
