// detector-bench: what scoring one bucket costs when a detector keeps many series (per-server partitions:
// the issue asks for 100k). Builds N models (the failed-session CountModel by default, `--model metric` for
// the backtest's MetricModel), warms them with two simulated days of Poisson counts on a daily cycle, then
// times single buckets: serial, and with oneTBB parallel_for over the series (how the stats/control side
// updates them — never on an RX lcore). Prints ns per bucket and per series.
// Usage: detector-bench [--series N] [--buckets B] [--threads T] [--model count|series]
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "detector/count_model.hpp"
#include "detector/detector.hpp"
#include "detector/metric_model.hpp"

namespace {

template <class Model, class Config>
int run(uint32_t series, uint32_t buckets, const Config& cfg);

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"detector-bench: cost of scoring one bucket over many series"};
  uint32_t series = 100'000, buckets = 20;
  int threads = 0;
  std::string model = "count";
  app.add_option("--series", series, "Series (one model each)")->check(CLI::Range(1u, 10'000'000u));
  app.add_option("--buckets", buckets, "Timed buckets")->check(CLI::Range(1u, 100000u));
  app.add_option("--threads", threads, "TBB threads (0 = all cores)")->check(CLI::Range(0, 1024));
  app.add_option("--model", model, "count (failed-session CountModel) or metric (backtest MetricModel)")
      ->check(CLI::IsMember({"count", "metric"}));
  CLI11_PARSE(app, argc, argv);
  oneapi::tbb::global_control limit(
      oneapi::tbb::global_control::max_allowed_parallelism,
      threads > 0 ? static_cast<size_t>(threads) : oneapi::tbb::this_task_arena::max_concurrency());
  if (model == "metric") {
    synscope::detector::MetricConfig cfg;
    cfg.bucket_s = 900;
    return run<synscope::detector::MetricModel>(series, buckets, cfg);
  }
  synscope::detector::CountConfig cfg;
  cfg.bucket_s = 900;
  return run<synscope::detector::CountModel>(series, buckets, cfg);
}

namespace {

template <class Model, class Config>
int run(uint32_t series, uint32_t buckets, const Config& cfg) {
  std::vector<Model> models(series);
  std::vector<double> values(series);
  std::vector<double> scores(series);
  std::mt19937_64 rng(1);
  std::vector<double> base(series);
  for (double& b : base) b = std::exp(std::uniform_real_distribution<double>(0, 4)(rng));  // 1..55 per bucket
  const double t0 = 1699920000;
  auto fill = [&](double ts) {
    const double cycle = 1 + 0.6 * std::sin(2 * M_PI * (std::fmod(ts, 86400) / 3600 - 8) / 24);
    for (uint32_t i = 0; i < series; ++i) values[i] = std::poisson_distribution<int>(base[i] * cycle)(rng);
  };
  auto step_serial = [&](double ts) {
    for (uint32_t i = 0; i < series; ++i) scores[i] = models[i].observe(ts, values[i], cfg).score;
  };
  auto step_parallel = [&](double ts) {
    oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<uint32_t>(0, series, 1024),
                              [&](const oneapi::tbb::blocked_range<uint32_t>& r) {
                                for (uint32_t i = r.begin(); i < r.end(); ++i) {
                                  scores[i] = models[i].observe(ts, values[i], cfg).score;
                                }
                              });
  };
  const uint32_t warm = 2 * 96;  // two days of 15-minute buckets
  for (uint32_t b = 0; b < warm; ++b) {
    fill(t0 + b * 900.0);
    step_parallel(t0 + b * 900.0);
  }
  auto time = [&](auto&& step, uint32_t first) {
    std::vector<double> ns;
    for (uint32_t b = 0; b < buckets; ++b) {
      const double ts = t0 + (first + b) * 900.0;
      fill(ts);  // not timed
      const auto s = std::chrono::steady_clock::now();
      step(ts);
      ns.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - s).count());
    }
    std::sort(ns.begin(), ns.end());
    return ns[ns.size() / 2];
  };
  const double serial = time(step_serial, warm);
  const double parallel = time(step_parallel, warm + buckets);
  std::printf("series: %u (models %zu bytes each, %.1f MB)\n", series, sizeof(Model), series * sizeof(Model) / 1e6);
  std::printf("serial:        %.2f ms per bucket, %.0f ns per series (median of %u buckets)\n", serial / 1e6,
              serial / series, buckets);
  std::printf("parallel_for:  %.2f ms per bucket, %.0f ns per series, %d threads\n", parallel / 1e6, parallel / series,
              oneapi::tbb::this_task_arena::max_concurrency());
  return 0;
}

}  // namespace
