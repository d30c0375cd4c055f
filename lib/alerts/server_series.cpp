// alerts/server_series: see server_series.hpp.
#include "alerts/server_series.hpp"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include "flow/mix.hpp"

namespace synscope::alerts {

namespace {
constexpr uint64_t kMinAdmit = 1;       // failed sessions in one record bucket that earn an untracked server a series
constexpr uint32_t kSeriesGrain = 256;  // series per TBB task: a few microseconds of work each
}  // namespace

ServerSeriesSet::ServerSeriesSet(uint32_t capacity, double rank_decay)
    : series_(capacity), scored_(capacity), rank_decay_(rank_decay) {
  if (capacity == 0) return;
  size_t slots = 16;
  while (slots < size_t{capacity} * 2) slots <<= 1;
  index_slots_.assign(slots, 0);
  index_ = flow::HashIndex(index_slots_.data(), slots);
}

uint64_t ServerSeriesSet::key_hash(const ServerKey& server) noexcept {
  // Unkeyed: servers are admitted only for their own failed sessions, a bounded set of at most capacity().
  uint64_t w[2];
  std::memcpy(w, server.addr.bytes.data(), 16);
  const uint64_t tail = uint64_t{server.port} << 16 | server.ip_version;
  return flow::splitmix64(w[1] ^ flow::splitmix64(w[0] ^ flow::splitmix64(tail)));
}

uint32_t ServerSeriesSet::find(const ServerKey& server) const noexcept {
  if (series_.empty()) return kNone;
  return index_.find(key_hash(server), [&](uint32_t i) { return series_[i].server == server; });
}

void ServerSeriesSet::score(uint64_t start_ns, const uint32_t* counts, const BucketTally* tally,
                            const AlertConfig& config, AlertWriter& out) {
  if (series_.empty()) return;
  // Score every series; independent per series, so in parallel. Transitions are then taken in series order
  // on this thread, so the alert lines come out the same however the work was split.
  const double ts = static_cast<double>(start_ns / 1'000'000'000);
  const uint32_t n = used_;
  oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<uint32_t>(0, n, kSeriesGrain),
                            [&](const oneapi::tbb::blocked_range<uint32_t>& r) {
                              for (uint32_t i = r.begin(); i != r.end(); ++i) {
                                const double v = counts[i];
                                ServerSeries& s = series_[i];
                                scored_[i] = s.model.observe(ts, v, config.counts);
                                s.rank = s.rank * rank_decay_ + v;
                              }
                            });
  for (uint32_t i = 0; i < n; ++i) {
    ServerSeries& s = series_[i];
    const detector::Transition t = s.state.update(scored_[i], config.policy);
    if (s.state.firing() || t == detector::Transition::kResolved) s.last = scored_[i];
    if (t == detector::Transition::kFiring || t == detector::Transition::kEscalated) {
      write(start_ns, s, LineState::kFiring, tally, out);
    }
    if (t == detector::Transition::kResolved) write(start_ns, s, LineState::kResolved, tally, out);
  }
}

void ServerSeriesSet::admit(BucketTally& tally, TallyRing& tallies, uint32_t* counts, uint64_t start_ns,
                            double alert_from_ts, const AlertConfig& config) {
  if (series_.empty()) return;
  const double prior_rate = config.server_prior_per_day * config.counts.bucket_s / 86400.0;
  const double from = std::max(alert_from_ts, static_cast<double>(start_ns / 1'000'000'000));
  // This bucket's busiest untracked servers take a free series, or the place of the series ranked lowest
  // that is not firing when they failed more in this one bucket than its decayed total.
  for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) {
    const auto perspective = static_cast<uint8_t>(p);
    for (const auto& e : tally.servers[p].top(kTopServers)) {
      if (e.count < kMinAdmit) break;      // sorted
      if (find(e.key) != kNone) continue;  // one series per server, whichever perspective failed first
      uint32_t victim = kNone;
      if (used_ < series_.size()) {
        victim = used_++;
      } else {
        double lowest = static_cast<double>(e.count);
        for (uint32_t i = 0; i < used_; ++i) {
          if (!series_[i].state.firing() && series_[i].rank < lowest) {
            lowest = series_[i].rank;
            victim = i;
          }
        }
        if (victim == kNone) continue;
        index_.erase(key_hash(series_[victim].server), victim);
        // Buckets still open counted the old server under this index: those counts are not the new one's.
        tallies.forget_series(victim);
      }
      ServerSeries& s = series_[victim];
      s = ServerSeries{};
      s.server = e.key;
      s.perspective = perspective;
      s.model = detector::CountModel::with_prior(prior_rate, 1.0, from);
      index_.place(key_hash(e.key), victim);
      tally.series_counts[victim] = static_cast<uint32_t>(e.count);  // Space-Saving's count for this bucket
      tallies.claim_series(victim, e.key, tally.index);
      counts[victim] = 0;  // what the detector bucket summed so far was the old server's
    }
  }
  for (uint32_t i = 0; i < used_; ++i) counts[i] += tally.series_counts[i];
}

void ServerSeriesSet::write(uint64_t start_ns, const ServerSeries& series, LineState state, const BucketTally* tally,
                            AlertWriter& out) const {
  const auto p = static_cast<buckets::Perspective>(series.perspective);
  TopList top;
  if (tally != nullptr) {  // the server's busiest clients in this bucket, its own perspective's first
    size_t listed = 0;
    for (size_t k = 0; k < buckets::kPerspectiveCount && listed < 3; ++k) {
      const size_t q = (static_cast<size_t>(p) + k) % buckets::kPerspectiveCount;
      for (const auto& e : tally->pairs[q].top(kTopPairs)) {
        if (!(e.key.server == series.server)) continue;
        char ip[64];
        packet::format_ip(e.key.client, e.key.server.ip_version, ip, sizeof(ip));
        top.add("client", ip, e.count);
        if (++listed == 3) break;
      }
    }
  }
  out.write(start_ns, AlertMetric::kFailedSessions, buckets::perspective_name(p), server_text(series.server),
            series.last, state, top);
}

uint32_t ServerSeriesSet::firing() const noexcept {
  uint32_t n = 0;
  for (uint32_t i = 0; i < used_; ++i) n += series_[i].state.firing();
  return n;
}

void ServerSeriesSet::restore(const char* bytes, uint32_t used) noexcept {
  static_assert(std::is_trivially_copyable_v<ServerSeries>);
  std::memcpy(static_cast<void*>(series_.data()), bytes, series_.size() * sizeof(ServerSeries));
  used_ = used;
  if (series_.empty()) return;
  index_.clear();
  for (uint32_t i = 0; i < used_; ++i) index_.place(key_hash(series_[i].server), i);
}

}  // namespace synscope::alerts
