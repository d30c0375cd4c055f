// alerts: the AlertEngine, which feeds sessions and buckets to its parts. See alerts.hpp.
#include "alerts/alerts.hpp"

#include <algorithm>
#include <cmath>

namespace synscope::alerts {

std::string partition_text(const FiringPartition& f) {
  if (f.client != 0) {
    char ip[64];
    packet::format_ip(f.addr, f.ip_version, ip, sizeof(ip));
    return ip;
  }
  return server_text(ServerKey{f.addr, f.port, f.ip_version});
}

namespace {
/// The settings with the detector bucket and the fire score filled in.
AlertConfig with_detector_span(AlertConfig c) {
  c.counts.bucket_s = static_cast<double>(detector_span_ns(c.policy.detector_bucket_s, c.bucket_span_ns)) / 1e9;
  c.counts.fire_score = c.policy.fire_score;
  return c;
}
}  // namespace

AlertEngine::AlertEngine(const AlertConfig& config, output::OutputFile& out)
    : config_(with_detector_span(config)),
      detector_span_ns_(alerts::detector_span_ns(config.policy.detector_bucket_s, config.bucket_span_ns)),
      writer_(out),
      // Every bucket that may still get sessions (the settle time), and a margin.
      tallies_(config.bucket_settle_ns / config.bucket_span_ns + 8, config.bucket_span_ns, config.policy.server_series),
      servers_(config.policy.server_series, std::exp2(-config_.counts.bucket_s / 86400.0)),  // half-life a day
      series_sums_(config.policy.server_series, 0) {}

uint64_t AlertEngine::bytes_for(const AlertConfig& config) noexcept {
  const uint64_t series = config.policy.server_series;
  const uint64_t tallies = config.bucket_settle_ns / config.bucket_span_ns + 8;
  uint64_t slots = 16;
  while (slots < series * 2) slots <<= 1;
  return sizeof(AlertEngine) + tallies * (sizeof(BucketTally) + series * sizeof(uint32_t)) +
         series * (sizeof(ServerSeries) + sizeof(detector::Scored) + sizeof(uint32_t)) +
         (series == 0 ? 0 : slots * sizeof(uint64_t));
}

void AlertEngine::on_session(const engine::SessionRecord& r) {
  if (!tcp_session::is_failed(r.state)) return;
  BucketTally& tally = tallies_.open(r.session->first_ns);
  const ServerKey server{r.resp_h, r.resp_p, r.ip_version};
  const auto p = static_cast<size_t>(r.perspective);
  tally.servers[p].add(server);
  const uint32_t series = servers_.find(server);
  if (series != ServerSeriesSet::kNone) ++tally.series_counts[series];
  tally.pairs[p].add(ClientServerKey{server, r.orig_h});
}

void AlertEngine::on_bucket(const buckets::Bucket& b) {
  // Buckets without sessions are never emitted: they are zeros for the model. A gap longer than a week (a
  // capture's clock jump) is not filled — the model just sees time move on.
  constexpr uint64_t kMaxFill = 7 * 24 * 3600;
  if (started_ && b.start_ns > next_start_ns_ && (b.start_ns - next_start_ns_) / 1'000'000'000 <= kMaxFill) {
    for (uint64_t t = next_start_ns_; t < b.start_ns; t += config_.bucket_span_ns) record_bucket(t, nullptr);
  }
  if (!started_) first_ns_ = b.start_ns;
  started_ = true;
  record_bucket(b.start_ns, &b);
  clients_.observe(b.start_ns, tallies_.find(b.start_ns), config_, writer_);
  next_start_ns_ = b.start_ns + config_.bucket_span_ns;
}

void AlertEngine::record_bucket(uint64_t start_ns, const buckets::Bucket* b) {
  const uint64_t span = detector_span_ns_;
  const uint64_t det_start = start_ns / span * span;
  if (sum_.start_ns != det_start || sum_.span_ns == 0) {  // a new detector bucket opens
    sum_ = buckets::Bucket{};
    sum_.start_ns = det_start;
    sum_.span_ns = span;
    sum_emitted_ = false;
    std::fill(series_sums_.begin(), series_sums_.end(), 0);
  }
  if (b != nullptr) {
    for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) sum_.by_perspective[p].merge(b->by_perspective[p]);
    sum_emitted_ = true;
  }
  BucketTally* tally = tallies_.find(start_ns);
  const double warm_from = static_cast<double>(first_ns_ / 1'000'000'000) + config_.counts.warmup_days * 86400.0;
  if (tally != nullptr) servers_.admit(*tally, tallies_, series_sums_.data(), start_ns, warm_from, config_);
  if (start_ns + config_.bucket_span_ns < det_start + span) return;  // more record buckets to come
  perspectives_.observe(det_start, sum_emitted_ ? &sum_ : nullptr, tally, config_, writer_);
  servers_.score(det_start, series_sums_.data(), tally, config_, writer_);
  sum_.span_ns = 0;  // scored: the next record bucket opens a new one
}

uint32_t AlertEngine::firing() const noexcept {
  return static_cast<uint32_t>(clients_.alerts().size()) + perspectives_.firing() + servers_.firing();
}

uint32_t AlertEngine::firing_partitions(FiringPartition* out, uint32_t max) const noexcept {
  uint32_t n = 0;
  auto add = [&](const packet::IpAddr& addr, uint16_t port, uint8_t version, buckets::Perspective p, bool client,
                 const detector::Scored& s) {
    if (n < max) {
      FiringPartition& f = out[n];
      f = FiringPartition{};
      f.addr = addr;
      f.port = port;
      f.ip_version = version;
      f.perspective = static_cast<uint8_t>(p);
      f.client = client ? 1 : 0;
      f.actual = s.actual;
      f.typical = s.typical;
      f.upper = s.upper;
      f.score = s.score;
    }
    ++n;
  };
  for (uint32_t i = 0; i < servers_.used(); ++i) {
    const ServerSeries& ss = servers_.at(i);
    if (ss.state.firing()) {
      add(ss.server.addr, ss.server.port, ss.server.ip_version, static_cast<buckets::Perspective>(ss.perspective),
          false, ss.last);
    }
  }
  for (const ClientView::Alert& c : clients_.alerts()) {
    add(c.client, 0, c.server.ip_version, c.perspective, true, c.fired);
  }
  return n;
}

}  // namespace synscope::alerts
