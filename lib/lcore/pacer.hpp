// pacer: when an lcore role's periodic work is due, by TSC, and the step every role takes after a poll.
// Owned by one lcore.
#pragma once

#include <rte_cycles.h>

#include <cstdint>

#include "lcore/core_stats.hpp"
#include "lcore/tsc_clock.hpp"

namespace synscope::lcore {

/// When a role's periodic work is due, by TSC: publishing its counters (every 2 ms: the REJ-visibility
/// bar is 250 ms), idle, letting TSC time pass (every 1 ms) so timers fire on a quiet link, and (the stats
/// core) flushing the output files (every second, so tail -f and shippers see lines).
class Pacer {
 public:
  explicit Pacer(const TscClock& clock) noexcept : ticks_per_ms_(clock.ticks_per_ms()) {}
  [[nodiscard]] bool publish_due(uint64_t tsc) noexcept { return due(tsc, next_publish_, kPublishMs); }
  [[nodiscard]] bool advance_due(uint64_t tsc) noexcept { return due(tsc, next_advance_, kAdvanceMs); }
  [[nodiscard]] bool flush_due(uint64_t tsc) noexcept { return due(tsc, next_flush_, kFlushMs); }

  /// A role's step after one poll: counts the poll in `stats`; when it found nothing and TSC time is the
  /// role's clock (`idle_time_passes`), calls `pass_time()` once a millisecond; calls `publish()` when due.
  template <class PassTime, class Publish>
  void after_poll(bool got, bool idle_time_passes, CoreStats& stats, PassTime&& pass_time, Publish&& publish) noexcept {
    ++stats.polls;
    stats.busy_polls += got;
    const uint64_t tsc = rte_rdtsc();
    if (!got && idle_time_passes && advance_due(tsc)) pass_time();
    if (publish_due(tsc)) publish();
  }

 private:
  static constexpr uint64_t kPublishMs = 2;
  static constexpr uint64_t kAdvanceMs = 1;
  static constexpr uint64_t kFlushMs = 1000;
  bool due(uint64_t tsc, uint64_t& next, uint64_t period_ms) const noexcept {
    if (tsc < next) return false;
    next = tsc + period_ms * ticks_per_ms_;
    return true;
  }
  uint64_t ticks_per_ms_;
  uint64_t next_publish_ = 0;
  uint64_t next_advance_ = 0;
  uint64_t next_flush_ = 0;
};

}  // namespace synscope::lcore
