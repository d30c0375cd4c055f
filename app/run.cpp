// run: see run.hpp.
#include "run.hpp"

#include <chrono>
#include <cstdio>

#include "live/live.hpp"
#include "metrics/metrics.hpp"
#include "output/output.hpp"
#include "replay.hpp"
#include "channel/channel.hpp"

namespace synscope::app {

int run_live(const RunOptions& options, const std::atomic<bool>& stop) {
  live::DataPlane plane(options.live);
  std::unique_ptr<metrics::MetricsServer> server;
  if (options.metrics_listen != "none") server = std::make_unique<metrics::MetricsServer>(options.metrics_listen, plane);
  if (!metrics::register_telemetry(plane)) std::fprintf(stderr, "synscope: warning: rte_telemetry refused /synscope/stats\n");
  if (!options.quiet) {
    std::fprintf(stderr, "%s", plane.describe().c_str());
    if (server) {
      const std::string host = options.metrics_listen.substr(0, options.metrics_listen.rfind(':'));
      std::fprintf(stderr, "metrics: http://%s:%d/metrics\n", host.c_str(), server->port());
    }
  }
  std::fflush(stderr);
  plane.start();

  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  auto last_change = started;
  uint64_t last_received = 0;
  auto next_check = started;
  channel::Backoff backoff;
  while (!stop.load(std::memory_order_relaxed)) {
    if (plane.poll_stats()) {
      backoff.reset();
      continue;
    }
    backoff.pause();
    const auto now = Clock::now();
    if (now < next_check) continue;
    next_check = now + std::chrono::milliseconds(10);
    if (options.duration_s > 0 && now - started >= std::chrono::duration<double>(options.duration_s)) break;
    if (options.idle_exit_s > 0) {
      const uint64_t received = plane.packets_received();
      if (received != last_received) {
        last_received = received;
        last_change = now;
      } else if (now - last_change >= std::chrono::duration<double>(options.idle_exit_s)) {
        break;
      }
    }
  }
  plane.stop();  // RX stops; engines report every open connection; rings drained; last buckets emitted
  std::string error;
  const bool written = plane.flush_outputs(error);
  if (!options.quiet) {
    const live::Snapshot s = plane.snapshot();  // after stop(): the final counters
    const live::RxTotals rx = live::rx_totals(s);
    std::string per_queue;
    for (const auto& c : s.cores) {
      for (size_t q = 0; q < c.queues.size(); ++q) {
        per_queue += " port" + std::to_string(c.queues[q].port_id) + "/q" + std::to_string(c.queues[q].queue) + "@lcore" +
                     std::to_string(c.lcore) + "=" + std::to_string(c.stats.rx_packets[q]);
      }
    }
    std::fprintf(stderr, "rx: %llu packets on %zu port(s); dropped: ring_full %llu, NIC imissed %llu, rx_nombuf %llu\n",
                 static_cast<unsigned long long>(rx.packets), s.ports.size(), static_cast<unsigned long long>(rx.ring_full),
                 static_cast<unsigned long long>(rx.imissed), static_cast<unsigned long long>(rx.rx_nombuf));
    std::fprintf(stderr, "rx by queue:%s\n", per_queue.c_str());
    std::fprintf(stderr, "%s",
                 output::format_summary(live::merged_engine_counters(s), s.stats_core.late_sessions).c_str());
  }
  server.reset();  // before the plane it reads
  if (!written) {
    std::fprintf(stderr, "synscope: error: %s\n", error.c_str());
    return kExitOutput;
  }
  return kExitOk;
}

}  // namespace synscope::app
