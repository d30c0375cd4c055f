// detector: see detector.hpp.
#include "detector/detector.hpp"

#include <algorithm>
#include <cmath>

namespace synscope::detector {

namespace {

constexpr double kDay = 86400.0;
constexpr double kMadToSigma = 1.2533;  // sigma / mean absolute deviation for a normal distribution

/// Per-bucket rate that gives `per_visit` per hour-long visit of a cell when buckets are shorter.
double per_bucket(double per_visit, double bucket_s) noexcept {
  if (bucket_s >= 3600.0) return per_visit;
  return 1.0 - std::pow(1.0 - per_visit, bucket_s / 3600.0);
}

/// Which hour-of-day profile a week cell (Monday 00:00 = 0) learns into: 1 for Saturdays and Sundays when
/// weekends have their own, else 0.
size_t day_kind(int week_cell, const DetectorConfig& cfg) noexcept {
  return cfg.weekend_profile && week_cell >= 5 * 24 ? 1 : 0;
}

}  // namespace

DetectorConfig metric_series_config() noexcept {
  DetectorConfig c;
  c.profile_alpha = 0.4;
  c.drift_alpha = 0.045;
  c.scale_alpha = 0.1;
  c.clip_sigma = 2.25;
  c.rel_scale_floor = 0.015;
  c.cusum_slack = 0.2;
  c.tail_halflife_days = 2.5;
  c.tail_growth = 4.0;
  return c;
}

Severity severity_of(double score) noexcept {
  if (score >= 75) return Severity::kCritical;
  if (score >= 50) return Severity::kMajor;
  if (score >= 25) return Severity::kMinor;
  if (score >= 3) return Severity::kWarning;
  return Severity::kNone;
}

std::string_view severity_name(Severity s) noexcept {
  switch (s) {
    case Severity::kNone: return "none";
    case Severity::kWarning: return "warning";
    case Severity::kMinor: return "minor";
    case Severity::kMajor: return "major";
    case Severity::kCritical: return "critical";
  }
  return "none";
}

double SeriesModel::expected_and_scale(double ts_s, const DetectorConfig& cfg, int& week_cell, int& day_cell,
                                       double& scale) const noexcept {
  const int64_t hour = static_cast<int64_t>(std::floor(ts_s / 3600.0));
  week_cell = static_cast<int>(((hour + 72) % kHoursPerWeek + kHoursPerWeek) % kHoursPerWeek);  // Monday 00:00 = 0
  day_cell = week_cell % 24;
  const double history = n_ == 0 ? 0 : ts_s - first_ts_;
  double base = level_;
  double mad = mad_;
  const Cell& w = week_[static_cast<size_t>(week_cell)];
  const size_t weekend = day_kind(week_cell, cfg);
  // Before the first weekend (or weekday) has been seen, the other kind of day is the best guess.
  const Cell& own = day_[weekend][static_cast<size_t>(day_cell)];
  const Cell& d = own.visits > 0 ? own : day_[1 - weekend][static_cast<size_t>(day_cell)];
  if (history >= 7 * kDay && w.visits > 0) {
    base = w.level;
    if (w.visits >= 2) mad = w.mad;
  } else if (history >= kDay && d.visits > 0) {
    base = d.level;
    if (d.visits >= 2) mad = d.mad;
  }
  const double expected = base + drift_;
  double sigma = mad * kMadToSigma;
  sigma = std::max(sigma, cfg.rel_scale_floor * std::fabs(expected));
  if (cfg.counts) sigma = std::max(sigma, std::sqrt(std::max(expected, 1.0)));
  scale = std::max(sigma, 1e-9);
  return expected;
}

Scored SeriesModel::observe(double ts_s, double value, const DetectorConfig& cfg) noexcept {
  Scored out;
  out.actual = value;
  if (n_ == 0) {
    first_ts_ = ts_s;
    level_ = value;
  }
  int wc = 0, dc = 0;
  double sigma = 0;
  const double expected = expected_and_scale(ts_s, cfg, wc, dc, sigma);
  // Reported (not scored) values: a count is never expected below zero, though the drift may say so.
  out.typical = cfg.counts ? std::max(expected, 0.0) : expected;
  out.window_actual = value;
  out.window_expected = out.typical;
  out.upper = out.typical + 3.0 * sigma;

  // Evidence: this bucket, and a one-sided CUSUM for sustained moderate rises.
  double z = (value - expected) / sigma;
  if (cfg.counts && value >= 0) {
    // Low counts have a heavier upper tail than a normal with sd sqrt(mean): P(X >= 14 | mean 5) is 8e-4,
    // not 3e-5. Anscombe's transform makes Poisson counts ~N(0,1); take the more cautious of the two.
    const double anscombe = 2.0 * (std::sqrt(value + 0.375) - std::sqrt(std::max(expected, 0.0) + 0.375));
    z = std::min(z, anscombe);
  }
  cusum_ = std::clamp(cusum_ + z - cfg.cusum_slack, 0.0, 50.0);
  // Calibrate against this series' own tails: spiky series (tweets, bursty servers) see large z-scores
  // every day, so z is divided by a slowly decaying typical daily maximum of z (at least 3), and the
  // CUSUM by its own (NAB 55.9 -> 64.9: with z's tail, a run of usual spikes looked like one spike).
  const double tail = std::max(3.0, tail_z_);
  const double tail_c = std::max(3.0, tail_c_);
  const double calibrated = std::max(z * 3.0 / tail, (cusum_ / 2.0) * 3.0 / tail_c);
  double score = 0;
  if (calibrated > cfg.score_knee)
    score = 100.0 * (1.0 - std::exp2(-(calibrated - cfg.score_knee) / cfg.score_halving));
  const double day_buckets = std::max(1.0, kDay / cfg.bucket_s);
  const bool warming_up = n_ == 0 || ts_s - first_ts_ < cfg.warmup_days * kDay;
  // Tails learn after warm-up only (see the header); until then they stay at their floor of 3.
  if (!warming_up && score < cfg.tail_freeze_score) {
    const double decay = std::pow(0.5, 1.0 / (cfg.tail_halflife_days * day_buckets));
    tail_z_ = std::max(std::min(z, cfg.tail_growth * tail), tail_z_ * decay);
    tail_c_ = std::max(std::min(cusum_ / 2.0, cfg.tail_growth * tail_c), tail_c_ * decay);
  }
  if (warming_up) score = std::min(score, cfg.warmup_cap);
  out.score = score;
  out.severity = severity_of(score);

  // Learn from the clipped value, so an anomaly moves the baseline by at most clip_sigma scales.
  const double clipped =
      n_ < 3 ? value : std::clamp(value, expected - cfg.clip_sigma * sigma, expected + cfg.clip_sigma * sigma);
  const double dev = std::fabs(clipped - expected);
  const double a_cell = per_bucket(cfg.profile_alpha, cfg.bucket_s);
  const auto learn = [&](Cell& c, double fallback_level, double fallback_mad) {
    if (c.visits == 0) {
      c.level = static_cast<float>(fallback_level);
      c.mad = static_cast<float>(fallback_mad);
    }
    const double target = clipped - drift_;
    // Faster at first (running mean of the first visits), then exponential.
    const double a = std::max(a_cell, 1.0 / (1.0 + c.visits));
    c.level = static_cast<float>(c.level + a * (target - c.level));
    c.mad = static_cast<float>(c.mad + a * (std::fabs(target - c.level) - c.mad));
    if (c.visits < UINT16_MAX) ++c.visits;
  };
  const double a_global = n_ < 20 ? 1.0 / (1.0 + static_cast<double>(n_)) : cfg.scale_alpha;
  level_ += a_global * (clipped - level_);
  mad_ += a_global * (dev - mad_);
  const size_t weekend = day_kind(wc, cfg);
  Cell& day = day_[weekend][static_cast<size_t>(dc)];
  const Cell& other = day_[1 - weekend][static_cast<size_t>(dc)];
  if (day.visits == 0 && other.visits > 0) {  // a first weekend (weekday) hour starts from the other's shape
    day.level = other.level;
    day.mad = other.mad;
    day.visits = 1;
  }
  learn(day, level_, mad_);
  learn(week_[static_cast<size_t>(wc)], day.level, day.mad);
  // Drift follows what the profile does not explain, slowly. Not from weekend buckets while weekends have
  // their own hour-of-day profile (before a week of history): a first weekend differs from the weekday shape
  // it starts from, and a drift that learned that dip made Monday morning look like a surge.
  const double history = ts_s - first_ts_;
  if (history >= kDay && !(weekend == 1 && history < 7 * kDay)) drift_ += cfg.drift_alpha * (clipped - expected);
  ++n_;
  return out;
}

Transition AlertState::update(const Scored& s, const AlertPolicy& policy) noexcept {
  const bool hot = s.score >= policy.fire_score &&
                   std::max(s.actual - s.typical, s.window_actual - s.window_expected) > policy.min_excess;
  if (!firing_) {
    if (!hot) return Transition::kNone;
    firing_ = true;
    peak_ = s.score;
    quiet_ = 0;
    return Transition::kFiring;
  }
  if (s.score < policy.resolve_score) {
    if (++quiet_ >= policy.resolve_buckets) {
      firing_ = false;
      peak_ = 0;
      return Transition::kResolved;
    }
    return Transition::kNone;
  }
  quiet_ = 0;
  if (hot && severity_of(s.score) > severity_of(peak_)) {
    peak_ = s.score;
    return Transition::kEscalated;
  }
  return Transition::kNone;
}

}  // namespace synscope::detector
