// detector: seasonal counts stay quiet, surges alert within two buckets, warm-up is capped and does not
// teach the tails, an anomaly does not become the baseline, a run of a spiky series' usual spikes alerts,
// the metric-series settings still alert, and alerts fire/escalate/resolve with hysteresis.
#include "detector/detector.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace synscope::detector {
namespace {

constexpr double kBucket = 300;           // 5-minute buckets
constexpr double kStart = 1'700'006'400;  // a Wednesday 00:00 UTC

/// Failed sessions per bucket with a daily shape: ~5 at night, ~40 at the afternoon peak.
double daily_mean(double ts) {
  const double hour = std::fmod(ts, 86400.0) / 3600.0;
  return 5.0 + 35.0 * std::exp(-std::pow((hour - 15.0) / 4.0, 2));
}

DetectorConfig config() {
  DetectorConfig c;
  c.bucket_s = kBucket;
  return c;
}

TEST(Detector, SeasonalPoissonCountsRaiseNoAlert) {
  std::mt19937_64 rng(7);
  SeriesModel m;
  AlertState alert;
  const AlertPolicy policy;
  const DetectorConfig cfg = config();
  int fired = 0;
  double max_score = 0;
  for (int i = 0; i < 6 * 288; ++i) {
    const double ts = kStart + i * kBucket;
    std::poisson_distribution<int> pois(daily_mean(ts));
    const Scored s = m.observe(ts, pois(rng), cfg);
    if (i >= 288) max_score = std::max(max_score, s.score);
    if (alert.update(s, policy) == Transition::kFiring) ++fired;
  }
  EXPECT_EQ(fired, 0) << "max score after warm-up " << max_score;
}

TEST(Detector, SurgeAlertsWithinTwoBucketsAndBaselineStaysClean) {
  for (const double surge : {3.0, 10.0}) {
    for (const int start_hour : {3, 15}) {  // a quiet night hour and the daily peak
      std::mt19937_64 rng(11 + start_hour);
      SeriesModel m;
      AlertState alert;
      const AlertPolicy policy;
      const DetectorConfig cfg = config();
      const int surge_at = 4 * 288 + start_hour * 12;
      int fired_at = -1;
      double typical_before = 0, typical_after = 0;
      for (int i = 0; i < surge_at + 24 + 12; ++i) {
        const double ts = kStart + i * kBucket;
        const bool in_surge = i >= surge_at && i < surge_at + 24;  // two hours
        const double mean = daily_mean(ts) * (in_surge ? surge : 1.0) + (in_surge ? 10.0 : 0.0);
        std::poisson_distribution<int> pois(mean);
        const Scored s = m.observe(ts, pois(rng), cfg);
        if (i == surge_at) typical_before = s.typical;
        if (i == surge_at + 23) typical_after = s.typical;
        const Transition t = alert.update(s, policy);
        if (t == Transition::kFiring) {
          EXPECT_GE(i, surge_at) << "false alert before the surge, x" << surge << " at hour " << start_hour;
          if (fired_at < 0) fired_at = i;
        }
      }
      ASSERT_GE(fired_at, 0) << "surge x" << surge << " at hour " << start_hour << " never alerted";
      EXPECT_LE(fired_at - surge_at, 1) << "more than 2 buckets late";
      // Two hours of surge must not teach the model that the surge is normal.
      EXPECT_LT(typical_after, typical_before * 1.6 + 5) << "baseline absorbed the anomaly";
    }
  }
}

TEST(Detector, WarmupScoresAreCapped) {
  SeriesModel m;
  const DetectorConfig cfg = config();
  for (int i = 0; i < 200; ++i) {
    const Scored s = m.observe(kStart + i * kBucket, i == 150 ? 10000 : 5, cfg);
    EXPECT_LE(s.score, cfg.warmup_cap);
  }
}

TEST(Detector, ScoreIsMonotonicInTheExcess) {
  SeriesModel base;
  const DetectorConfig cfg = config();
  for (int i = 0; i < 3 * 288; ++i) (void)base.observe(kStart + i * kBucket, 20, cfg);
  double prev = -1;
  for (const double v : {20.0, 30.0, 40.0, 60.0, 100.0, 400.0}) {
    SeriesModel m = base;  // trivially copyable: same history each time
    const Scored s = m.observe(kStart + 3 * 288 * kBucket, v, cfg);
    EXPECT_GE(s.score, prev) << v;
    EXPECT_LE(s.score, 100.0);
    prev = s.score;
  }
  EXPECT_GT(prev, 75.0);
}

TEST(Detector, DenserSpikesInASpikySeriesAlertButItsUsualSpikesDoNot) {
  // NAB's art_increase_spike_density shape: 0 with a spike of 20 twice every 100 buckets (6 apart), then
  // three extra spikes 5 apart. Each spike alone is the series' usual maximum; only the run of them is new,
  // which the CUSUM sees once it is calibrated by its own typical maximum rather than by z's.
  SeriesModel m;
  AlertState alert;
  const AlertPolicy policy;
  const DetectorConfig cfg = config();
  const int burst = 1800;  // 6.25 days in, a multiple of 100
  const auto spike = [&](int i) {
    return i % 100 == 0 || i % 100 == 6 || i == burst + 5 || i == burst + 10 || i == burst + 15;
  };
  // Warm-up does not teach the tails (see detector.hpp), so the first spike judged after it (bucket 300)
  // may alert once: it is the first time the model says what this series' spikes look like. None after.
  int fired_at = -1;
  int usual_alerts = 0;
  for (int i = 0; i < burst + 400; ++i) {
    const Scored s = m.observe(kStart + i * kBucket, spike(i) ? 20 : 0, cfg);
    if (alert.update(s, policy) != Transition::kFiring) continue;
    if (i >= 288 && i < burst) {
      ++usual_alerts;
      EXPECT_EQ(i, 300) << "a usual spike alerted at bucket " << i << ", after the first one judged";
    }
    if (i >= burst && fired_at < 0) fired_at = i;
  }
  EXPECT_LE(usual_alerts, 1);
  ASSERT_GE(fired_at, 0) << "the denser spikes never alerted";
  EXPECT_LE(fired_at, burst + 15) << "alerted only after the burst";
}

TEST(Detector, AnIncidentDuringWarmupDoesNotHideTheNextOne) {
  // NAB's iio series, in counts: a flood at 30x in hour 17 (the first day, scores capped), then a rise to 3x
  // for an hour on day two. When warm-up taught the tails, the flood's z (~80) became the series' "usual
  // maximum" and the rise scored nothing for days.
  for (const DetectorConfig& base : {DetectorConfig{}, metric_series_config()}) {
    std::mt19937_64 rng(5);
    SeriesModel m;
    AlertState alert;
    const AlertPolicy policy;
    DetectorConfig cfg = base;
    cfg.bucket_s = kBucket;
    const int flood_at = 17 * 12, rise_at = 36 * 12;
    int fired_at = -1;
    for (int i = 0; i < rise_at + 12; ++i) {
      const double ts = kStart + i * kBucket;
      double mean = daily_mean(ts);
      if (i >= flood_at && i < flood_at + 6) mean *= 30;
      if (i >= rise_at) mean *= 3;
      std::poisson_distribution<int> pois(mean);
      const Scored s = m.observe(ts, pois(rng), cfg);
      if (alert.update(s, policy) == Transition::kFiring && i >= 288 && fired_at < 0) fired_at = i;
    }
    EXPECT_GE(fired_at, rise_at) << "false alert after warm-up (drift: " << base.drift_alpha << ")";
    EXPECT_LE(fired_at - rise_at, 1) << "the rise after a warm-up incident alerted late or never (drift: "
                                     << base.drift_alpha << ")";
  }
}

TEST(Detector, MetricSeriesSettingsStillAlertOnSurgesAndSpikeRuns) {
  // metric_series_config() learns faster; a surge at the daily peak and NAB's denser-spikes shape still alert.
  DetectorConfig cfg = metric_series_config();
  cfg.bucket_s = kBucket;
  std::mt19937_64 rng(3);
  SeriesModel m;
  AlertState alert;
  const AlertPolicy policy;
  const int surge_at = 4 * 288 + 15 * 12;
  int fired_at = -1;
  for (int i = 0; i < surge_at + 24; ++i) {
    const double ts = kStart + i * kBucket;
    std::poisson_distribution<int> pois(daily_mean(ts) * (i >= surge_at ? 3.0 : 1.0));
    const Transition t = alert.update(m.observe(ts, pois(rng), cfg), policy);
    if (t == Transition::kFiring && i >= 288 && fired_at < 0) fired_at = i;
  }
  EXPECT_GE(fired_at, surge_at) << "false alert before the surge";
  EXPECT_LE(fired_at - surge_at, 1) << "surge alerted late or never";
}

TEST(AlertState, FiresEscalatesAndResolvesWithHysteresis) {
  AlertState a;
  AlertPolicy p;
  p.resolve_buckets = 2;
  const auto at = [](double score) {
    Scored s;
    s.score = score;
    s.actual = 100;
    s.typical = 10;
    return s;
  };
  EXPECT_EQ(a.update(at(10), p), Transition::kNone);
  EXPECT_EQ(a.update(at(55), p), Transition::kFiring);
  EXPECT_EQ(a.update(at(60), p), Transition::kNone);       // same severity band
  EXPECT_EQ(a.update(at(80), p), Transition::kEscalated);  // major -> critical
  EXPECT_EQ(a.update(at(10), p), Transition::kNone);       // one quiet bucket is not enough
  EXPECT_EQ(a.update(at(30), p), Transition::kNone);       // above resolve_score: resets the count
  EXPECT_EQ(a.update(at(10), p), Transition::kNone);
  EXPECT_EQ(a.update(at(10), p), Transition::kResolved);
  EXPECT_FALSE(a.firing());
  p.min_excess = 1000;  // rises smaller than this never fire
  EXPECT_EQ(a.update(at(90), p), Transition::kNone);
}

}  // namespace
}  // namespace synscope::detector
