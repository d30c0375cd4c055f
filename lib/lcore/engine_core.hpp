// engine_core: the spread-mode flow-owning lcore role. Takes parsed bursts from every SpreadRxCore over
// SP/SC channels and runs its SessionEngine (FlowOwner) on them; when every feeder is quiet it lets their
// time pass, so timers fire and the stats core's merge is not held back by a quiet engine.
//
// One lcore's whole state: `bool poll_once() noexcept` is one pass of its loop ("did work"). Needs no EAL
// (channels and engine work on plain memory), so it is unit-tested on its own. Never allocates, locks or
// throws after construction.
#pragma once

#include <cstdint>
#include <vector>

#include "channel/channel.hpp"
#include "lcore/core_stats.hpp"
#include "lcore/feed.hpp"
#include "lcore/flow_owner.hpp"
#include "lcore/pacer.hpp"

namespace synscope::lcore {

class EngineCore {
 public:
  /// One input per feeding RX core: its channel to this engine and its FeedState.
  struct Input {
    channel::BurstChannel<channel::Burst>* bursts;
    const FeedState* feed;
  };

  EngineCore(std::vector<Input> inputs, FlowOwner& owner, const TscClock& clock) noexcept;
  /// Takes at most one burst from each input; idle, lets the feeders' time pass. True if a burst came.
  bool poll_once() noexcept;
  /// Until every feeder is done and drained: poll_once(); then every open connection is reported.
  void run() noexcept;
  void publish() noexcept;

  channel::Mirror<CoreStats> mirror;

 private:
  std::vector<Input> inputs_;
  FlowOwner& owner_;
  Pacer pacer_;
  CoreStats stats_;
};

}  // namespace synscope::lcore
