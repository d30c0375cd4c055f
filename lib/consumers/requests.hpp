// requests: what an operator asks of a running replay or live run through signals — stop (SIGINT,
// SIGTERM), reopen the outputs (SIGHUP, after logrotate moved them), report progress on stderr (SIGUSR1).
//
// Set from signal handlers (lock-free atomics only, async-signal-safe) and taken by the thread that owns
// the consumers (the replay reader, the live stats core), which is the only one that may act on them.
#pragma once

#include <atomic>

namespace synscope::consumers {

struct Requests {
  std::atomic<bool> stop{false};
  std::atomic<bool> reopen{false};
  std::atomic<bool> report{false};
  std::atomic<int> stop_signal{0};  ///< the signal that asked to stop (0: a limit or nobody)

  static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free);

  [[nodiscard]] bool stopping() const noexcept { return stop.load(std::memory_order_relaxed); }
  /// True once per SIGHUP (or several, arriving before it was taken).
  [[nodiscard]] bool take_reopen() noexcept { return reopen.exchange(false, std::memory_order_relaxed); }
  /// True once per SIGUSR1 (or several, arriving before it was taken).
  [[nodiscard]] bool take_report() noexcept { return report.exchange(false, std::memory_order_relaxed); }
};

}  // namespace synscope::consumers
