// engine_core: see engine_core.hpp.
#include "lcore/engine_core.hpp"

#include <rte_cycles.h>

#include <algorithm>

namespace synscope::lcore {

EngineCore::EngineCore(std::vector<Input> inputs, FlowOwner& owner, const TscClock& clock) noexcept
    : inputs_(std::move(inputs)), owner_(owner), pacer_(clock) {
  stats_.flow_capacity = owner_.engine->flow_capacity();
}

bool EngineCore::poll_once() noexcept {
  // Where every feeding RX core has got to. Read before looking for bursts: each RX core stores it after
  // publishing the bursts it covers, so if none is waiting below, no packet older than `t` is on its way.
  uint64_t t = UINT64_MAX;
  for (const Input& in : inputs_) t = std::min(t, in.feed->time_ns.load(std::memory_order_acquire));
  bool got = false;
  for (const Input& in : inputs_) {
    if (channel::Burst* b = in.bursts->try_receive()) {
      const uint64_t start = rte_rdtsc();
      owner_.engine->process_burst(b->pkts, b->n);
      stats_.engine_cycles += rte_rdtsc() - start;
      in.bursts->release(b);
      got = true;
    }
  }
  if (!got && t != UINT64_MAX && t > owner_.engine->watermark_ns()) owner_.engine->advance(t);
  owner_.publish_time();
  // The engine's time comes from its feeders (above), never from the TSC.
  pacer_.after_poll(
      got, /*idle_time_passes=*/false, stats_, [] {}, [this] { publish(); });
  return got;
}

void EngineCore::run() noexcept {
  while (true) {
    // Read before polling: every burst published before a feeder's `done` is then taken below.
    const bool feeders_done = std::all_of(
        inputs_.begin(), inputs_.end(), [](const Input& in) { return in.feed->done.load(std::memory_order_acquire); });
    if (!poll_once() && feeders_done) break;
  }
  owner_.finish();
  publish();
}

void EngineCore::publish() noexcept {
  owner_.fill(stats_);
  mirror.publish(stats_);
}

}  // namespace synscope::lcore
