// detector/metric_model: null calibration on generated continuous families (normal, Laplace and Student-t
// noise, independent and autocorrelated, with and without a daily shape), spikes and shifts that fire, a
// level shift that is adopted, a quantised series, and the model's fixed size.
//
// The bounds are statistical: each is set where a calibrated model fails it rarely (fresh_seed.hpp).
#include "detector/metric_model.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <type_traits>
#include <vector>

#include "fresh_seed.hpp"

namespace synscope::detector {
namespace {

constexpr double kBucket = 300;
constexpr double kStart = 1'700'006'400;  // a Wednesday 00:00 UTC
constexpr double kDay = 86400;
constexpr size_t kPerDay = 288;

MetricConfig config() {
  MetricConfig c;
  c.bucket_s = kBucket;
  return c;
}

enum class Noise { kNormal, kLaplace, kStudent4 };

/// A series: 100 + (a daily swing of ±20) + 5 × unit-variance noise, AR(1) with coefficient `phi`.
struct Family {
  Noise noise;
  double phi;
  bool daily;
};

class Generator {
 public:
  Generator(const Family& f, uint64_t seed) : f_(f), rng_(seed) {}
  double next(double ts) {
    double e = 0;
    switch (f_.noise) {
      case Noise::kNormal: e = normal_(rng_); break;
      case Noise::kLaplace:
        e = std::exponential_distribution<double>(std::sqrt(2.0))(rng_) * (coin_(rng_) ? 1 : -1);
        break;
      case Noise::kStudent4: e = std::student_t_distribution<double>(4)(rng_) / std::sqrt(2.0); break;
    }
    a_ = f_.phi * a_ + e * std::sqrt(1 - f_.phi * f_.phi);
    const double hour = std::fmod(ts, kDay) / 3600.0;
    return 100 + (f_.daily ? 20 * std::sin(2 * M_PI * (hour - 9) / 24) : 0.0) + 5 * a_;
  }

