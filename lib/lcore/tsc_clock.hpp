// tsc_clock: live time. The TSC mapped to wall-clock nanoseconds once at start (rte_get_tsc_hz), read once
// per burst on the data path. Read-only after construction; safe to share between lcores.
#pragma once

#include <cstdint>

namespace synscope::lcore {

class TscClock {
 public:
  TscClock() noexcept;
  [[nodiscard]] uint64_t now_ns() const noexcept;
  [[nodiscard]] uint64_t ticks_per_ms() const noexcept { return ticks_per_ms_; }

 private:
  uint64_t base_tsc_ = 0;
  uint64_t base_ns_ = 0;
  uint64_t mult_ = 0;  ///< ns per tick in 32.32 fixed point
  uint64_t ticks_per_ms_ = 0;
};

}  // namespace synscope::lcore
