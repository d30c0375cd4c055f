// feed: what a spread RX lcore shares with the engine cores it feeds, besides the burst channels: the time
// it has got to and whether it has stopped. Written by the RX lcore, read by its engine cores.
#pragma once

#include <atomic>
#include <cstdint>

namespace synscope::lcore {

struct FeedState {
  /// The RX core's newest packet time (idle: the TSC time), stored with release after publishing the
  /// bursts it covers: an engine that then finds no burst waiting knows no older packet is on its way.
  alignas(64) std::atomic<uint64_t> time_ns{0};
  /// Set once the RX core stopped and published its last bursts.
  std::atomic<bool> done{false};
};

}  // namespace synscope::lcore
