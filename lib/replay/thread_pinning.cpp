// thread_pinning: see thread_pinning.hpp.
#include "replay/thread_pinning.hpp"

#include <pthread.h>

namespace synscope::replay {

ThreadPinning::ThreadPinning() noexcept {
  cpu_set_t allowed;
  if (::pthread_getaffinity_np(::pthread_self(), sizeof(original_), &original_) != 0 ||
      ::sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
    return;
  }
  int found = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE && found < 2; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) cpus_[found++] = cpu;
  }
  active_ = found == 2 && pin(cpus_[0]);
}

ThreadPinning::~ThreadPinning() {
  if (active_) (void)::pthread_setaffinity_np(::pthread_self(), sizeof(original_), &original_);
}

void ThreadPinning::pin_worker() const noexcept {
  if (active_) (void)pin(cpus_[1]);
}

bool ThreadPinning::pin(int cpu) noexcept {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  return ::pthread_setaffinity_np(::pthread_self(), sizeof(one), &one) == 0;
}

}  // namespace synscope::replay
