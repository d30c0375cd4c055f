// metrics: the live figures for Prometheus (prometheus-cpp Exposer + a custom Collectable) and for
// rte_telemetry (`/synscope/stats`, for dpdk-telemetry.py and Telegraf's dpdk input). Both read one table
// of metrics (table.hpp): collector.cpp, http.cpp and telemetry.cpp hold the three ways out.
//
// Nothing here runs on an RX lcore. A scrape (a civetweb thread) or a telemetry request (DPDK's
// telemetry thread) takes a live::Snapshot — each core's last published counters, at most 2 ms old — and
// formats it; no prometheus-cpp object is ever incremented, so the data path never pays for a CAS.
// Label values come only from bounded sets (port, queue, core, class, reason, conn_state, perspective,
// teardown, side). Addresses and ports appear only in two families whose number of series is fixed: the
// firing partitions (at most 64) and the top-N drill-down (5 per window and kind). docs/metrics.md lists
// every metric.
#pragma once

#include "metrics/web_config.hpp"

#include <prometheus/collectable.h>

#include <memory>
#include <string>
#include <vector>

#include "live/live.hpp"

namespace synscope::metrics {

/// Turns snapshots of `plane` into metric families. `plane` must outlive it; Collect() is thread-safe.
class Collector final : public prometheus::Collectable {
 public:
  explicit Collector(const live::DataPlane& plane) : plane_(plane) {}
  [[nodiscard]] std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const live::DataPlane& plane_;
};

/// Why `listen` cannot be a --metrics-listen address ("" when it can): not ADDRESS:PORT, not an IPv4
/// literal, or IPv6 (which this build's civetweb does not serve). Names the value and says what to give.
[[nodiscard]] std::string listen_problem(const std::string& listen);

/// Binds (and closes) a socket on `listen`, so a busy port or an address this host does not have is said
/// with its errno before the server starts. Throws Error (kUsage for a bad address, kStartup for bind).
void probe_listen(const std::string& listen);

/// The HTTP endpoint: `/metrics` (Prometheus text format) and a landing page at `/`. Its civetweb threads
/// are started from a DPDK control thread, so they are never pinned to an RX lcore.
class MetricsServer {
 public:
  /// `listen` is "ADDRESS:PORT" (IPv4; port 0 picks a free one); `web` adds TLS and basic authentication
  /// (web_config.hpp). Throws Error naming the address and errno when it cannot bind.
  MetricsServer(const std::string& listen, const live::DataPlane& plane, const WebConfig& web = {});
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  /// The port actually bound.
  [[nodiscard]] int port() const noexcept { return port_; }

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

/// `/synscope/stats` on rte_telemetry (the figures /metrics has, as a flat dictionary), reading `plane`
/// for as long as this object lives. rte_telemetry has no way to unregister a command and EAL serves it
/// until rte_eal_cleanup(), after the plane is gone: the destructor retires the plane (requests from then
/// on are answered null, "not available") and returns once no request is still reading it, so the plane
/// can be destroyed right after. One binding at a time per process; construct and destroy it on one thread.
class TelemetryBinding {
 public:
  /// Registers the command (once per process) and binds `plane`. registered() is false if DPDK refused.
  explicit TelemetryBinding(const live::DataPlane& plane);
  ~TelemetryBinding();
  TelemetryBinding(const TelemetryBinding&) = delete;
  TelemetryBinding& operator=(const TelemetryBinding&) = delete;
  [[nodiscard]] bool registered() const noexcept { return registered_; }

 private:
  bool registered_ = false;
};

}  // namespace synscope::metrics
