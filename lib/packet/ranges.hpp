// ranges: merging a range into a small sorted set of disjoint ranges, for the reassemblers that keep byte
// ranges instead of bytes (packet::FragmentTable, tcp_session's content slots). Ranges are [begin, end);
// ranges that overlap or touch become one.
#pragma once

#include <array>
#include <cstddef>

namespace synscope::packet {

/// Writes the first `n` of `ranges` (sorted, disjoint, not touching) with `add` merged in to `out`, sorted;
/// returns how many there are (at most n + 1, so `out` holds one more than the set it came from).
template <class Range, size_t N>
[[nodiscard]] size_t merge_range(const Range* ranges, size_t n, Range add, std::array<Range, N>& out) noexcept {
  size_t k = 0;
  bool placed = false;
  for (size_t i = 0; i < n; ++i) {
    const Range r = ranges[i];
    if (r.end < add.begin) {
      out[k++] = r;
    } else if (r.begin > add.end) {
      if (!placed) out[k++] = add, placed = true;
      out[k++] = r;
    } else {
      add.begin = r.begin < add.begin ? r.begin : add.begin;
      add.end = r.end > add.end ? r.end : add.end;
    }
  }
  if (!placed) out[k++] = add;
  return k;
}

}  // namespace synscope::packet
