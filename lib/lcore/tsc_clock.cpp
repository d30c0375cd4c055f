// tsc_clock: see tsc_clock.hpp.
#include "lcore/tsc_clock.hpp"

#include <rte_cycles.h>

#include <ctime>

namespace synscope::lcore {

TscClock::TscClock() noexcept {
  const uint64_t hz = rte_get_tsc_hz();
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  base_tsc_ = rte_rdtsc();
  base_ns_ = static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
  mult_ = hz != 0 ? static_cast<uint64_t>((static_cast<__uint128_t>(1'000'000'000ull) << 32) / hz) : 0;
  ticks_per_ms_ = hz / 1000 != 0 ? hz / 1000 : 1;
}

uint64_t TscClock::now_ns() const noexcept {
  const uint64_t ticks = rte_rdtsc() - base_tsc_;
  return base_ns_ + static_cast<uint64_t>((static_cast<__uint128_t>(ticks) * mult_) >> 32);
}

}  // namespace synscope::lcore
