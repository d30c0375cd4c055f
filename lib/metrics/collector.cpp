// collector: the Prometheus side of the metric table: Collector::Collect() turns one live::Snapshot into
// a metric family per shown row of metric_table(), in table order.
//
// Collect() runs on a civetweb thread (one per scrape); it reads the DataPlane's published snapshot and
// builds new families each time, holding no state of its own: thread-safe. No prometheus-cpp object is
// ever incremented, so the data path never pays for a CAS.
#include <prometheus/metric_family.h>

#include <string>

#include "metrics/metrics.hpp"
#include "metrics/table.hpp"

namespace synscope::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Appends each sample to one family, as a counter, gauge or histogram value by the family's type.
class FamilySamples final : public Samples {
 public:
  explicit FamilySamples(MetricFamily& family) : family_(family) {}
  void add(Labels labels, uint64_t value) override { add(std::move(labels), static_cast<double>(value)); }
  void add(Labels labels, double value) override {
    ClientMetric m;
    m.label = std::move(labels);
    if (family_.type == MetricType::Counter) {
      m.counter.value = value;
    } else {
      m.gauge.value = value;
    }
    family_.metric.push_back(std::move(m));
  }
  void add(ClientMetric::Histogram histogram) override {
    ClientMetric m;
    m.histogram = std::move(histogram);
    family_.metric.push_back(std::move(m));
  }

 private:
  MetricFamily& family_;
};

}  // namespace

std::vector<MetricFamily> Collector::Collect() const {
  const live::Snapshot s = plane_.snapshot();
  const engine::EngineCounters totals = live::merged_engine_counters(s);
  const live::RxTotals rx = live::rx_totals(s);
  const Reading reading{s, totals, rx};
  std::vector<MetricFamily> out;
  for (const Metric& m : metric_table()) {
    if (m.name.empty() || !is_shown(m, reading)) continue;
    MetricFamily f;
    f.name = std::string(m.name);
    f.help = std::string(m.help);
    f.type = m.type;
    FamilySamples samples(f);
    m.read(reading, samples);
    if (m.shown == Shown::kWithDetectorSamples && f.metric.empty()) continue;
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace synscope::metrics
