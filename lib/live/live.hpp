// live: the live data plane's lcore roles and the object that wires them to DPDK ports.
//
//   RxCore      polls its RX queues: burst -> prefetch -> classify -> (own engine | spread) -> free.
//               With RSS (or one queue per core) it owns a SessionEngine, so a flow never leaves it.
//               In spread mode (single-queue vdevs) it hands parsed bursts to EngineCores by flow hash.
//   EngineCore  (spread mode) owns a SessionEngine fed by the RX cores over SP/SC BurstChannels.
//   StatsCore   runs on the main lcore: drains finished sessions from every engine over SP/SC rings,
//               writes session JSON, merges them into time buckets per perspective (BucketRing) and writes
//               bucket JSON. Nothing on an RX lcore formats, writes or allocates.
//
// Ownership: DataPlane owns every core object and the channels between them; each core's state is
// touched only by the lcore running it. Counters are plain uint64_t owned by their core and published
// through channel::Mirror every publish period (2 ms), which is what Prometheus and rte_telemetry read.
// Time: live time is the TSC mapped to wall-clock time once at start (TscClock), read once per burst;
// with --clock packet, each packet's RX timestamp (net_pcap: the capture's time), so a live run over a
// capture gives replay's verdicts. One engine code path for both.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "alerts/alerts.hpp"
#include "buckets/buckets.hpp"
#include "dpdk_port/dpdk_port.hpp"
#include "engine/engine.hpp"
#include "output/output.hpp"
#include "channel/channel.hpp"

namespace synscope::live {

/// TSC ticks -> wall-clock nanoseconds, calibrated once at start (rte_get_tsc_hz). Read-only afterwards;
/// safe to share between lcores.
class TscClock {
 public:
  TscClock() noexcept;
  [[nodiscard]] uint64_t now_ns() const noexcept;
  [[nodiscard]] uint64_t ticks_per_ms() const noexcept { return ticks_per_ms_; }

