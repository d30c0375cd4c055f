// truncation_guard: survives a capture file that is truncated while it is mapped. Reading a mapped page
// past the file's new end raises SIGBUS, which killed the replay. A TruncationGuard registers one mapping;
// a process-wide SIGBUS handler (installed with the first guard) maps a zero page over a faulting page
// inside a registered mapping and marks it truncated, so the read completes (with zeros) and the reader
// reports the truncation as a corrupt capture at its next frame. A SIGBUS anywhere else is left to the
// handler that was there before (the default: the process dies, as any bug should).
//
// A guard is created and destroyed on the reader's thread at start-up and teardown; truncated() may be read
// from any thread. The handler touches only a fixed table of atomics (no allocation, no lock).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace synscope::capture {

class TruncationGuard {
 public:
  /// Registers [base, base + size). Installs the SIGBUS handler on first use. With every slot of the fixed
  /// table taken (kSlots mappings at once) the mapping is simply not guarded.
  TruncationGuard(const void* base, size_t size) noexcept;
  ~TruncationGuard();
  TruncationGuard(const TruncationGuard&) = delete;
  TruncationGuard& operator=(const TruncationGuard&) = delete;

  /// True once a read hit a page past the file's end (the file shrank while mapped). One relaxed load: the
  /// reader asks once per frame.
  [[nodiscard]] bool truncated() const noexcept { return flag_->load(std::memory_order_relaxed); }

  static constexpr int kSlots = 16;

 private:
  int slot_ = -1;
  const std::atomic<bool>* flag_;  ///< the slot's flag, or one that stays false when unguarded
};

}  // namespace synscope::capture
