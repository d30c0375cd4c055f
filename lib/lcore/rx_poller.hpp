// rx_poller: the RX half both RX roles share. Polls each of the lcore's queues once: burst -> prefetch the
// next frame -> parse -> hand the parsed burst on -> free. Reads the clock once per burst (TSC time) or
// takes each packet's RX timestamp (--clock packet). The TCP checksum is resolved here, with the NIC's
// word when it gave one, because the frame is freed at the end of the burst.
//
// Owned by one RX lcore; no allocation, locks or exceptions.
#pragma once

#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <cstdint>
#include <vector>

#include "channel/channel.hpp"
#include "dpdk_port/dpdk_port.hpp"
#include "engine/engine.hpp"
#include "lcore/core_stats.hpp"
#include "lcore/tsc_clock.hpp"

namespace synscope::lcore {

/// What every RX role reads at start-up, shared read-only between lcores.
struct RxContext {
  const TscClock& clock;
  const dpdk_port::RxTimestamp& rx_timestamp;
  packet::ParseOptions parse;
  bool packet_clock = false;  ///< time from RX timestamps instead of the TSC
};

class RxPoller {
 public:
  RxPoller(std::vector<QueueRef> queues, const RxContext& context) noexcept
      : queues_(std::move(queues)), context_(context), parser_(context.parse) {}

  /// Polls every queue once; `handle(parsed, n)` gets each non-empty burst, parsed. Returns true if a
  /// packet arrived.
  template <class Handle>
  bool poll(CoreStats& stats, Handle&& handle) noexcept {
    constexpr uint16_t kRxBurst = channel::kBurstSize;
    bool got = false;
    for (size_t qi = 0; qi < queues_.size(); ++qi) {
      rte_mbuf* mbufs[kRxBurst];
      const uint16_t n = dpdk_port::receive(queues_[qi].port_id, queues_[qi].queue, mbufs, kRxBurst);
      if (n == 0) continue;
      got = true;
      const uint64_t now = context_.clock.now_ns();  // once per burst
      uint64_t bytes = 0;
      // Prefetch the next frame's first line while this one parses: the header miss dominates parsing.
      rte_prefetch0(rte_pktmbuf_mtod(mbufs[0], const void*));
      for (uint16_t i = 0; i < n; ++i) {
        if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(mbufs[i + 1], const void*));
        const rte_mbuf* m = mbufs[i];
        const uint64_t ts = context_.packet_clock ? context_.rx_timestamp.ns(m, last_packet_ns_) : now;
        last_packet_ns_ = ts;
        packet::DeferredChecksum sum;
        parser_.parse(packet::LinkType::kEthernet, rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, ts, parsed_[i],
                      &sum);
        if (!sum.ok(dpdk_port::nic_checksum(m), parsed_[i].meta.tunnel_depth)) {
          parsed_[i].frame_class = packet::FrameClass::kBadChecksum;
        }
        bytes += m->pkt_len;
      }
      stats.rx_packets[qi] += n;
      stats.rx_bytes[qi] += bytes;
      handle(parsed_, n);
      rte_pktmbuf_free_bulk(mbufs, n);
    }
    return got;
  }

  [[nodiscard]] const std::vector<QueueRef>& queues() const noexcept { return queues_; }
  /// The newest packet's time (its RX timestamp, or the TSC time of its burst).
  [[nodiscard]] uint64_t last_packet_ns() const noexcept { return last_packet_ns_; }

 private:
  std::vector<QueueRef> queues_;
  const RxContext& context_;
  engine::FrameParser parser_;
  engine::ParsedPacket parsed_[channel::kBurstSize];
  uint64_t last_packet_ns_ = 0;
};

}  // namespace synscope::lcore
