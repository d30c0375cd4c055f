// rx_core: see rx_core.hpp.
#include "lcore/rx_core.hpp"

namespace synscope::lcore {

RxCore::RxCore(std::vector<QueueRef> queues, const RxContext& context, FlowOwner& owner,
               const std::atomic<bool>& stop) noexcept
    : rx_(std::move(queues), context), context_(context), owner_(owner), stop_(stop), pacer_(context.clock) {
  stats_.flow_capacity = owner_.engine->flow_capacity();
}

bool RxCore::poll_once() noexcept {
  const bool got = rx_.poll(stats_, [this](const engine::ParsedPacket* pkts, uint16_t n) {
    owner_.engine->process_burst(pkts, n);
    owner_.publish_time();
  });
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

bool SpreadRxCore::poll_once() noexcept {
  const bool got = rx_.poll(stats_, [this](const engine::ParsedPacket* pkts, uint16_t n) {
    // Counted before handed over: an engine never counts a packet this core has not published.
    counts_.rx_packets = stats_.rx_packets;
    counts_.rx_bytes = stats_.rx_bytes;
    counts_.dropped_ring_full = stats_.dropped_ring_full;
    counts.publish(counts_);
    stats_.dropped_ring_full += spreader_.spread(pkts, n);
  });
  spreader_.flush();  // latency: a partial burst never waits for more traffic
  if (got) feed_.time_ns.store(rx_.last_packet_ns(), std::memory_order_release);
  pacer_.after_poll(
      got, !context_.packet_clock, stats_,
      [this] { feed_.time_ns.store(context_.clock.now_ns(), std::memory_order_release); }, [this] { publish(); });
  return got;
}

void SpreadRxCore::run() noexcept {
  while (!stop_.load(std::memory_order_relaxed)) (void)poll_once();
  spreader_.flush();
  publish();
  feed_.done.store(true, std::memory_order_release);
}

void SpreadRxCore::publish() noexcept {
  mirror.publish(stats_);
  counts_.rx_packets = stats_.rx_packets;  // the drops of the last hand-off too
  counts_.rx_bytes = stats_.rx_bytes;
  counts_.dropped_ring_full = stats_.dropped_ring_full;
  counts.publish(counts_);
}

CoreStats SpreadRxCore::read() const noexcept {
  CoreStats s = mirror.read();
  const RxCounts c = counts.read();  // after the rest: never older than it
  s.rx_packets = c.rx_packets;
  s.rx_bytes = c.rx_bytes;
  s.dropped_ring_full = c.dropped_ring_full;
  return s;
}

}  // namespace synscope::lcore
