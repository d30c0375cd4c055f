// stats_core: see stats_core.hpp.
#include "live/stats_core.hpp"

#include <rte_cycles.h>

#include <algorithm>
#include <cstdio>
#include <exception>

namespace synscope::live {

StatsCore::StatsCore(const consumers::ConsumerConfig& config, std::vector<lcore::FlowOwner*> engines,
                     const lcore::TscClock& clock)
    : engines_(std::move(engines)), consumers_(config), pacer_(clock) {
  stats_.bucket_span_ns = config.bucket_span_ns;
  stats_.bucket_settle_ns = config.bucket_settle_ns;
  if (!config.alerts_out.empty()) {
    stats_.detector_enabled = 1;
    stats_.server_series_capacity = config.alert_policy.server_series;
    stats_.detector_bucket_ns = alerts::detector_span_ns(config.alert_policy.detector_bucket_s, config.bucket_span_ns);
    refresh_detector_stats();  // a model loaded from --model-file shows its state before the first bucket
  }
}

bool StatsCore::poll_once() noexcept {
  const uint32_t taken = merge(/*final=*/false);
  const uint64_t tsc = rte_rdtsc();
  if (pacer_.publish_due(tsc)) publish();
  if (pacer_.flush_due(tsc)) {
    consumers_.flush_files();
    publish_top();
  }
  return taken > 0;
}

void StatsCore::finish() noexcept {
  while (merge(/*final=*/true) > 0) {
  }
  try {
    consumers_.finish();
  } catch (const std::exception&) {
    failed("emitting the last buckets");
  }
  publish();
  publish_top();
}

bool StatsCore::close(std::string& error) {
  const bool ok = consumers_.close(error);
  publish();
  return ok;
}

std::string StatsCore::progress() const {
  const consumers::OutputStats o = consumers_.output_stats();
  std::string out = "progress: " + std::to_string(consumers_.sessions()) + " sessions, " +
                    std::to_string(consumers_.buckets_emitted()) + " buckets;";
  for (size_t i = 0; i < consumers::kOutputCount; ++i) {
    out += std::string(" ") + consumers::kOutputNames[i] + " " + std::to_string(o.written[i]) + " written";
    if (o.dropped[i] != 0) out += " (" + std::to_string(o.dropped[i]) + " dropped)";
  }
  return out + "\n";
}

bool StatsCore::engines_done() const noexcept {
  return std::all_of(engines_.begin(), engines_.end(),
                     [](const lcore::FlowOwner* o) { return o->sessions->producer_done(); });
}

// Takes finished sessions in the order of the engine time at which they were written (one record of
// lookahead per channel), settling buckets as that time passes — for one engine exactly what replay does,
// so bucket records match replay. An engine with nothing waiting holds the merge back only up to the time
// it last published (every record it writes later is at least that late); a ring filling up overrides
// that, so nothing stalls.
uint32_t StatsCore::merge(bool final) noexcept {
  uint32_t taken = 0;
  for (; taken < 4096; ++taken) {
    lcore::FlowOwner* best = nullptr;
    uint64_t best_t = UINT64_MAX, bound = UINT64_MAX;
    bool pressed = false;
    for (lcore::FlowOwner* o : engines_) {
      const uint64_t published = o->time_ns.load(std::memory_order_acquire);  // before peek(): see above
      if (const engine::SessionRecord* r = o->sessions->peek()) {
        pressed = pressed || o->sessions->pressed();
        if (r->settled_ns < best_t) {
          best_t = r->settled_ns;
          best = o;
        }
      } else if (!final && published != 0 && !o->sessions->producer_done() && published < bound) {
        bound = published;
      }
    }
    if (best == nullptr || (best_t > bound && !pressed)) {
      if (bound != UINT64_MAX) {
        try {
          consumers_.settle(bound);
        } catch (const std::exception&) {
          failed("settling buckets");
        }
      }
      break;
    }
    take(*best);
  }
  return taken;
}

void StatsCore::take(lcore::FlowOwner& owner) noexcept {
  try {
    consumers_.receive(*owner.sessions->peek(), owner.sessions->peeked_line());
  } catch (const std::exception&) {
    failed("consuming a session");
  }
  owner.sessions->pop();  // taken even when a consumer failed on it: the merge goes on
}

void StatsCore::failed(const char* what) noexcept {
  if (stats_.consumer_errors++ == 0) {
    std::fprintf(stderr,
                 "synscope: error: the stats core failed %s (counted in "
                 "synscope_consumer_errors_total; carrying on)\n",
                 what);
  }
}

void StatsCore::refresh_detector_stats() noexcept {
  const alerts::AlertEngine* a = consumers_.alert_engine();
  if (a == nullptr) return;
  stats_.alerts_firing = a->firing();
  stats_.alert_transitions = a->alerts_written();
  stats_.server_series = a->server_series();
  stats_.partitions_firing = a->firing_partitions(stats_.partitions.data(), kMaxExportedPartitions);
  for (size_t p = 0; p < alerts::kPerspectiveSeries; ++p) {
    const detector::Scored& sc = a->last(p);
    stats_.expected[p] = sc.typical;
    stats_.upper[p] = sc.upper;
    stats_.score[p] = sc.score;
    stats_.firing[p] = a->series_firing(p) ? 1 : 0;
  }
}

void StatsCore::refresh_bucket_stats() noexcept {
  buckets_seen_ = consumers_.buckets_emitted();
  const buckets::Bucket& b = consumers_.last_bucket();
  stats_.buckets_emitted = buckets_seen_;
  stats_.last_bucket_start_ns = b.start_ns;
  stats_.last_bucket_span_ns = b.span_ns;
  for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) {
    stats_.last_bucket_attempts[p] = b.by_perspective[p].attempts;
    stats_.last_bucket_failed[p] = b.by_perspective[p].failed;
  }
  refresh_detector_stats();
}

void StatsCore::publish_top() noexcept {
  const top::TopViews* views = consumers_.top_views();
  if (views == nullptr) return;
  try {
    top.publish(views->snapshot());
  } catch (const std::exception&) {  // the merge allocates: out of memory is counted, the view stays as it was
    failed("merging the top-N views");
  }
}

void StatsCore::publish() noexcept {
  stats_.sessions_taken = consumers_.sessions();
  stats_.outputs = consumers_.output_stats();
  stats_.sessions_written = stats_.outputs.written[static_cast<size_t>(consumers::Output::kSessions)];
  stats_.late_sessions = consumers_.late_sessions();
  stats_.watermark_ns = consumers_.settled_ns();
  if (consumers_.buckets_emitted() != buckets_seen_) refresh_bucket_stats();
  mirror.publish(stats_);
}

}  // namespace synscope::live
