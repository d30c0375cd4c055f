// detector/metric_model: see metric_model.hpp.
#include "detector/metric_model.hpp"
#include "detector/hour_position.hpp"

#include <algorithm>
#include <cmath>

#include "detector/count_model.hpp"

namespace synscope::detector {

namespace {

constexpr double kDay = 86400.0;
// The prior tail, in scale units beyond the threshold: a generalised Pareto of shape 0.1 (a little heavier
// than exponential) and sigma 1, at an exceedance rate of 15 % (beyond 1.5 mean absolute deviations: 13 % of
// a normal distribution, 22 % of a Laplace), worth kPriorBuckets buckets.
constexpr double kPriorShape = 0.1;
constexpr double kPriorSigma = 1.0;
constexpr double kPriorRate = 0.15;
constexpr double kPriorBuckets = 20;
constexpr double kMaxShape = 0.5;  // moments cannot tell heavier shapes apart (infinite variance)
constexpr double kMaxExcess = 50;  // one bucket's excess counts at most this many scales

/// Per-bucket decay that halves a sum over `halflife_buckets` buckets.
double decay(double halflife_buckets) noexcept { return std::exp2(-1.0 / std::max(halflife_buckets, 1e-9)); }

}  // namespace

namespace {

/// Survival of a generalised Pareto excess y with shape `shape` and scale `sigma`.
double gpd_survival(double y, double shape, double sigma) noexcept {
  return shape < 1e-6 ? std::exp(-y / sigma) : std::pow(1 + shape * y / sigma, -1 / shape);
}

}  // namespace

double MetricModel::tail(size_t w, double z, const MetricConfig& cfg) const noexcept {
  const double u = cfg.tail_threshold;
  if (!(z > u)) return 1.0;
  // The excesses' first two moments, each with the prior's pseudo-excesses; the generalised Pareto of those
  // moments: mean = sigma / (1 - shape), variance = sigma^2 / ((1 - shape)^2 (1 - 2 shape)).
  const double k0 = cfg.tail_prior_excesses;
  const double m0 = kPriorSigma / (1 - kPriorShape);
  const double q0 = 2 * kPriorSigma * kPriorSigma / ((1 - kPriorShape) * (1 - 2 * kPriorShape));
  const double n = exc_n_[w] + k0;
  const double mean = std::max((exc_s1_[w] + k0 * m0) / n, 1e-12);
  const double var = std::max((exc_s2_[w] + k0 * q0) / n - mean * mean, 1e-12);
  const double shape = std::clamp(0.5 * (1 - mean * mean / var), 0.0, kMaxShape);
  const double rate = (exc_n_[w] + kPriorRate * kPriorBuckets) / (scale_w_[w] + kPriorBuckets);
  return std::clamp(rate * gpd_survival(z - u, shape, mean * (1 - shape)), 0.0, 1.0);
}

double MetricModel::shrinkage(const MetricConfig& cfg) const noexcept {
  // Per-bucket noise variance of a cell mean: a visit is an hour of autocorrelated buckets, so it is judged by
  // the hour-long window's scale (1.25 converts a mean absolute deviation to a standard deviation).
  const double per_visit = std::max(1.0, 3600.0 / cfg.bucket_s);
  const size_t hour_window = per_visit >= 12 ? 2 : per_visit >= 3 ? 1 : 0;
  const double s = scale_w_[hour_window] > 0 ? scale_sum_[hour_window] / scale_w_[hour_window] : 0.0;
  const double noise = 1.5625 * s * s * static_cast<double>(kCountWindows[hour_window]);
  // The spread of the true hour offsets: the raw cell means' mean square less what their noise explains.
  double spread = 0, cells = 0;
  for (size_t h = 0; h < 24; ++h) {
    const double n = cells_[0].weight[h];
    if (n < 1) continue;
    const double raw = cells_[0].sum[h] / n;
    spread += raw * raw - noise / n;
    cells += 1;
  }
  if (cells < 2 || noise <= 0) return 1.0;
  spread /= cells;
  return spread <= 0 ? 1e9 : std::max(noise / spread, 1.0);
}

double MetricModel::offset(size_t kind, size_t h, double a) const noexcept {
  const double prior = kind == 0 ? 0.0 : offset(0, h, a);
  return (cells_[kind].sum[h] + a * prior) / (cells_[kind].weight[h] + a);
}

Scored MetricModel::observe(double ts_s, double value, const MetricConfig& cfg) noexcept {
  if (n_ == 0) {
    level_ = value;
    prev_ = value;
    alert_from_ts_ = ts_s + cfg.warmup_days * kDay;
  }
  const double step = std::fabs(value - prev_);
  if (step > 0 && (quantum_ == 0 || step < quantum_)) quantum_ = step;
  prev_ = value;

  const HourPosition hp = hour_position(ts_s, cfg.bucket_s);
  const size_t kind = hp.kind, h1 = hp.h1, h2 = hp.h2, own = hp.own;
  const double w2 = hp.w2;
  const double a = shrinkage(cfg);
  const double off = (1 - w2) * offset(kind, h1, a) + w2 * offset(kind, h2, a);
  const double mu = level_ + off;

  const size_t at = n_ % kRing;
  ring_r_[at] = static_cast<float>(value - mu);
  ring_mu_[at] = static_cast<float>(mu);
  ring_x_[at] = static_cast<float>(value);
  if (ring_filled_ < kRing) ++ring_filled_;

  const double tiny = 1e-9 * std::max(1.0, std::fabs(level_));
  const double tests = static_cast<double>(kCountWindows.size()) * (cfg.direction == Direction::kBoth ? 2 : 1);
  std::array<double, 3> means{}, scales{}, zs{};
  Scored out;
  out.actual = value;
  out.typical = mu;
  for (size_t w = 0; w < kCountWindows.size(); ++w) {
    const uint32_t len = kCountWindows[w];
    if (len > ring_filled_) break;
    double sum_r = 0, sum_x = 0, sum_mu = 0;
    for (uint32_t k = 0; k < len; ++k) {
      const size_t i = (at + kRing - k) % kRing;
      sum_r += ring_r_[i];
      sum_x += ring_x_[i];
      sum_mu += ring_mu_[i];
    }
    means[w] = sum_r / len;
    // A window mean of values quantised at q moves in steps of q / len: its scale is not known better.
    const double floor = std::max(tiny, quantum_ / (2.0 * len));
    scales[w] = scale_w_[w] > 0 ? std::max(scale_sum_[w] / scale_w_[w], floor) : 0.0;
    double p = 1.0;
    if (scales[w] > 0) {
      zs[w] = means[w] / scales[w];
      p = tail(w, cfg.direction == Direction::kBoth ? std::fabs(zs[w]) : zs[w], cfg);
    }
    if (w == 0) out.upper = mu + 3.0 * scales[0];
    if (w == 0 || p < out.p) {
      out.p = p;
      out.window = len;
      out.window_actual = sum_x;
      out.window_expected = sum_mu;
    }
  }
  const double corrected = std::min(1.0, tests * out.p);
  const double raw_score = score_of_p(corrected);
  const bool warming_up = ts_s < alert_from_ts_;
  out.score = warming_up ? std::min(raw_score, cfg.warmup_cap) : raw_score;
  out.severity = severity_of(out.score);

  // Gate: an anomalous bucket teaches nothing for a bounded time (then the series follows its data).
  const auto max_gate = static_cast<uint32_t>(std::ceil(cfg.max_gate_hours * 3600.0 / cfg.bucket_s));
  const bool anomalous = corrected <= cfg.gate_p && !warming_up;
  const bool gated = anomalous && gated_ < max_gate;
  gated_ = anomalous ? std::min(gated_ + 1, max_gate) : 0;
  ++n_;
  if (gated) return out;

  // The first day teaches the level alone, as a plain mean (the day's mean, whatever its shape): hour cells
  // learned against a level that was still following the day would keep that day's distortion for weeks.
  const double day_buckets = kDay / cfg.bucket_s;
  const bool first_day = static_cast<double>(n_) <= day_buckets;
  const double level_before = level_;
  const double rate = 1.0 - decay(cfg.level_halflife_hours * 3600.0 / cfg.bucket_s);
  level_ += std::max(rate, first_day ? 1.0 / static_cast<double>(n_) : 0.0) * (value - off - level_);
  if (!first_day) {
    // A cell is visited 3600 / bucket_s buckets a day: its half-life in visits (days) counted in its buckets.
    const double dc = decay(cfg.shape_halflife_days * std::max(1.0, 3600.0 / cfg.bucket_s));
    Cells& c = cells_[kind];
    c.sum[own] = static_cast<float>(c.sum[own] * dc + (value - level_before));
    c.weight[own] = static_cast<float>(c.weight[own] * dc + 1.0);
  }
  if (first_day) return out;
  // The scales start on the second day, when the hour cells do, and their memory grows with their age up to
  // scale_halflife_days: residuals of the first days, while the shape is still being learned, are larger
  // than the series' noise and must not set its scale for a week.
  const double age = static_cast<double>(n_) - day_buckets;
  const double ds = decay(std::min(cfg.scale_halflife_days * day_buckets, std::max(age / 2, 12.0)));
  for (size_t w = 0; w < kCountWindows.size(); ++w) {
    if (kCountWindows[w] > ring_filled_) break;
    double v = std::fabs(means[w]);
    // Robust once the scale is known; during warm-up every bucket counts whole (the scale starts at 0).
    if (!warming_up) v = std::min(v, cfg.clip_scales * scales[w]);
    scale_sum_[w] = scale_sum_[w] * ds + v;
    scale_w_[w] = scale_w_[w] * ds + 1.0;
    exc_n_[w] *= ds;
    exc_s1_[w] *= ds;
    exc_s2_[w] *= ds;
    const double z = cfg.direction == Direction::kBoth ? std::fabs(zs[w]) : zs[w];
    if (scales[w] > 0 && z > cfg.tail_threshold) {
      const double y = std::min(z - cfg.tail_threshold, kMaxExcess);
      exc_n_[w] += 1;
      exc_s1_[w] += y;
      exc_s2_[w] += y * y;
    }
  }
  return out;
}

}  // namespace synscope::detector
