// core_stats: what each data-path lcore counts and publishes. Counters are plain uint64_t owned by their
// core and published through channel::Mirror every publish period; /metrics and rte_telemetry read the
// copies. Also the queue references that label them.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "engine/engine.hpp"

namespace synscope::lcore {

/// Most RX queues one lcore polls (counters are kept per polled queue).
inline constexpr size_t kMaxQueuesPerCore = 16;

/// Where a core's polled queue comes from, for labels.
struct QueueRef {
  uint16_t port_index = 0;  ///< index into dpdk_port::Ports::ports()
  uint16_t port_id = 0;
  uint16_t queue = 0;
};

/// What a core publishes (uint64_t only: channel::Mirror copies it as words).
struct CoreStats {
  engine::EngineCounters engine;  ///< zero on a spread-mode RX core (its packets count in EngineCores)
  std::array<uint64_t, kMaxQueuesPerCore> rx_packets{};
  std::array<uint64_t, kMaxQueuesPerCore> rx_bytes{};
  uint64_t dropped_ring_full = 0;   ///< spread mode: packets an RX core could not hand to a busy engine
  uint64_t session_ring_waits = 0;  ///< times the engine waited for the stats core to take sessions
  uint64_t active_flows = 0;
  uint64_t flow_capacity = 0;
  uint64_t watermark_ns = 0;  ///< the engine's time (0 until its first packet)
  uint64_t polls = 0, busy_polls = 0;
  /// TSC cycles spent in SessionEngine::process_burst (two rdtsc per burst): over the engine's received
  /// frames, the engine stage's cost per packet (bench/live_scale.py reads it).
  uint64_t engine_cycles = 0;
};

/// A spread-mode RX core's packet counts, stored before each burst is handed to the engines (the rest of
/// CoreStats goes every publish period). Relaxed stores are enough: the hand-off (an rte_ring enqueue, a
/// release) orders them before anything an engine does with the burst, and so before the engine's next
/// Mirror publish; a reader that takes the engines' counters first (acquire) and these after never sees
/// an engine count a packet its RX core has not (docs/metrics.md, the identity). Each counter only grows,
/// so they need no seqlock between them.
struct RxCounts {
  std::array<std::atomic<uint64_t>, kMaxQueuesPerCore> rx_packets{};
  std::atomic<uint64_t> dropped_ring_full{0};
};

}  // namespace synscope::lcore
