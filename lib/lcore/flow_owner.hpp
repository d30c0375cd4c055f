// flow_owner: what a flow-owning lcore role (RxCore, EngineCore) owns and shares with the stats core: its
// SessionEngine, the SP/SC channel its finished sessions leave by, and the time it publishes for the stats
// core's merge. Built at start-up by live::DataPlane; afterwards the engine is touched only by the owning
// lcore, the channel's consumer side and `time_ns` reads only by the stats core.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "channel/channel.hpp"
#include "engine/engine.hpp"
#include "lcore/core_stats.hpp"

namespace synscope::lcore {

struct FlowOwner {
  std::unique_ptr<channel::SessionChannel> sessions;
  std::unique_ptr<engine::SessionEngine> engine;  ///< reports to *sessions
  /// The engine's settled time, stored with release once per burst after the records it covers were
  /// enqueued: a stats core that finds no record waiting knows none older than this is on its way.
  /// UINT64_MAX once the engine finished.
  std::atomic<uint64_t> time_ns{0};
  /// Why the sessions still open at the end leave (their records' `removed`): the data plane sets it
  /// before it tells the roles to stop. A run that stopped because its finite input went quiet
  /// (--idle-exit) ends them as replay does, by end of input; SIGTERM and --duration by shutdown.
  std::atomic<engine::EndReason> cut{engine::EndReason::kShutdown};  // before stop_rx_, read after it

  /// Owner: publishes the engine's settled time.
  void publish_time() noexcept { time_ns.store(engine->settled_ns(), std::memory_order_release); }
  /// Owner, at the end of a live run: every open session reported (cut as `cut` says), then the channel
  /// marked done.
  void finish() noexcept {
    // The role saw the data plane's stop flag (stored with release after `cut`) with a relaxed load in its
    // loop: this fence makes `cut` as the data plane left it visible here.
    std::atomic_thread_fence(std::memory_order_acquire);
    engine->finish(cut.load(std::memory_order_relaxed));
    time_ns.store(UINT64_MAX, std::memory_order_release);
    sessions->mark_done();
  }
  /// Owner: copies the engine's counters into `stats` (before a Mirror publish).
  void fill(CoreStats& stats) const noexcept {
    stats.engine = engine->counters();
    stats.active_flows = engine->active_flows();
    stats.watermark_ns = engine->watermark_ns();
    stats.session_ring_waits = sessions->producer_waits();
  }
};

}  // namespace synscope::lcore
