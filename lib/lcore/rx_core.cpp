// rx_core: see rx_core.hpp.
#include "lcore/rx_core.hpp"

#include <rte_cycles.h>

namespace synscope::lcore {

RxCore::RxCore(std::vector<QueueRef> queues, const RxContext& context, FlowOwner& owner,
               const std::atomic<bool>& stop) noexcept
    : rx_(std::move(queues), context), context_(context), owner_(owner), stop_(stop), pacer_(context.clock) {
  stats_.flow_capacity = owner_.engine->flow_capacity();
}

void RxCore::process(const engine::ParsedPacket* pkts, uint16_t n) noexcept {
  const uint64_t start = rte_rdtsc();
  owner_.engine->process_burst(pkts, n);
  stats_.engine_cycles += rte_rdtsc() - start;
  owner_.publish_time();
}

bool RxCore::poll_once() noexcept {
  const bool got = rx_.poll(stats_, [this](const engine::ParsedPacket* pkts, uint16_t n) { process(pkts, n); });
  // Idle with TSC time: let it pass, so timers fire and the stats core's merge is not held back.
  pacer_.after_poll(
      got, !context_.packet_clock, stats_,
      [this] {
        owner_.engine->advance(context_.clock.now_ns());
        owner_.publish_time();
      },
      [this] { publish(); });
  return got;
}

void RxCore::run() noexcept {
  while (!stop_.load(std::memory_order_relaxed)) (void)poll_once();
  rx_.drain(stats_, [this](const engine::ParsedPacket* pkts, uint16_t n) { process(pkts, n); });
  owner_.finish();
  publish();
}

void RxCore::publish() noexcept {
  owner_.fill(stats_);
  mirror.publish(stats_);
}

SpreadRxCore::SpreadRxCore(std::vector<QueueRef> queues, const RxContext& context, Spreader spreader,
                           const std::atomic<bool>& stop) noexcept
    : rx_(std::move(queues), context),
      context_(context),
      spreader_(std::move(spreader)),
      stop_(stop),
      pacer_(context.clock) {}

void SpreadRxCore::process(const engine::ParsedPacket* pkts, uint16_t n) noexcept {
  store_counts();  // before the hand-off: an engine never counts a packet this core has not
  stats_.dropped_ring_full += spreader_.spread(pkts, n);
}

bool SpreadRxCore::poll_once() noexcept {
  const bool got = rx_.poll(stats_, [this](const engine::ParsedPacket* pkts, uint16_t n) { process(pkts, n); });
  spreader_.flush();  // latency: a partial burst never waits for more traffic
  if (got) feed_.time_ns.store(rx_.last_packet_ns(), std::memory_order_release);
  pacer_.after_poll(
      got, !context_.packet_clock, stats_,
      [this] { feed_.time_ns.store(context_.clock.now_ns(), std::memory_order_release); }, [this] { publish(); });
  return got;
}

void SpreadRxCore::run() noexcept {
  while (!stop_.load(std::memory_order_relaxed)) (void)poll_once();
  rx_.drain(stats_, [this](const engine::ParsedPacket* pkts, uint16_t n) { process(pkts, n); });
  spreader_.flush();
  publish();
  feed_.done.store(true, std::memory_order_release);
}

void SpreadRxCore::store_counts() noexcept {
  for (size_t q = 0; q < rx_.queues().size(); ++q)
    counts.rx_packets[q].store(stats_.rx_packets[q], std::memory_order_relaxed);
  counts.dropped_ring_full.store(stats_.dropped_ring_full, std::memory_order_relaxed);
}

void SpreadRxCore::publish() noexcept {
  store_counts();  // the drops of the last hand-off too
  mirror.publish(stats_);
}

CoreStats SpreadRxCore::read() const noexcept {
  CoreStats s = mirror.read();
  // After the rest (and after the engines' counters, DataPlane::snapshot): never older than either.
  for (size_t q = 0; q < rx_.queues().size(); ++q)
    s.rx_packets[q] = counts.rx_packets[q].load(std::memory_order_acquire);
  s.dropped_ring_full = counts.dropped_ring_full.load(std::memory_order_acquire);
  return s;
}

}  // namespace synscope::lcore
