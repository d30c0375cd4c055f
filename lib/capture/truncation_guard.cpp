// truncation_guard: see truncation_guard.hpp.
#include "capture/truncation_guard.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

namespace synscope::capture {
namespace {

struct Slot {
  std::atomic<uintptr_t> begin{0};  ///< 0: free
  std::atomic<uintptr_t> end{0};
  std::atomic<bool> truncated{false};
};
Slot g_slots[TruncationGuard::kSlots];
struct sigaction g_previous;
std::atomic<bool> g_installed{false};
const std::atomic<bool> g_never{false};

void on_sigbus(int sig, siginfo_t* info, void* context) {
  const auto at = reinterpret_cast<uintptr_t>(info->si_addr);
  for (Slot& s : g_slots) {
    const uintptr_t begin = s.begin.load(std::memory_order_acquire);
    if (begin == 0 || at < begin || at >= s.end.load(std::memory_order_acquire)) continue;
    // The page is past the file's end now: put a private zero page in its place (mmap is a plain system
    // call, safe here) so the faulting read completes, and let the reader say what happened.
    const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    void* fixed = reinterpret_cast<void*>(at & ~(page - 1));
    if (::mmap(fixed, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
      s.truncated.store(true, std::memory_order_release);
      return;
    }
    break;
  }
  // Not ours (or no page could be put there): what was there before decides, as if we had not been.
  if ((g_previous.sa_flags & SA_SIGINFO) != 0 && g_previous.sa_sigaction != nullptr) {
    g_previous.sa_sigaction(sig, info, context);
    return;
  }
  if (g_previous.sa_handler != SIG_IGN && g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != nullptr) {
    g_previous.sa_handler(sig);
    return;
  }
  ::signal(SIGBUS, SIG_DFL);  // returning re-runs the faulting access, which now kills the process
}

void install_once() noexcept {
  bool expected = false;
  if (!g_installed.compare_exchange_strong(expected, true)) return;
  struct sigaction sa {};
  sa.sa_sigaction = on_sigbus;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  (void)::sigaction(SIGBUS, &sa, &g_previous);
}

}  // namespace

TruncationGuard::TruncationGuard(const void* base, size_t size) noexcept : flag_(&g_never) {
  install_once();
  const auto begin = reinterpret_cast<uintptr_t>(base);
  for (int i = 0; i < kSlots; ++i) {
    uintptr_t expected = 0;
    // Claim the slot with a placeholder end first, so the handler never sees a half-written range.
    if (g_slots[i].begin.load(std::memory_order_relaxed) == 0 &&
        g_slots[i].end.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
      g_slots[i].truncated.store(false, std::memory_order_relaxed);
      g_slots[i].end.store(begin + size, std::memory_order_release);
      g_slots[i].begin.store(begin, std::memory_order_release);
      slot_ = i;
      flag_ = &g_slots[i].truncated;
      return;
    }
  }
}

TruncationGuard::~TruncationGuard() {
  if (slot_ < 0) return;
  g_slots[slot_].begin.store(0, std::memory_order_release);
  g_slots[slot_].end.store(0, std::memory_order_release);
}

}  // namespace synscope::capture
