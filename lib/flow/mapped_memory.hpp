// flow/mapped_memory: large zero-filled arrays reserved at start and backed by pages only as they are used.
//
// Plain functions over mmap/madvise; they keep no state, so any thread may call them. The memory they
// return belongs to the caller (a FlowTable), which decides which thread touches it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace synscope::flow {

/// Which pages back map_zeroed memory.
enum class Paging : uint8_t {
  /// 4 KiB pages (MADV_NOHUGEPAGE, even where THP is "always"): only what is touched is faulted in.
  kSmall,
  /// Transparent huge pages throughout, for randomly accessed arrays (see mapped_memory.cpp).
  kHuge,
};

/// Anonymous zero-filled memory, reserved at start and touched only as used (mmap with MAP_NORESERVE), so a
/// table sized for millions of flows costs nothing until the flows arrive. nullptr when it cannot.
void* map_zeroed(size_t bytes, Paging paging = Paging::kHuge) noexcept;
/// Returns map_zeroed memory of `bytes` (as asked for) to the kernel; nullptr is ignored.
void unmap(void* p, size_t bytes) noexcept;
/// Faults in `bytes` of map_zeroed memory at page-aligned `p` as a write would (MADV_POPULATE_WRITE), without
/// writing: safe while another thread uses the same pages. False when the kernel cannot (before Linux 5.14).
bool populate_for_write(void* p, size_t bytes) noexcept;

}  // namespace synscope::flow
