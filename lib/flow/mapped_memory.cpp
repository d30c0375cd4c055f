// flow/mapped_memory: mmap/madvise behind map_zeroed, unmap and populate_for_write. See mapped_memory.hpp.
#include "flow/mapped_memory.hpp"

#include <sys/mman.h>

namespace synscope::flow {

void* map_zeroed(size_t bytes, Paging paging) noexcept {
  if (bytes == 0) bytes = 1;
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  // Transparent huge pages where the kernel allows them (advisory; ignored when THP is off): flow-table
  // access is random, so 2 MiB pages save TLB misses, and they cut first-touch page faults 512-fold. Those
  // faults matter more than they look: the first read of a fresh page maps the shared zero page and the
  // first write then copies it, which flushes the TLB of every core running this process (an IPI, a VM
  // exit under virtualisation).
  // kSmall says so even where THP is "always": small pages are asked for where a huge one costs more.
  (void)::madvise(p, bytes, paging == Paging::kHuge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  return p;
}

bool populate_for_write(void* p, size_t bytes) noexcept { return ::madvise(p, bytes, MADV_POPULATE_WRITE) == 0; }

void unmap(void* p, size_t bytes) noexcept {
  if (p != nullptr) ::munmap(p, bytes == 0 ? 1 : bytes);
}

}  // namespace synscope::flow
