// alerts: the AlertEngine, which feeds sessions and buckets to its parts. See alerts.hpp.
#include "alerts/alerts.hpp"

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
/// The detector settings with the bucket span filled in.
AlertConfig with_bucket_span(AlertConfig c) {
  c.detector.bucket_s = static_cast<double>(c.bucket_span_ns) / 1e9;
  return c;
}
}  // namespace

AlertEngine::AlertEngine(const AlertConfig& config, output::OutputFile& out)
    : config_(with_bucket_span(config)),
      writer_(out),
      // Every bucket that may still get sessions (the settle time), and a margin.
      tallies_(config.bucket_settle_ns / config.bucket_span_ns + 8, config.bucket_span_ns, config.policy.server_series),
      servers_(config.policy.server_series, std::exp2(-config_.detector.bucket_s / 86400.0)) {}  // half-life a day

void AlertEngine::on_session(const engine::SessionRecord& r) {
  if (!tcp_session::is_failed(r.state)) return;
  BucketTally& tally = tallies_.open(r.session->first_ns);
  const ServerKey server{r.resp_h, r.resp_p, r.ip_version};
  const auto p = static_cast<size_t>(r.perspective);
  tally.servers[p].add(server);
  const uint32_t series = servers_.find(static_cast<uint8_t>(p), server);
  if (series != ServerSeriesSet::kNone) ++tally.series_counts[series];
  tally.pairs[p].add(ClientServerKey{server, r.orig_h});
}

void AlertEngine::on_bucket(const buckets::Bucket& b) {
  // Buckets without sessions are never emitted: they are zeros for the model. A gap longer than a week (a
  // capture's clock jump) is not filled — the model just sees time move on.
  constexpr uint64_t kMaxFill = 7 * 24 * 3600;
  if (started_ && b.start_ns > next_start_ns_ && (b.start_ns - next_start_ns_) / 1'000'000'000 <= kMaxFill) {
    for (uint64_t t = next_start_ns_; t < b.start_ns; t += config_.bucket_span_ns) {
      BucketTally* tally = tallies_.find(t);
      perspectives_.observe(t, nullptr, tally, config_, writer_);
      servers_.observe(t, tally, tallies_, config_, writer_);
    }
  }
  started_ = true;
  BucketTally* tally = tallies_.find(b.start_ns);
  perspectives_.observe(b.start_ns, &b, tally, config_, writer_);
  servers_.observe(b.start_ns, tally, tallies_, config_, writer_);
  clients_.observe(b.start_ns, tally, config_, writer_);
  next_start_ns_ = b.start_ns + config_.bucket_span_ns;
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
