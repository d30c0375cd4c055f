// detector/count_model: see count_model.hpp.
#include "detector/count_model.hpp"
#include "detector/hour_position.hpp"

#include <boost/math/policies/policy.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/gamma.hpp>

#include <algorithm>
#include <cmath>

namespace synscope::detector {

namespace {

constexpr double kDay = 86400.0;
constexpr double kWeek = 7 * kDay;
constexpr double kWindowTests = 3;  // Bonferroni: the three windows are three tests per bucket

// No exceptions on the data side: a domain or evaluation error sets errno and returns a value we clamp.
using ErrnoPolicy = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::errno_on_error>,
    boost::math::policies::pole_error<boost::math::policies::errno_on_error>,
    boost::math::policies::overflow_error<boost::math::policies::errno_on_error>,
    boost::math::policies::evaluation_error<boost::math::policies::errno_on_error>,
    boost::math::policies::rounding_error<boost::math::policies::errno_on_error>,
    boost::math::policies::indeterminate_result_error<boost::math::policies::errno_on_error>>;

/// Per-bucket decay that halves a sum over `halflife_buckets` buckets.
double decay(double halflife_buckets) noexcept { return std::exp2(-1.0 / std::max(halflife_buckets, 1e-9)); }

}  // namespace

double score_of_p(double p) noexcept {
  const double l = -std::log10(std::clamp(p, 1e-300, 1.0));
  return std::clamp(10.0 * (l - 1.0), 0.0, 100.0);
}

double count_tail(double x, double mean, double inv_size) noexcept {
  x = std::ceil(x - 1e-9);
  if (x <= 0) return 1.0;
  if (mean <= 0) return 0.0;
  double p = 0;
  if (inv_size * mean < 1e-9) {
    p = boost::math::gamma_p(x, mean, ErrnoPolicy());  // Poisson: P(X >= x) = P(x, mean)
  } else {
    const double r = 1.0 / inv_size;
    // Negative binomial (size r, success probability r / (r + mean)): P(X <= x - 1) = I_q(r, x).
    p = boost::math::ibetac(r, x, r / (r + mean), ErrnoPolicy());
  }
  return std::isfinite(p) ? std::clamp(p, 0.0, 1.0) : 1.0;
}

CountModel CountModel::with_prior(double rate, double counts, double alert_from_ts) noexcept {
  CountModel m;
  m.started_ = true;
  m.level_s_ = counts;
  m.level_e_ = counts / std::max(rate, 1e-12);
  m.alert_from_ts_ = alert_from_ts;
  // The buckets before admission were (about) as the prior says: the windows are full from the start, so a
  // first burst is summed with the quiet before it.
  m.ring_mu_.fill(static_cast<float>(rate));
  m.ring_filled_ = kRing;
  return m;
}

double CountModel::dispersion(size_t window, const CountConfig& cfg) const noexcept {
  const double prior = 1.0 / (cfg.dispersion_prior_sd * cfg.dispersion_prior_sd);
  return std::max(0.0, double{disp_num_[window]} / (disp_den_[window] + prior));
}

double CountModel::level() const noexcept { return level_e_ > 0 ? level_s_ / level_e_ : 0.0; }

double CountModel::weekend_ratio(const CountConfig& cfg) const noexcept {
  double s = 0, e = 0;
  for (size_t h = 0; h < 24; ++h) {
    s += cells_[1].s[h];
    e += cells_[1].e[h];
  }
  return (s + cfg.shape_prior_counts) / (e + cfg.shape_prior_counts);
}

void CountModel::learn(const Pending& b, const CountConfig& cfg) noexcept {
  const double day_buckets = kDay / cfg.bucket_s;
  if (b.dispersion) {
    const double d = decay(cfg.dispersion_halflife_days * day_buckets);
    for (size_t w = 0; w < kCountWindows.size(); ++w) {
      disp_num_[w] = static_cast<float>(disp_num_[w] * d + b.num[w]);
      disp_den_[w] = static_cast<float>(disp_den_[w] * d + b.den[w]);
    }
  }
  if (!b.baseline) return;
  // A bucket teaches its own hour's cell only (interpolation is for prediction): a cell learned from its
  // neighbours' buckets is biased toward the side it has seen, and on a first visit that is one side.
  const double dc = decay(cfg.shape_halflife_days * 3600.0 / cfg.bucket_s);
  Cells& c = cells_[b.kind];
  c.s[b.own] = static_cast<float>(c.s[b.own] * dc + b.count);
  c.e[b.own] = static_cast<float>(c.e[b.own] * dc + b.exposure);
  // The level learns in proportion to how well the shape of this hour is known (its counts against the
  // prior's): the first visit of a cell (a first Saturday) says more about the shape than about the level,
  // and learning it as a level drop made the following Monday look like a surge.
  if (n_ > 0 || level_e_ > 1) {  // a fresh series' first bucket is already its level
    const double dl = std::pow(decay(cfg.level_halflife_days * day_buckets), b.confidence);
    level_s_ = level_s_ * dl + b.confidence * b.count;
    level_e_ = level_e_ * dl + b.confidence * b.shape;
  }
}

Scored CountModel::observe(double ts_s, double count, const CountConfig& cfg) noexcept {
  count = std::max(count, 0.0);
  if (!started_) {  // no prior: the first bucket is the level, and the series warms up
    started_ = true;
    level_s_ = count + 0.5;
    level_e_ = 1;
    alert_from_ts_ = ts_s + cfg.warmup_days * kDay;
  }
  const HourPosition hp = hour_position(ts_s, cfg.bucket_s);
  const size_t kind = hp.kind, h1 = hp.h1, h2 = hp.h2, own = hp.own;
  const double w2 = hp.w2;
  const double a = cfg.shape_prior_counts;
  // Weekday shape (prior mean 1), interpolated between hour centres.
  const auto weekday_shape = [&](size_t h) { return (cells_[0].s[h] + a) / (cells_[0].e[h] + a); };
  const double weekday = (1 - w2) * weekday_shape(h1) + w2 * weekday_shape(h2);
  // Relative variance of the expectation itself: the level's and the shape cells' gamma posteriors (1 over
  // their counts), and for overdispersed counts phi over the buckets behind each estimate (a cell learned
  // from a dozen buckets of a bursty series is not known to 1/sqrt(its counts)).
  const double phi1 = dispersion(0, cfg);
  const double now_level = std::max(level(), 1e-12);
  // A cell's relative variance: 1 / (its counts + a), + phi / (its buckets + 1); interpolated like the shape.
  const auto cell_var = [&](size_t kind_of, size_t h, double per_bucket) {
    return 1.0 / (cells_[kind_of].s[h] + a) + phi1 / (cells_[kind_of].e[h] / per_bucket + 1.0);
  };
  double shape = weekday;
  double evidence = cells_[0].s[own] + a;
  double rel_var = (1 - w2) * cell_var(0, h1, now_level) + w2 * cell_var(0, h2, now_level);
  // Weekend hours are seen two days a week: what the dispersion learned (mostly on weekdays) does not
  // include their estimates' error, so it is added, not maxed with it.
  double weekend_var = 0;
  if (kind == 1) {  // weekend hour = weekday shape × this hour's weekend ratio (prior: the weekend's overall)
    const double r = weekend_ratio(cfg);
    const auto ratio = [&](size_t h) { return (cells_[1].s[h] + a * r) / (cells_[1].e[h] + a); };
    shape = weekday * ((1 - w2) * ratio(h1) + w2 * ratio(h2));
    evidence = cells_[1].s[own] + a;
    const double per_bucket = now_level * std::max(weekday, 1e-3);
    weekend_var = (1 - w2) * cell_var(1, h1, per_bucket) + w2 * cell_var(1, h2, per_bucket);
  }
  const double floor = cfg.bucket_s / kWeek;  // one event a week: a silent series is not certain to stay so
  const double mu = std::max(now_level * shape, floor);
  const double u = 1.0 / std::max(level_s_, 0.5) + phi1 / (level_e_ + 1.0) + rel_var;

  const size_t at = n_ % kRing;
  ring_x_[at] = static_cast<float>(count);
  ring_mu_[at] = static_cast<float>(mu);
  if (ring_filled_ < kRing) ++ring_filled_;
  const uint32_t filled = ring_filled_;
  std::array<double, 3> xs{}, ms{};
  Scored out;
  out.actual = count;
  out.typical = mu;
  for (size_t w = 0; w < kCountWindows.size(); ++w) {
    if (kCountWindows[w] > filled) break;
    for (uint32_t k = 0; k < kCountWindows[w]; ++k) {
      const size_t i = (at + kRing - k) % kRing;
      xs[w] += ring_x_[i];
      ms[w] += ring_mu_[i];
    }
    const double phi = dispersion(w, cfg);
    // The exact tail only for a window more than one sd above its expectation: below that p is above ~0.15,
    // scores 0 and gates nothing, and the incomplete beta is most of a bucket's cost.
    const double inv = std::max(phi, u) + weekend_var;
    const double excess = xs[w] - ms[w];
    const double p = excess > 0 && excess * excess > ms[w] + inv * ms[w] * ms[w] ? count_tail(xs[w], ms[w], inv) : 1.0;
    if (w == 0) {
      // The 1-bucket upper bound reported: mean + 3 sd under that bucket's distribution.
      out.upper = mu + 3.0 * std::sqrt(mu + (std::max(phi, u) + weekend_var) * mu * mu);
    }
    if (w == 0 || p < out.p) {
      out.p = p;
      out.window = kCountWindows[w];
      out.window_actual = xs[w];
      out.window_expected = ms[w];
    }
  }
  const double raw_score = score_of_p(std::min(1.0, kWindowTests * out.p));
  const bool warming_up = ts_s < alert_from_ts_;
  out.score = warming_up ? std::min(raw_score, cfg.warmup_cap) : raw_score;
  out.severity = severity_of(out.score);

  // Gate: a bucket whose corrected p is at most gate_p teaches the level and shape nothing, for a bounded
  // time (then the level follows the data). A series warming up without a prior learns from everything:
  // it has no baseline to defend yet. The dispersion still learns from a bucket that is merely unusual:
  // leaving out a heavy-tailed series' largest buckets would make it look lighter-tailed than it is; an
  // alert's buckets are never its evidence.
  const bool alerting = raw_score >= cfg.fire_score;
  const bool anomalous = std::min(1.0, kWindowTests * out.p) <= cfg.gate_p || alerting;
  const auto max_gate = static_cast<uint32_t>(std::ceil(cfg.max_gate_hours * 3600.0 / cfg.bucket_s));
  const bool gated = anomalous && !warming_up && gated_ < max_gate;
  if (anomalous && !warming_up) {
    if (gated_ < max_gate) ++gated_;
  } else {
    gated_ = 0;
  }
  // Learning is committed kDelay buckets late, and dropped when an alert fires in between: the first
  // buckets of an incident score below the fire score, and learning them (as the series' burstiness, or
  // its level at that hour) made the next, identical incident score 20-40 points lower.
  if (alerting && !warming_up) {
    pending_.fill({});
  } else if (pending_[kDelay - 1].valid) {
    learn(pending_[kDelay - 1], cfg);
  }
  for (size_t k = kDelay - 1; k > 0; --k) pending_[k] = pending_[k - 1];
  Pending now{};
  now.valid = true;
  now.kind = static_cast<uint8_t>(kind);
  now.own = static_cast<uint8_t>(own);
  now.count = static_cast<float>(count);
  now.exposure = static_cast<float>(now_level * (kind == 1 ? weekday : 1.0));
  now.shape = static_cast<float>(shape);
  now.confidence = static_cast<float>(warming_up ? 1.0 : 1.0 - a / evidence);  // warm-up: every hour is new
  now.baseline = !gated;
  now.dispersion = !warming_up && !alerting;
  since_alert_ = alerting ? 0 : std::min<uint32_t>(since_alert_ + 1, kRing);
  for (size_t w = 0; w < kCountWindows.size() && now.dispersion; ++w) {
    if (kCountWindows[w] > filled || ms[w] <= 0) break;
    if (kCountWindows[w] > since_alert_) continue;  // the window still holds an alert's buckets
    // Weighted least squares for E[(X - M)^2 - M] = phi M^2 with Var ~ M + 2 M^2: weight M / (1 + 2 M).
    const double g = ms[w] / (1.0 + 2.0 * ms[w]);
    now.num[w] = static_cast<float>(g * ((xs[w] - ms[w]) * (xs[w] - ms[w]) - ms[w]));
    now.den[w] = static_cast<float>(g * ms[w] * ms[w]);
  }
  if (warming_up) {  // nothing to defend yet: learn at once
    learn(now, cfg);
    now.valid = false;
  }
  pending_[0] = now;
  ++n_;
  return out;
}

}  // namespace synscope::detector
