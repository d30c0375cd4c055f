// rx_core: the two RX lcore roles.
//
//   RxCore        (RSS, or one queue per core) polls its queues and owns the flows that arrive on them:
//                 a SessionEngine of its own (FlowOwner), so a flow never leaves the core.
//   SpreadRxCore  (single-queue ports) polls its queues and hands parsed bursts to the EngineCores that
//                 own the flows, by the symmetric flow hash (Spreader).
//
// Each is one lcore's whole state: `bool poll_once() noexcept` is one pass of its loop ("did work"),
// run() loops until the stop flag and then finishes. Nothing here formats, writes, allocates or throws.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "channel/channel.hpp"
#include "lcore/core_stats.hpp"
#include "lcore/feed.hpp"
#include "lcore/flow_owner.hpp"
#include "lcore/pacer.hpp"
#include "lcore/rx_poller.hpp"
#include "lcore/spreader.hpp"

namespace synscope::lcore {

class RxCore {
 public:
  RxCore(std::vector<QueueRef> queues, const RxContext& context, FlowOwner& owner,
         const std::atomic<bool>& stop) noexcept;
  /// Polls every queue once into the engine; periodic work. True if a packet arrived.
  bool poll_once() noexcept;
  /// Until `stop`: poll_once(); then every open connection is reported and the channel marked done.
  void run() noexcept;
  /// Publishes the counters (Mirror) now.
  void publish() noexcept;

  [[nodiscard]] const std::vector<QueueRef>& queues() const noexcept { return rx_.queues(); }
  channel::Mirror<CoreStats> mirror;

 private:
  void process(const engine::ParsedPacket* pkts, uint16_t n) noexcept;
  RxPoller rx_;
  const RxContext& context_;
  FlowOwner& owner_;
  const std::atomic<bool>& stop_;
  Pacer pacer_;
  CoreStats stats_;
};

class SpreadRxCore {
 public:
  SpreadRxCore(std::vector<QueueRef> queues, const RxContext& context, Spreader spreader,
               const std::atomic<bool>& stop) noexcept;
  /// Polls every queue once, spreading the packets; publishes partial bursts and its time; periodic work.
  bool poll_once() noexcept;
  /// Until `stop`: poll_once(); then the last bursts are published and feed().done is set.
  void run() noexcept;
  void publish() noexcept;

  [[nodiscard]] const std::vector<QueueRef>& queues() const noexcept { return rx_.queues(); }
  /// What the engine cores read: this core's time and whether it stopped.
  [[nodiscard]] const FeedState& feed() const noexcept { return feed_; }
  /// This core's last published CoreStats with its packet counts and ring_full drops as of the last
  /// hand-off (RxCounts; bytes stay as of the last publish). Any thread.
  [[nodiscard]] CoreStats read() const noexcept;
  channel::Mirror<CoreStats> mirror;
  RxCounts counts;  ///< stored before every hand-off

 private:
  void process(const engine::ParsedPacket* pkts, uint16_t n) noexcept;
  void store_counts() noexcept;
  RxPoller rx_;
  const RxContext& context_;
  Spreader spreader_;
  const std::atomic<bool>& stop_;
  Pacer pacer_;
  CoreStats stats_;
  FeedState feed_;
};

}  // namespace synscope::lcore