 private:
  Family f_;
  std::mt19937_64 rng_;
  std::normal_distribution<double> normal_;
  std::bernoulli_distribution coin_;
  double a_ = 0;
};

std::vector<Family> families() {
  std::vector<Family> out;
  for (const Noise n : {Noise::kNormal, Noise::kLaplace, Noise::kStudent4})
    for (const double phi : {0.0, 0.8})
      for (const bool daily : {false, true}) out.push_back({n, phi, daily});
  return out;
}

TEST(MetricModel, NullFamiliesAreCalibrated) {
  const uint64_t seed = fresh_seed();
  const MetricConfig cfg = config();
  const AlertPolicy policy;
  constexpr size_t kDays = 14;
  std::array<double, 4> beyond{};  // buckets with corrected p <= 10^-k, k = 1..4
  double buckets = 0, fired = 0, series_days = 0;
  uint64_t s = seed;
  for (const Family& f : families()) {
    for (int copy = 0; copy < 3; ++copy) {
      Generator gen(f, ++s);
      MetricModel m;
      AlertState alert;
      for (size_t i = 0; i < kDays * kPerDay; ++i) {
        const double ts = kStart + static_cast<double>(i) * kBucket;
        const Scored out = m.observe(ts, gen.next(ts), cfg);
        if (i < 2 * kPerDay) continue;  // warm-up
        buckets += 1;
        const double corrected = std::pow(10.0, -(out.score / 10.0 + 1.0));  // score_of_p inverted
        for (size_t k = 0; k < beyond.size(); ++k)
          beyond[k] += out.score > 0 && corrected <= std::pow(10.0, -double(k + 1));
        fired += alert.update(out, policy) == Transition::kFiring;
      }
      series_days += kDays - 2;
    }
  }
  std::printf("seed %llu: share of corrected p <= 1e-1..1e-4: %.4f %.5f %.6f %.6f; %g alerts in %g series-days\n",
              static_cast<unsigned long long>(seed), beyond[0] / buckets, beyond[1] / buckets, beyond[2] / buckets,
              beyond[3] / buckets, fired, series_days);
  // Conservative on light tails (exponential beyond the threshold), within a small factor on heavy ones.
  EXPECT_LE(beyond[1] / buckets, 3e-2);
  EXPECT_LE(beyond[2] / buckets, 3e-3);
  EXPECT_LE(beyond[3] / buckets, 1e-3);
  EXPECT_LE(fired / series_days, 20.0 / 1000.0);
}

TEST(MetricModel, SpikesAndSustainedShiftsFire) {
  const uint64_t seed = fresh_seed();
  const MetricConfig cfg = config();
  int spikes = 0, shifts = 0, runs = 0;
  uint64_t s = seed;
  for (const Noise n : {Noise::kNormal, Noise::kLaplace}) {
    for (const bool daily : {false, true}) {
      for (int copy = 0; copy < 5; ++copy) {
        Generator gen({n, 0.0, daily}, ++s);
        MetricModel m;
        const size_t spike_at = 8 * kPerDay + 100, shift_at = 10 * kPerDay + 150;
        bool spike_fired = false, shift_fired = false;
        for (size_t i = 0; i < 11 * kPerDay; ++i) {
          const double ts = kStart + static_cast<double>(i) * kBucket;
          double v = gen.next(ts);
          if (i == spike_at) v += 5 * 12;                      // one bucket 12 sd up
          if (i >= shift_at && i < shift_at + 12) v += 5 * 6;  // an hour 6 sd up
          const Scored out = m.observe(ts, v, cfg);
          if (i == spike_at) spike_fired = out.score >= 50;
          if (i >= shift_at && i < shift_at + 3) shift_fired = shift_fired || out.score >= 50;
        }
        spikes += spike_fired;
        shifts += shift_fired;
        ++runs;
      }
    }
  }
  std::printf("seed %llu: 12-sd spikes fired %d/%d, 6-sd shifts within 3 buckets %d/%d\n",
              static_cast<unsigned long long>(seed), spikes, runs, shifts, runs);
  // Measured over fresh seeds: 17-20 of 20 each (a Laplace spike of 12 sd is rarer than 10^-6 per bucket
  // by a factor of only ~10-100).
  EXPECT_GE(spikes, runs - 4);
  EXPECT_GE(shifts, runs - 4);
}

TEST(MetricModel, ALevelShiftAlertsAndIsAdoptedAfterTheBoundedGate) {
  const MetricConfig cfg = config();
  const size_t shift_at = 7 * kPerDay;
  int alerted = 0, adopted = 0, runs = 0;
  uint64_t s = fresh_seed();
  for (; runs < 10; ++runs) {
    Generator gen({Noise::kNormal, 0.0, true}, ++s);
    MetricModel m;
    double first = 0, last_day_sum = 0, last_day_n = 0;
    for (size_t i = 0; i < 11 * kPerDay; ++i) {
      const double ts = kStart + static_cast<double>(i) * kBucket;
      const Scored out = m.observe(ts, gen.next(ts) + (i >= shift_at ? 50.0 : 0.0), cfg);  // +10 sd for good
      if (i >= shift_at && i < shift_at + 3) first = std::max(first, out.score);
      if (i >= shift_at + 3 * kPerDay) {
        last_day_sum += out.score;
        last_day_n += 1;
      }
    }
    alerted += first >= 50;
    // Three days later (the level's half-life is a day) it is the series' normal: scores as in noise (~1).
    adopted += last_day_sum / last_day_n < 5;
  }
  EXPECT_GE(alerted, runs - 4);  // within 3 buckets; measured over 50 fresh seeds: 7-10 of 10
  EXPECT_EQ(adopted, runs);
}

TEST(MetricModel, AQuantisedSeriesIsJudgedByItsResolution) {
  // An integer gauge that sits at 40 and ticks ±1 now and then: the ticks are its noise, a jump is not.
  std::mt19937_64 rng(fresh_seed());
  std::uniform_real_distribution<double> u;
  const MetricConfig cfg = config();
  MetricModel m;
  double tick_max = 0, jump = 0;
  for (size_t i = 0; i < 6 * kPerDay; ++i) {
    const double ts = kStart + static_cast<double>(i) * kBucket;
    double v = 40 + (u(rng) < 0.05 ? (u(rng) < 0.5 ? 1 : -1) : 0);
    if (i == 5 * kPerDay) v = 60;
    const Scored out = m.observe(ts, v, cfg);
    if (i >= 2 * kPerDay && i < 5 * kPerDay) tick_max = std::max(tick_max, out.score);
    if (i == 5 * kPerDay) jump = out.score;
  }
  EXPECT_LT(tick_max, 50);
  EXPECT_GE(jump, 50);
}

TEST(MetricModel, IsSmallAndTriviallyCopyable) {
  static_assert(std::is_trivially_copyable_v<MetricModel>);
  EXPECT_LE(sizeof(MetricModel), 704u);  // 696 bytes: 48 hour cells, three 12-bucket rings, window sums
}

}  // namespace
}  // namespace synscope::detector