 private:
  uint64_t base_tsc_ = 0;
  uint64_t base_ns_ = 0;
  uint64_t mult_ = 0;  ///< ns per tick in 32.32 fixed point
  uint64_t ticks_per_ms_ = 0;
};

/// Most RX queues one lcore polls (counters are kept per polled queue).
inline constexpr size_t kMaxQueuesPerCore = 16;

/// What a core publishes (uint64_t only: channel::Mirror copies it as words).
struct CoreStats {
  engine::EngineCounters engine;  ///< zero on a spread-mode RX core (its packets count in EngineCores)
  std::array<uint64_t, kMaxQueuesPerCore> rx_packets{};
  std::array<uint64_t, kMaxQueuesPerCore> rx_bytes{};
  uint64_t dropped_ring_full = 0;   ///< spread mode: packets an RX core could not hand to a busy engine
  uint64_t session_ring_waits = 0;  ///< times the engine waited for the stats core to take sessions
  uint64_t active_flows = 0;
  uint64_t flow_capacity = 0;
  uint64_t watermark_ns = 0;        ///< the engine's time (0 until its first packet)
  uint64_t polls = 0, busy_polls = 0;
};

/// Firing partition alerts exported to Prometheus (bounded label cardinality; the rest are only counted).
inline constexpr size_t kMaxExportedPartitions = 64;

/// What the stats core publishes.
struct StatsCoreStats {
  uint64_t sessions_written = 0;
  uint64_t buckets_emitted = 0;
  uint64_t late_sessions = 0;
  uint64_t watermark_ns = 0;           ///< the time up to which buckets are settled
  uint64_t last_bucket_start_ns = 0;   ///< newest emitted bucket (0: none yet)
  uint64_t last_bucket_span_ns = 0;
  std::array<uint64_t, buckets::kPerspectiveCount> last_bucket_attempts{};
  std::array<uint64_t, buckets::kPerspectiveCount> last_bucket_failed{};
  uint64_t detector_enabled = 0;
  uint64_t alerts_firing = 0;          ///< perspectives whose alert is firing
  uint64_t alert_transitions = 0;      ///< alert lines written
  std::array<double, alerts::kPerspectiveSeries> expected{};  ///< detector, newest bucket (4 + total)
  std::array<double, alerts::kPerspectiveSeries> upper{};
  std::array<double, alerts::kPerspectiveSeries> score{};
  uint64_t server_series = 0;          ///< per-server series in use
  uint64_t server_series_capacity = 0;
  uint64_t partitions_firing = 0;      ///< firing server and client alerts (the first kMaxExportedPartitions below)
  std::array<alerts::FiringPartition, kMaxExportedPartitions> partitions{};
};

struct LiveConfig {
  dpdk_port::PortOptions ports;
  packet::ParseOptions parse;
  engine::EngineConfig engine;
  bool packet_clock = false;       ///< time from RX timestamps instead of the TSC
  uint32_t spread_workers = 0;     ///< 0: RX cores own engines (RSS); N: N EngineCores fed by software
  bool lossless = false;           ///< spread mode: an RX core waits for a busy engine instead of dropping
  uint32_t session_ring = 16384;   ///< finished sessions in flight per engine
  uint32_t burst_ring = 256;       ///< bursts in flight per (RX core, EngineCore) pair
  std::string sessions_out, buckets_out;
  std::string alerts_out;                ///< non-empty: the stats core runs the seasonal detector
  std::string model_file;                ///< detector state loaded at start, saved at stop
  detector::AlertPolicy alert_policy;
};

/// Where a core's polled queue comes from, for labels.
struct QueueRef {
  uint16_t port_index = 0;  ///< index into Ports::ports()
  uint16_t port_id = 0;
  uint16_t queue = 0;
};

/// A consistent-enough view of everything, for a scrape (each core's copy is consistent in itself).
struct Snapshot {
  struct Core {
    unsigned lcore = 0;
    std::string role;  ///< "rx", "rx+engine", "engine"
    std::vector<QueueRef> queues;
    CoreStats stats;
  };
  std::vector<Core> cores;
  std::vector<dpdk_port::PortStats> ports;
  StatsCoreStats stats_core;
  uint64_t now_ns = 0;
  uint64_t started_ns = 0;
};

/// Every engine core's counters added up (each EngineCounters is all uint64_t).
[[nodiscard]] engine::EngineCounters merged_engine_counters(const Snapshot& snapshot) noexcept;

/// Packet totals of a snapshot: received on every polled queue, dropped at full spread rings, and the
/// NICs' own losses (never reached synscope).
struct RxTotals {
  uint64_t packets = 0, ring_full = 0, imissed = 0, rx_nombuf = 0, rx_errors = 0;
};
[[nodiscard]] RxTotals rx_totals(const Snapshot& snapshot) noexcept;

class DataPlane {
 public:
  /// Sets up ports, the mempool, engines and channels, and assigns queues and roles to the worker lcores
  /// EAL was given (-l/-c, main lcore excluded). Throws (dpdk_port::PortError, std::runtime_error) with a
  /// message naming the culprit: too few lcores, a port refusing its configuration, no memory.
  explicit DataPlane(const LiveConfig& config);
  ~DataPlane();
  DataPlane(const DataPlane&) = delete;
  DataPlane& operator=(const DataPlane&) = delete;

  /// Launches every core on its lcore.
  void start();
  /// Main lcore: one round of the stats core (drain sessions, settle buckets, publish). Returns true if
  /// it did any work.
  bool poll_stats() noexcept;
  /// Stops RX, lets engines drain their rings and report every open connection, drains everything into
  /// the outputs, emits the last buckets and waits for every lcore. Idempotent.
  void stop();
  /// False if an output file could not be written (its path is in the message).
  [[nodiscard]] bool flush_outputs(std::string& error);

  [[nodiscard]] Snapshot snapshot() const;
  [[nodiscard]] const dpdk_port::Ports& ports() const noexcept { return *ports_; }
  /// Packets received so far on every port (from the cores' published counters).
  [[nodiscard]] uint64_t packets_received() const noexcept;
  [[nodiscard]] std::string describe() const;  ///< lcore roles and queues, for the start-up log

  struct Core;    // one lcore's role and state (live.cpp)
  class Stats;    // the stats core (live.cpp)

 private:
  LiveConfig config_;
  TscClock clock_;
  uint64_t started_ns_ = 0;
  std::unique_ptr<dpdk_port::Ports> ports_;
  std::vector<std::unique_ptr<Core>> cores_;
  std::unique_ptr<Stats> stats_;
  std::atomic<bool> stop_rx_{false};
  bool launched_ = false;
  bool stopped_ = false;
};

}  // namespace synscope::live
