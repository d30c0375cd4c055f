// run: see run.hpp.
#include "run.hpp"

#include <rte_lcore.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "error/error.hpp"
#include "live/live.hpp"
#include "memory_budget.hpp"
#include "metrics/metrics.hpp"
#include "service_notify.hpp"

namespace synscope::app {

int run_live(const RunOptions& options, consumers::Requests& requests) {
  // Engines: the spread workers, else at most one per worker lcore (the RX cores, one per queue).
  const uint32_t engines = options.live.spread_workers > 0 ? static_cast<uint32_t>(options.live.spread_workers)
                                                           : std::max(rte_lcore_count(), 2u) - 1;
  check_memory(memory_uses(options.live.engine, engines, options.live.consumers), options.memory_budget_mib);
  live::DataPlane plane(options.live);
  std::unique_ptr<metrics::MetricsServer> server;
  if (options.metrics_listen != "none")
    server = std::make_unique<metrics::MetricsServer>(options.metrics_listen, plane, options.web);
  // Declared after the plane, so destroyed before it: no telemetry request reads a destroyed plane.
  const metrics::TelemetryBinding telemetry(plane);
  if (!telemetry.registered()) std::fprintf(stderr, "synscope: warning: rte_telemetry refused /synscope/stats\n");
  if (!options.quiet) {
    std::fprintf(stderr, "%s", plane.describe().c_str());
    if (server) {
      const std::string host = options.metrics_listen.substr(0, options.metrics_listen.rfind(':'));
      std::fprintf(stderr, "metrics: %s://%s:%d/metrics%s\n", options.web.tls() ? "https" : "http", host.c_str(),
                   server->port(), options.web.users.empty() ? "" : " (basic auth)");
    }
  }
  std::fflush(stderr);
  plane.start();
  ServiceNotifier service;
  live::RunLimits limits = options.limits;
  limits.on_tick = [&service] { service.tick(); };
  limits.on_stopping = [&service] { service.stopping("stopping: draining the engines, flushing the outputs"); };
  service.ready(server ? "running; metrics on port " + std::to_string(server->port()) : "running");
  plane.run(requests, limits);  // returns stopped: RX off, rings drained, last buckets emitted
  std::string error;
  const bool written = plane.close(error);
  if (!options.quiet) std::fprintf(stderr, "%s", plane.summary().c_str());
  server.reset();  // before the plane it reads
  if (!written) {
    std::fprintf(stderr, "synscope: error: %s\n", error.c_str());
    return exit_code(ErrorKind::kOutput);
  }
  return 0;
}

}  // namespace synscope::app
