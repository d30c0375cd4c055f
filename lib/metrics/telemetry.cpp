// telemetry: the rte_telemetry side of the metric table: `/synscope/stats` (for dpdk-telemetry.py and
// Telegraf's dpdk input) is a flat dictionary of the table rows' telemetry keys, in table order.
//
// The handler runs on DPDK's telemetry thread and reads the DataPlane's published snapshot; the plane's
// address is set once by register_telemetry() before that thread can call it. No other state: thread-safe.
#include <rte_telemetry.h>

#include <string>

#include "metrics/metrics.hpp"
#include "metrics/table.hpp"

namespace synscope::metrics {
namespace {

const live::DataPlane* g_telemetry_plane = nullptr;  // set once before the EAL telemetry thread can call us

// Keeps a row's count samples, so each of its telemetry keys can sum the ones it names.
class CountSamples final : public Samples {
 public:
  struct Sample {
    Labels labels;
    uint64_t value;
  };
  void add(Labels labels, uint64_t value) override { samples_.push_back({std::move(labels), value}); }
  void add(Labels, double) override {}
  void add(prometheus::ClientMetric::Histogram) override {}
  [[nodiscard]] const std::vector<Sample>& samples() const noexcept { return samples_; }

 private:
  std::vector<Sample> samples_;
};

const std::string* label_value(const Labels& labels, std::string_view name) {
  for (const auto& l : labels) {
    if (l.name == name) return &l.value;
  }
  return nullptr;
}

// Adds the dictionary entries of one telemetry key (see TelemetryKey).
void add_key(rte_tel_data* d, const TelemetryKey& k, const std::vector<CountSamples::Sample>& samples) {
  const std::string key(k.key);
  if (k.label.empty() || !k.value.empty()) {
    uint64_t sum = 0;
    for (const auto& s : samples) {
      const std::string* v = k.label.empty() ? nullptr : label_value(s.labels, k.label);
      if (k.label.empty() || (v != nullptr && *v == k.value)) sum += s.value;
    }
    rte_tel_data_add_dict_u64(d, key.c_str(), sum);
    return;
  }
  std::vector<std::pair<std::string, uint64_t>> by_value;  // first-seen order
  for (const auto& s : samples) {
    const std::string* v = label_value(s.labels, k.label);
    if (v == nullptr) continue;
    auto it = by_value.begin();
    while (it != by_value.end() && it->first != *v) ++it;
    if (it == by_value.end()) {
      by_value.emplace_back(*v, s.value);
    } else {
      it->second += s.value;
    }
  }
  for (const auto& [value, sum] : by_value) rte_tel_data_add_dict_u64(d, (key + "_" + value).c_str(), sum);
}

int telemetry_stats(const char* /*cmd*/, const char* /*params*/, rte_tel_data* d) {
  if (g_telemetry_plane == nullptr) return -1;
  const live::Snapshot s = g_telemetry_plane->snapshot();
  const engine::EngineCounters totals = live::merged_engine_counters(s);
  const live::RxTotals rx = live::rx_totals(s);
  const Reading reading{s, totals, rx};
  rte_tel_data_start_dict(d);
  for (const Metric& m : metric_table()) {
    if (m.telemetry[0].key.empty() || !is_shown(m, reading)) continue;
    CountSamples samples;
    m.read(reading, samples);
    for (const TelemetryKey& k : m.telemetry) {
      if (!k.key.empty()) add_key(d, k, samples.samples());
    }
  }
  return 0;
}

}  // namespace

bool register_telemetry(const live::DataPlane& plane) {
  g_telemetry_plane = &plane;
  return rte_telemetry_register_cmd("/synscope/stats", telemetry_stats,
                                    "synscope live counters (packets, frames by reason, sessions by conn_state, "
                                    "failed by perspective, drops). No parameters") == 0;
}

}  // namespace synscope::metrics
