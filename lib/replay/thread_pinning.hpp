// thread_pinning: gives the replay's two threads a CPU each, the reader the first CPU this process may use
// and the worker the second. Left to the scheduler they are now and then stacked on one CPU or moved
// between them mid-run. Nothing is pinned with fewer than two usable CPUs; the reader's own mask comes
// back when the object goes. Created and destroyed on the reader thread; pin_worker() on the worker.
#pragma once

#include <sched.h>

namespace synscope::replay {

class ThreadPinning {
 public:
  /// Pins the calling (reader) thread when two CPUs are usable.
  ThreadPinning() noexcept;
  /// Restores the reader's original CPU mask.
  ~ThreadPinning();
  ThreadPinning(const ThreadPinning&) = delete;
  ThreadPinning& operator=(const ThreadPinning&) = delete;
  /// Call on the worker thread: pins it to the second CPU (nothing when the reader was not pinned).
  void pin_worker() const noexcept;

 private:
  static bool pin(int cpu) noexcept;
  cpu_set_t original_{};
  int cpus_[2] = {-1, -1};
  bool active_ = false;
};

}  // namespace synscope::replay
