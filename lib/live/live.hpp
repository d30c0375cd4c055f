// live: the live data plane — DPDK ports, the lcore roles that poll them, and the stats core — wired
// together and run until a signal or a limit.
//
//   RxCore        (lcore/rx_core.hpp) polls its RX queues and owns the flows on them (RSS, one queue per core).
//   SpreadRxCore  (lcore/rx_core.hpp) polls single-queue ports and spreads parsed bursts to EngineCores.
//   EngineCore    (lcore/engine_core.hpp) owns the flows a SpreadRxCore sends it.
//   StatsCore     (live/stats_core.hpp) on the main lcore: merges every engine's finished sessions into the
//                 consumers (session, bucket and alert outputs) and publishes its counters.
//
// Ownership: DataPlane owns the ports, every role object, the engines and the channels between them; each
// role's state is touched only by the lcore running it. Counters are plain uint64_t owned by their role
// and published through channel::Mirror every 2 ms, which is what Prometheus and rte_telemetry read
// (snapshot()). Time: live time is the TSC mapped to wall-clock time once at start (lcore::TscClock), read
// once per burst; with --clock packet, each packet's RX timestamp (net_pcap: the capture's time), so a live
// run over a capture gives replay's verdicts. One engine code path for both.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "consumers/consumers.hpp"
#include "consumers/requests.hpp"
#include "dpdk_port/dpdk_port.hpp"
#include "engine/engine.hpp"
#include "lcore/core_stats.hpp"
#include "lcore/flow_owner.hpp"
#include "lcore/rx_poller.hpp"
#include "lcore/tsc_clock.hpp"
#include "live/stats_core.hpp"

namespace synscope::live {

using lcore::CoreStats;
using lcore::kMaxQueuesPerCore;
using lcore::QueueRef;

struct LiveConfig {
  dpdk_port::PortOptions ports;
  packet::ParseOptions parse;
  engine::EngineConfig engine;
  consumers::ConsumerConfig consumers;  ///< outputs and detector (bucket span/settle copied from `engine`)
  bool packet_clock = false;            ///< time from RX timestamps instead of the TSC
  double pace = 0;                      ///< with packet_clock: hand packets on at this many times capture pace
  uint32_t spread_workers = 0;          ///< 0: RX cores own engines (RSS); N: N EngineCores fed by software
  bool lossless = false;                ///< spread mode: an RX core waits for a busy engine instead of dropping
  uint32_t session_ring = 16384;        ///< finished sessions in flight per engine
  uint32_t burst_ring = 256;            ///< bursts in flight per (RX core, EngineCore) pair
};

/// When run() stops on its own (besides the stop flag).
struct RunLimits {
  double duration_s = 0;   ///< stop after this long (0: never)
  double idle_exit_s = 0;  ///< stop after this long without a packet on any port (0: never)
  /// Called by run() on its thread about every 10 ms while it consumes the engines' sessions (a service
  /// manager's watchdog is fed from here: it stops when this loop does), and once when it stops.
  std::function<void()> on_tick;
  std::function<void()> on_stopping;
};

/// A consistent-enough view of everything, for a scrape (each core's copy is consistent in itself). Engine
/// cores are read before the RX cores that feed them, so received >= frames + drops (docs/metrics.md).
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
  /// The top-N views, as published once a second (on the heap: 22 KB is too much for a civetweb stack).
  std::shared_ptr<const top::View> top;
  uint64_t now_ns = 0;
  uint64_t started_ns = 0;
  std::string sensor;         ///< the sensor's name (consumers::ConsumerConfig::sensor)
  bool packet_clock = false;  ///< time is the packets' (--clock packet): lags are measured in it
};

/// Every engine core's counters added up.
[[nodiscard]] engine::EngineCounters merged_engine_counters(const Snapshot& snapshot) noexcept;

/// Packet totals of a snapshot: received on every polled queue, dropped at full spread rings, and the
/// NICs' own losses (never reached synscope).
struct RxTotals {
  uint64_t packets = 0, ring_full = 0, imissed = 0, rx_nombuf = 0, rx_errors = 0;
};
[[nodiscard]] RxTotals rx_totals(const Snapshot& snapshot) noexcept;

class DataPlane {
 public:
  /// Sets up ports, the mempool, engines, channels and consumers, and assigns queues and roles to the
  /// worker lcores EAL was given (-l/-c, main lcore excluded). Throws Error with a message naming the
  /// culprit: too few lcores (kUsage), a port refusing its configuration (kStartup), no memory
  /// (kResource), an output that cannot be opened (kOutput).
  explicit DataPlane(const LiveConfig& config);
  ~DataPlane();
  DataPlane(const DataPlane&) = delete;
  DataPlane& operator=(const DataPlane&) = delete;

  /// Launches every role on its lcore.
  void start();
  /// Main lcore: runs the stats core until `requests.stop` or a limit, then stop(). Every 10 ms it takes
  /// the other requests: reopen the output files (SIGHUP), write summary() and the stats core's progress
  /// line to stderr (SIGUSR1).
  void run(consumers::Requests& requests, const RunLimits& limits);
  /// Stops RX, lets engines drain their rings and report every open connection, drains everything into
  /// the consumers, emits the last buckets and waits for every lcore. Idempotent.
  void stop() noexcept;
  /// Saves the model and flushes the outputs; false with `error` naming every output that failed.
  [[nodiscard]] bool close(std::string& error);

  [[nodiscard]] Snapshot snapshot() const;
  [[nodiscard]] const dpdk_port::Ports& ports() const noexcept { return *ports_; }
  /// Packets received so far on every port (from the cores' published counters).
  [[nodiscard]] uint64_t packets_received() const noexcept;
  [[nodiscard]] std::string describe() const;  ///< lcore roles and queues, for the start-up log
  /// The end-of-run report for stderr: packets by queue, drops, frames by class, sessions by state.
  [[nodiscard]] std::string summary() const;

 private:
  struct Role;  // one lcore's role object and how to launch and read it (live.cpp)

  LiveConfig config_;
  lcore::TscClock clock_;
  uint64_t started_ns_ = 0;
  std::unique_ptr<dpdk_port::Ports> ports_;
  std::unique_ptr<lcore::Pace> pace_;
  std::unique_ptr<lcore::RxContext> rx_context_;
  std::vector<std::unique_ptr<lcore::FlowOwner>> owners_;
  std::vector<std::unique_ptr<channel::BurstChannel<channel::Burst>>> burst_channels_;
  std::vector<std::unique_ptr<Role>> roles_;
  std::unique_ptr<StatsCore> stats_;
  std::atomic<bool> stop_rx_{false};
  bool launched_ = false;
  bool stopped_ = false;
};

}  // namespace synscope::live
