// stats_core: the lcore role that runs on the main lcore. Drains finished sessions from every flow-owning
// core over their SP/SC channels in the engines' time order (a k-way merge) into the one set of consumers
// (consumers::Consumers: session, bucket and alert outputs, the detector), settling buckets as that time
// passes, and publishes its own counters for scrapes. Nothing on an RX or engine lcore formats, writes or
// allocates; all of that happens here.
//
// Owned by the main lcore. poll_once() never lets an exception out: a consumer that throws (say the alert
// engine out of memory) is counted (StatsCoreStats::consumer_errors), said once on stderr, and the loop
// goes on with the next record.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "alerts/alerts.hpp"
#include "buckets/buckets.hpp"
#include "channel/channel.hpp"
#include "consumers/consumers.hpp"
#include "lcore/flow_owner.hpp"
#include "lcore/pacer.hpp"
#include "lcore/tsc_clock.hpp"
#include "top/top.hpp"

namespace synscope::live {

/// Firing partition alerts exported to Prometheus (bounded label cardinality; the rest are only counted).
inline constexpr size_t kMaxExportedPartitions = 64;

/// What the stats core publishes (uint64_t and double words only: channel::Mirror copies it as words).
struct StatsCoreStats {
  uint64_t sessions_taken = 0;    ///< sessions the stats core took from the engines
  uint64_t sessions_written = 0;  ///< session lines that reached --sessions-out (never a dropped one)
  uint64_t buckets_emitted = 0;
  uint64_t late_sessions = 0;
  uint64_t watermark_ns = 0;          ///< the time up to which buckets are settled
  uint64_t last_bucket_start_ns = 0;  ///< newest emitted bucket (0: none yet)
  uint64_t last_bucket_span_ns = 0;
  uint64_t bucket_span_ns = 0;    ///< --bucket, as configured
  uint64_t bucket_settle_ns = 0;  ///< --bucket-settle
  uint64_t detector_bucket_ns =
      0;  ///< the detector's bucket (--alert-bucket rounded to record buckets); 0: no detector
  std::array<uint64_t, buckets::kPerspectiveCount> last_bucket_attempts{};
  std::array<uint64_t, buckets::kPerspectiveCount> last_bucket_failed{};
  uint64_t detector_enabled = 0;
  uint64_t alerts_firing = 0;                                 ///< perspectives whose alert is firing
  uint64_t alert_transitions = 0;                             ///< alert lines written
  std::array<double, alerts::kPerspectiveSeries> expected{};  ///< detector, newest bucket (4 + total)
  std::array<double, alerts::kPerspectiveSeries> upper{};
  std::array<double, alerts::kPerspectiveSeries> score{};
  std::array<uint64_t, alerts::kPerspectiveSeries> firing{};  ///< 1 while that series' alert fires
  uint64_t server_series = 0;                                 ///< per-server series in use
  uint64_t server_series_capacity = 0;
  uint64_t partitions_firing = 0;  ///< firing server and client alerts (the first kMaxExportedPartitions below)
  std::array<alerts::FiringPartition, kMaxExportedPartitions> partitions{};
  uint64_t consumer_errors = 0;    ///< records or buckets a consumer failed on (exception caught, counted)
  consumers::OutputStats outputs;  ///< records written and dropped per output
};

class StatsCore {
 public:
  /// Opens the consumers (throws Error naming an output that cannot be opened).
  StatsCore(const consumers::ConsumerConfig& config, std::vector<lcore::FlowOwner*> engines,
            const lcore::TscClock& clock);

  /// One round: takes finished sessions in merged time order (up to 4096), settles buckets, publishes and
  /// flushes the files when due. True if it took any session.
  bool poll_once() noexcept;
  /// True once every engine finished and marked its channel done (sessions may still be waiting).
  [[nodiscard]] bool engines_done() const noexcept;
  /// After the engines stopped: takes every session left, emits every bucket held, publishes.
  void finish() noexcept;
  /// Saves the model and flushes the outputs, then publishes; false with `error` naming every output
  /// that failed.
  [[nodiscard]] bool close(std::string& error);
  /// Reopens the output files (SIGHUP).
  void reopen_files() noexcept { consumers_.reopen_files(); }
  /// One line for stderr (SIGUSR1): sessions taken, buckets emitted, records written and dropped.
  [[nodiscard]] std::string progress() const;
  void publish() noexcept;
  /// Publishes the top-N views (when the consumers keep them).
  void publish_top() noexcept;

  channel::Mirror<StatsCoreStats> mirror;
  /// The top-N views (top::TopViews), published once a second: merging their slots is too much for every
  /// 2 ms publish, and a drill-down a second old is fresh.
  channel::Mirror<top::View> top;

 private:
  uint32_t merge(bool final) noexcept;
  void take(lcore::FlowOwner& owner) noexcept;
  void failed(const char* what) noexcept;
  void refresh_bucket_stats() noexcept;
  void refresh_detector_stats() noexcept;

  std::vector<lcore::FlowOwner*> engines_;
  consumers::Consumers consumers_;
  lcore::Pacer pacer_;
  uint64_t buckets_seen_ = 0;
  StatsCoreStats stats_;
};

}  // namespace synscope::live
