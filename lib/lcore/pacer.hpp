// pacer: when an lcore role's periodic work is due, by TSC. Owned by one lcore.
#pragma once

#include <cstdint>

#include "lcore/tsc_clock.hpp"

namespace synscope::lcore {

/// When a role's periodic work is due, by TSC: publishing its counters (every 2 ms: the REJ-visibility
/// bar is 250 ms) and, idle, letting TSC time pass (every 1 ms) so timers fire on a quiet link.
class Pacer {
 public:
  explicit Pacer(const TscClock& clock) noexcept : ticks_per_ms_(clock.ticks_per_ms()) {}
  [[nodiscard]] bool publish_due(uint64_t tsc) noexcept { return due(tsc, next_publish_, kPublishMs); }
  [[nodiscard]] bool advance_due(uint64_t tsc) noexcept { return due(tsc, next_advance_, kAdvanceMs); }

 private:
  static constexpr uint64_t kPublishMs = 2;
  static constexpr uint64_t kAdvanceMs = 1;
  bool due(uint64_t tsc, uint64_t& next, uint64_t period_ms) const noexcept {
    if (tsc < next) return false;
    next = tsc + period_ms * ticks_per_ms_;
    return true;
  }
  uint64_t ticks_per_ms_;
  uint64_t next_publish_ = 0;
  uint64_t next_advance_ = 0;
};

}  // namespace synscope::lcore
