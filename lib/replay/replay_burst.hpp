// replay_burst: the burst the replay pipeline's reader hands its worker. Beside the parsed packets it can
// carry TCP checksums the reader left for the worker to check (the capture stays mapped, so the frames are
// still there), and where in the capture the burst ends, so the reader knows what the worker no longer
// needs. Filled on the reader thread, read on the worker thread (through channel::BurstChannel).
#pragma once

#include <cstddef>
#include <cstdint>

#include "channel/channel.hpp"
#include "engine/engine.hpp"
#include "packet/packet.hpp"

namespace synscope::replay {

struct ReplayBurst {
  uint32_t n = 0;
  /// The reader left some TCP checksums in `deferred`; the worker checks them (check_deferred()) before
  /// processing.
  bool has_deferred = false;
  uint64_t end_offset = 0;  ///< capture file offset just past the burst's last frame
  engine::ParsedPacket pkts[channel::kBurstSize];
  packet::DeferredChecksum deferred[channel::kBurstSize];

  /// Calls `f` with each 64-byte step through what the reader wrote for the worker: the packets, and the
  /// deferred checksums when it left any (channel::prefetch_burst and BurstChannel::publish walk them).
  template <class F>
  void for_each_written_line(F f) const noexcept {
    channel::for_each_line(pkts, n, f);
    if (has_deferred) channel::for_each_line(deferred, n, f);
  }

  /// Worker side: checks the deferred checksums, turning each failure into kBadChecksum, the class the
  /// reader would have given (so verdicts do not depend on which thread checked).
  void check_deferred() noexcept {
    for (uint32_t i = 0; i < n; ++i) {
      if (!deferred[i].ok()) pkts[i].frame_class = packet::FrameClass::kBadChecksum;
    }
    has_deferred = false;
  }
};

}  // namespace synscope::replay
