// table: the one list of synscope's live metrics. Each row says what a metric is called, what it means,
// its Prometheus type, how its samples are read from a live::Snapshot, and under which keys it appears in
// rte_telemetry's `/synscope/stats`. The /metrics Collector (collector.cpp) and the telemetry handler
// (telemetry.cpp) both walk it, so a metric is added, renamed or removed here once.
//
// The table is constant data; a row's reader is a pure function of one Reading, which the caller (a
// civetweb thread or DPDK's telemetry thread) builds from its own snapshot: safe from any thread. Internal
// to lib/metrics.
#pragma once

#include <prometheus/client_metric.h>
#include <prometheus/metric_type.h>

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "live/live.hpp"

namespace synscope::metrics {

using Labels = std::vector<prometheus::ClientMetric::Label>;

/// What a metric reads: one snapshot and the totals derived from it once per scrape or request.
struct Reading {
  const live::Snapshot& snapshot;
  const engine::EngineCounters& totals;  ///< live::merged_engine_counters(snapshot)
  const live::RxTotals& rx;              ///< live::rx_totals(snapshot)
};

/// Receives the samples of one metric, in the order they are to be shown.
class Samples {
 public:
  virtual ~Samples() = default;
  /// A count (or a gauge that counts things): exact in telemetry, a double in Prometheus.
  virtual void add(Labels labels, uint64_t value) = 0;
  /// A measurement (seconds, a score): Prometheus only.
  virtual void add(Labels labels, double value) = 0;
  /// A histogram (the metric's type is Histogram): Prometheus only.
  virtual void add(prometheus::ClientMetric::Histogram histogram) = 0;
};

/// One key of `/synscope/stats` taken from a metric's count samples:
/// - `label` empty: `key` is the sum of all samples (0 when there are none);
/// - `label` and `value` set: `key` is the sum of the samples whose `label` is `value`;
/// - `label` set, `value` empty: one key per value of `label` (first-seen order), `key` + "_" + value,
///   each the sum of the samples with that value.
struct TelemetryKey {
  std::string_view key{};  ///< empty: no key
  std::string_view label{};
  std::string_view value{};
};

/// When a metric is shown.
enum class Shown : uint8_t {
  kAlways,
  kWithDetector,         ///< only while the stats core runs the detector (--alerts-out)
  kWithDetectorSamples,  ///< only while the detector runs and the metric has samples (bounded series)
};

/// One row of the table.
struct Metric {
  std::string_view name{};  ///< Prometheus family name; empty: not on /metrics (telemetry only)
  std::string_view help{};
  prometheus::MetricType type = prometheus::MetricType::Counter;
  Shown shown = Shown::kAlways;
  void (*read)(const Reading&, Samples&) = nullptr;  ///< adds the samples, in /metrics order
  std::array<TelemetryKey, 3> telemetry{};           ///< keys in /synscope/stats (none: not there)
};

/// Every metric, in /metrics order.
[[nodiscard]] std::span<const Metric> metric_table() noexcept;

/// True when `m` is shown for this reading (its detector condition holds).
[[nodiscard]] inline bool is_shown(const Metric& m, const Reading& r) noexcept {
  return m.shown == Shown::kAlways || r.snapshot.stats_core.detector_enabled != 0;
}

}  // namespace synscope::metrics
