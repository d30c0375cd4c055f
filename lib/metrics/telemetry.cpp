// telemetry: the rte_telemetry side of the metric table: `/synscope/stats` (for dpdk-telemetry.py and
// Telegraf's dpdk input) is a flat dictionary of the table rows' telemetry keys, in table order.
//
// The handler runs on DPDK's telemetry threads (one per client connection) and reads the DataPlane's
// published snapshot. The plane is handed over through an atomic pointer and a count of requests in
// flight (TelemetryBinding): a request announces itself, then loads the pointer; retiring the plane clears
// the pointer, then waits for the count to reach zero. Both sides use sequentially consistent operations,
// so either the request sees null or the retiring side sees the request and waits for it.
#include <rte_telemetry.h>

#include <atomic>
#include <exception>
#include <string>
#include <thread>

#include "metrics/metrics.hpp"
#include "metrics/table.hpp"

namespace synscope::metrics {
namespace {

std::atomic<const live::DataPlane*> g_plane{nullptr};  // the bound plane, or null: not running
std::atomic<uint32_t> g_in_flight{0};                  // requests between announcing and leaving
std::atomic<bool> g_registered{false};                 // rte_telemetry has the command (once per process)

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

// Fills the dictionary from `plane`.
void fill_stats(const live::DataPlane& plane, rte_tel_data* d) {
  const live::Snapshot s = plane.snapshot();
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
}

// Announces itself before reading the plane, and leaves after: see the file comment. A request after the
// plane was retired gets -1, which rte_telemetry answers as null.
int telemetry_stats(const char* /*cmd*/, const char* /*params*/, rte_tel_data* d) {
  g_in_flight.fetch_add(1, std::memory_order_seq_cst);
  int ret = -1;
  if (const live::DataPlane* plane = g_plane.load(std::memory_order_seq_cst)) {
    try {
      fill_stats(*plane, d);
      ret = 0;
    } catch (const std::exception&) {  // out of memory formatting: an error answer, never an escape into C
    }
  }
  g_in_flight.fetch_sub(1, std::memory_order_release);
  return ret;
}

}  // namespace

TelemetryBinding::TelemetryBinding(const live::DataPlane& plane) {
  g_plane.store(&plane, std::memory_order_seq_cst);
  if (g_registered.load(std::memory_order_relaxed)) {
    registered_ = true;
    return;
  }
  registered_ = rte_telemetry_register_cmd("/synscope/stats", telemetry_stats,
                                           "synscope live counters (packets, frames by reason, sessions by "
                                           "conn_state, failed by perspective, drops). No parameters") == 0;
  g_registered.store(registered_, std::memory_order_relaxed);
}

TelemetryBinding::~TelemetryBinding() {
  g_plane.store(nullptr, std::memory_order_seq_cst);
  // A request that announced itself before the store may still be reading the plane: wait it out (a
  // snapshot takes microseconds).
  while (g_in_flight.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
}

}  // namespace synscope::metrics
