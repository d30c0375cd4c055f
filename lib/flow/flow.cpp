// flow: key canonicalisation and hash seeding. See flow.hpp.
#include "flow/flow.hpp"

#include <sys/mman.h>
#include <sys/random.h>

#include <chrono>

namespace synscope::flow {

void* map_zeroed(size_t bytes, Paging paging) noexcept {
  if (bytes == 0) bytes = 1;
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  // Transparent huge pages where the kernel allows them (advisory; ignored when THP is off): flow-table
  // access is random, so 2 MiB pages save TLB misses, and they cut first-touch page faults 512-fold. Those
  // faults matter more than they look: the first read of a fresh page maps the shared zero page and the
  // first write then copies it, which flushes the TLB of every core running this process (an IPI, a VM
  // exit under virtualisation) — 15% of worker time in a two-thread replay before this.
  // kSmall says so even where THP is "always": small pages are asked for where a huge one costs more.
  (void)::madvise(p, bytes, paging == Paging::kHuge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  return p;
}

bool populate_for_write(void* p, size_t bytes) noexcept {
  return ::madvise(p, bytes, MADV_POPULATE_WRITE) == 0;
}

void unmap(void* p, size_t bytes) noexcept {
  if (p != nullptr) ::munmap(p, bytes == 0 ? 1 : bytes);
}

FlowHasher::FlowHasher() noexcept {
  uint64_t seed[2];
  if (getrandom(seed, sizeof(seed), 0) != static_cast<ssize_t>(sizeof(seed))) {
    const auto t = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    seed[0] = t * 0x9e3779b97f4a7c15ULL;
    seed[1] = (t ^ reinterpret_cast<uintptr_t>(&seed)) * 0xbf58476d1ce4e5b9ULL;
  }
  s0_ = seed[0];
  s1_ = seed[1] | 1;
  derive_keys();
}

}  // namespace synscope::flow
