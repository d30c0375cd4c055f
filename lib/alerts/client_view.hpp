// alerts/client_view: the client-over-server view — one client failing at one server far more than others.
//
// ElastiFlow's "high count over clients, partitioned by server": a client fires `failed_sessions_client`
// when, in one bucket, its failed attempts at a server reach AlertConfig::client_min and are at least
// client_ratio times those of that server's next busiest client (a brute force, a misconfigured client).
// Counts come from the bucket's tally; no model is learned. Owned by the AlertEngine's thread; not
// thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "alerts/alert_config.hpp"
#include "alerts/alert_line.hpp"
#include "alerts/bucket_tally.hpp"
#include "buckets/buckets.hpp"
#include "detector/detector.hpp"

namespace synscope::alerts {

class ClientView {
 public:
  /// Alert state of one client (bounded: resolved entries are dropped).
  struct Alert {
    packet::IpAddr client{};
    ServerKey server;
    buckets::Perspective perspective = buckets::Perspective::kEdge;
    uint32_t quiet = 0;      ///< buckets since it was last over the threshold
    detector::Scored fired;  ///< what the firing line said (for Prometheus while it fires)
  };
  /// Firing client alerts kept at most: more are neither written nor kept.
  static constexpr size_t kMaxAlerts = 1024;

  /// The bucket starting at `start_ns` (`tally`: its counts, nullptr when no session failed in it): fires
  /// new client alerts, de-duplicates firing ones, resolves those quiet for AlertPolicy::resolve_buckets.
  void observe(uint64_t start_ns, const BucketTally* tally, const AlertConfig& config, AlertWriter& out);

  /// The firing client alerts, oldest first.
  [[nodiscard]] const std::vector<Alert>& alerts() const noexcept { return alerts_; }

 private:
  std::vector<Alert> alerts_;
};

}  // namespace synscope::alerts
