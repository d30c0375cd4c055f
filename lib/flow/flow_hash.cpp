// flow/flow_hash: seeding a FlowHasher from the kernel's random source. See flow_hash.hpp.
#include "flow/flow_hash.hpp"

#include <sys/random.h>

#include <chrono>

namespace synscope::flow {

FlowHasher::FlowHasher() noexcept {
  uint64_t seed[2];
  if (getrandom(seed, sizeof(seed), 0) != static_cast<ssize_t>(sizeof(seed))) {
    const auto t = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    seed[0] = splitmix64(t);
    seed[1] = splitmix64(t ^ reinterpret_cast<uintptr_t>(&seed));
  }
  s0_ = seed[0];
  s1_ = seed[1] | 1;
  derive_keys();
}

}  // namespace synscope::flow
