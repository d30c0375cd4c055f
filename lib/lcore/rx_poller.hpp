// rx_poller: the RX half both RX roles share. Polls each of the lcore's queues once: burst -> prefetch the
// next frame -> parse -> hand the parsed burst on -> free. Reads the clock once per burst (TSC time) or
// takes each packet's RX timestamp (--clock packet). The TCP checksum is resolved here, with the NIC's
// word when it gave one, because the frame is freed at the end of the burst.
//
// Paced replay (--pace F with --clock packet): a burst is handed on only when the wall clock reaches its
// last packet's capture time, scaled by F from the first packet any RX core saw (Pace); until then it is
// held, parsed, with its mbufs, and its queue is not polled, so the role's loop goes on publishing and a
// stop request is seen at once. A capture then plays at F times real time into the same consumers,
// /metrics and alerts as live traffic.
//
// Owned by one RX lcore; no allocation, locks or exceptions.
#pragma once

#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "channel/channel.hpp"
#include "dpdk_port/dpdk_port.hpp"
#include "engine/engine.hpp"
#include "lcore/core_stats.hpp"
#include "lcore/tsc_clock.hpp"

namespace synscope::lcore {

/// The origin of a paced replay, shared by the RX lcores: the first packet's capture time and the wall time
/// it was handed on (the first RX core to see a packet sets both).
struct Pace {
  double factor = 0;  ///< capture seconds per wall second; 0: not paced
  std::atomic<uint64_t> origin_packet_ns{0};
  std::atomic<uint64_t> origin_wall_ns{0};

  /// The wall time a packet stamped `packet_ns` is due, setting the origin on the first call.
  uint64_t due_ns(uint64_t packet_ns, uint64_t now_ns) noexcept {
    uint64_t p0 = origin_packet_ns.load(std::memory_order_acquire);
    if (p0 == 0) {
      uint64_t expected = 0;
      if (origin_packet_ns.compare_exchange_strong(expected, packet_ns, std::memory_order_acq_rel)) {
        origin_wall_ns.store(now_ns, std::memory_order_release);
        return now_ns;
      }
      p0 = expected;
    }
    uint64_t w0 = 0;
    while ((w0 = origin_wall_ns.load(std::memory_order_acquire)) == 0) {  // set right after the packet origin
    }
    return packet_ns <= p0 ? w0 : w0 + static_cast<uint64_t>(static_cast<double>(packet_ns - p0) / factor);
  }
};

/// What every RX role reads at start-up, shared read-only between lcores (but the Pace origin).
struct RxContext {
  const TscClock& clock;
  const dpdk_port::RxTimestamp& rx_timestamp;
  packet::ParseOptions parse;
  bool packet_clock = false;  ///< time from RX timestamps instead of the TSC
  Pace* pace = nullptr;       ///< paced replay (with packet_clock), or nullptr
};

class RxPoller {
 public:
  RxPoller(std::vector<QueueRef> queues, const RxContext& context)
      : queues_(std::move(queues)), context_(context), parser_(context.parse), held_(queues_.size()) {}

  /// Polls every queue once; `handle(parsed, n)` gets each non-empty burst, parsed (when paced, once it is
  /// due). Returns true if a burst was handed on.
  template <class Handle>
  bool poll(CoreStats& stats, Handle&& handle) noexcept {
    constexpr uint16_t kRxBurst = channel::kBurstSize;
    bool got = false;
    for (size_t qi = 0; qi < queues_.size(); ++qi) {
      Held& held = held_[qi];
      if (held.n != 0) {  // a paced burst waiting for its time
        if (context_.clock.now_ns() < held.due_ns) continue;
        hand_on(held, stats, qi, handle);
        got = true;
        continue;
      }
      const uint16_t n = dpdk_port::receive(queues_[qi].port_id, queues_[qi].queue, held.mbufs, kRxBurst);
      if (n == 0) continue;
      const uint64_t now = context_.clock.now_ns();  // once per burst
      uint64_t bytes = 0;
      // Prefetch the next frame's first line while this one parses: the header miss dominates parsing.
      rte_prefetch0(rte_pktmbuf_mtod(held.mbufs[0], const void*));
      for (uint16_t i = 0; i < n; ++i) {
        if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(held.mbufs[i + 1], const void*));
        const rte_mbuf* m = held.mbufs[i];
        const uint64_t ts = context_.packet_clock ? context_.rx_timestamp.ns(m, last_packet_ns_) : now;
        last_packet_ns_ = ts;
        packet::DeferredChecksum sum;
        // A frame longer than an mbuf's data room comes chained: the headers are in the first segment, and
        // the rest (pkt_len) was received, so its payload counts as captured.
        parser_.parse(packet::LinkType::kEthernet, rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, ts, held.parsed[i],
                      &sum, m->pkt_len, &fragments_);
        held.parsed[i].rx_port =
            queues_[qi].port_id < tcp_session::kCapturePorts ? queues_[qi].port_id : tcp_session::kCapturePorts - 1;
        if (!sum.ok(dpdk_port::nic_checksum(m), held.parsed[i].meta.tunnel_depth)) {
          held.parsed[i].frame_class = packet::FrameClass::kBadChecksum;
        }
        bytes += m->pkt_len;
      }
      held.n = n;
      held.bytes = bytes;
      if (context_.pace != nullptr) {
        held.due_ns = context_.pace->due_ns(last_packet_ns_, now);
        if (now < held.due_ns) continue;
      }
      hand_on(held, stats, qi, handle);
      got = true;
    }
    return got;
  }

  /// Hands on every burst still held (a paced replay that stops): each received packet is classified.
  template <class Handle>
  void drain(CoreStats& stats, Handle&& handle) noexcept {
    for (size_t qi = 0; qi < held_.size(); ++qi) {
      if (held_[qi].n != 0) hand_on(held_[qi], stats, qi, handle);
    }
  }

  [[nodiscard]] const std::vector<QueueRef>& queues() const noexcept { return queues_; }
  /// The newest packet's time (its RX timestamp, or the TSC time of its burst).
  [[nodiscard]] uint64_t last_packet_ns() const noexcept { return last_packet_ns_; }

 private:
  /// One queue's burst between receive and hand-off (held there while a paced burst waits for its time).
  struct Held {
    rte_mbuf* mbufs[channel::kBurstSize];
    engine::ParsedPacket parsed[channel::kBurstSize];
    uint16_t n = 0;
    uint64_t bytes = 0;
    uint64_t due_ns = 0;
  };
  /// Counts the burst as received when it is handed on, so a held burst is in no count yet: received =
  /// classified + dropped holds at every publish, paced or not.
  template <class Handle>
  static void hand_on(Held& held, CoreStats& stats, size_t qi, Handle& handle) noexcept {
    stats.rx_packets[qi] += held.n;
    stats.rx_bytes[qi] += held.bytes;
    handle(held.parsed, held.n);
    rte_pktmbuf_free_bulk(held.mbufs, held.n);
    held.n = 0;
  }

  std::vector<QueueRef> queues_;
  const RxContext& context_;
  engine::FrameParser parser_;
  /// IPv4 datagrams being reassembled from this poller's queues (a NIC's RSS keeps a datagram's fragments on
  /// one queue: it hashes fragments by their addresses only).
  packet::FragmentTable fragments_{engine::kFragmentDatagrams, engine::kFragmentTimeoutNs};
  std::vector<Held> held_;  ///< per queue
  uint64_t last_packet_ns_ = 0;
};

}  // namespace synscope::lcore
