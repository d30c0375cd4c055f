// alerts: the seasonal detector applied to the failed-session buckets, with attribution.
//
// An AlertEngine sits where buckets and finished sessions are consumed (the replay loop, or the live stats
// core — never an RX lcore). Its methods are called from that one thread; it owns everything it allocates
// (all at construction: series, index and per-bucket counters are fixed-size), and it cannot be copied or
// moved. Each bucket is scored by three parts, in this order, and each transition (firing, escalated,
// resolved) becomes one JSON line (docs/outputs.md, "alerts"):
//  * PerspectiveSeries (perspective_series.hpp): one series per perspective and their total ("all").
//  * ServerSeriesSet (server_series.hpp): up to AlertPolicy::server_series series of one server each, for
//    the servers with the most failed sessions.
//  * ClientView (client_view.hpp): one client failing at one server far more than its other clients.
// Record buckets are summed into detector buckets (AlertPolicy::detector_bucket_s, a whole number of record
// buckets) and the series are scored when a detector bucket's last record bucket arrives; the client view
// and server admission work per record bucket. Record buckets nobody emitted (no session) count as zeros,
// so quiet periods teach the models too. Who
// failed in each bucket still open is tallied per server and per (client, server) in fixed memory
// (bucket_tally.hpp); alert lines name the busiest of them. save() and load() keep the models across runs
// (model_file.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "alerts/alert_config.hpp"
#include "alerts/alert_line.hpp"
#include "alerts/bucket_tally.hpp"
#include "alerts/client_view.hpp"
#include "alerts/perspective_series.hpp"
#include "alerts/server_series.hpp"
#include "alerts/space_saving.hpp"
#include "buckets/buckets.hpp"
#include "detector/detector.hpp"
#include "engine/engine.hpp"
#include "output/output.hpp"

namespace synscope::alerts {

/// One firing alert with a partition (a server or a client), for Prometheus while it fires.
struct FiringPartition {
  packet::IpAddr addr{};
  uint16_t port = 0;  ///< 0 for a client partition
  uint8_t ip_version = 4;
  uint8_t perspective = 0;  ///< buckets::Perspective
  uint8_t client = 0;       ///< 1: metric failed_sessions_client (partition = client ip)
  uint8_t pad[3] = {};
  double actual = 0, typical = 0, upper = 0, score = 0;
};
/// "ip:port" (IPv6 in brackets) for a server partition, the address for a client partition.
[[nodiscard]] std::string partition_text(const FiringPartition& f);

class AlertEngine final : public buckets::BucketSink, public engine::SessionSink {
 public:
  /// Writes one JSON line per alert transition to `out` (which must outlive the engine).
  AlertEngine(const AlertConfig& config, output::OutputFile& out);
  /// The memory the constructor allocates for `config` (start-up memory checks): the tallies of every
  /// bucket in the settle window and the per-server series, which grow with AlertPolicy::server_series.
  [[nodiscard]] static uint64_t bytes_for(const AlertConfig& config) noexcept;

  void on_session(const engine::SessionRecord& r) override;  ///< attribution only
  void on_bucket(const buckets::Bucket& b) override;         ///< scores, alerts

  [[nodiscard]] uint64_t alerts_written() const noexcept { return writer_.written(); }

  /// Model state (every series model, alert state and the bucket clock) to a versioned file, so a restart
  /// keeps its baseline instead of warming up again. Returns false with `error` set when it cannot write.
  [[nodiscard]] bool save(const std::string& path, std::string& error) const;
  /// Loads a file written by save(). A missing, corrupt, truncated or mismatched file (other format
  /// version, other bucket span) leaves the engine fresh and returns false with `warning` saying why;
  /// never throws or crashes on bad input.
  [[nodiscard]] bool load(const std::string& path, std::string& warning);
  /// Alerts firing now: perspectives, servers and clients.
  [[nodiscard]] uint32_t firing() const noexcept;
  /// Per-server series in use (at most AlertPolicy::server_series).
  [[nodiscard]] uint32_t server_series() const noexcept { return servers_.used(); }
  /// Copies up to `max` firing partition alerts (servers first) to `out`; returns how many fire in all.
  uint32_t firing_partitions(FiringPartition* out, uint32_t max) const noexcept;
  /// The newest bucket's score of one perspective series, or of the total (kTotalSeries); zeros before the
  /// first bucket.
  [[nodiscard]] const detector::Scored& last(size_t series) const noexcept { return perspectives_.last(series); }
  /// Whether the alert of one perspective series, or of the total (kTotalSeries), is firing (with its
  /// hysteresis: it resolves only after AlertPolicy::resolve_buckets quiet buckets).
  [[nodiscard]] bool series_firing(size_t series) const noexcept { return perspectives_.states()[series].firing(); }
  /// The detector's bucket span: detector_bucket_s rounded to a whole number of record buckets (at least one).
  [[nodiscard]] uint64_t detector_span_ns() const noexcept { return detector_span_ns_; }

 private:
  /// One record bucket (emitted: `b`, or a gap: nullptr) into the detector bucket it belongs to; scores that
  /// detector bucket when this is its last record bucket.
  void record_bucket(uint64_t start_ns, const buckets::Bucket* b);

  AlertConfig config_;
  uint64_t detector_span_ns_;
  AlertWriter writer_;
  TallyRing tallies_;
  PerspectiveSeries perspectives_;
  ServerSeriesSet servers_;
  ClientView clients_;
  bool started_ = false;
  uint64_t next_start_ns_ = 0;         ///< the record bucket after the newest one observed
  uint64_t first_ns_ = 0;              ///< the first record bucket observed (the engine's warm-up starts there)
  buckets::Bucket sum_{};              ///< the open detector bucket: its record buckets' counts summed
  bool sum_emitted_ = false;           ///< some record bucket in it was emitted
  std::vector<uint32_t> series_sums_;  ///< the open detector bucket's count per server series
};

}  // namespace synscope::alerts
