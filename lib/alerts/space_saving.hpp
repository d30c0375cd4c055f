// alerts/space_saving: the Space-Saving heavy-hitter summary (Metwally, Agrawal, El Abbadi 2005).
//
// A SpaceSaving is plain fixed-size data owned by one thread (the alerts consumer); not thread-safe.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace synscope::alerts {

/// The k most frequent keys of a stream in k counters; a key's count is over-estimated by at most the
/// smallest counter, never under-estimated. Fixed size, no allocation (except top()'s answer).
template <class Key, size_t K>
class SpaceSaving {
 public:
  struct Entry {
    Key key{};
    uint64_t count = 0;
  };
  /// Counts one occurrence of `key`; an unknown key takes the smallest (or an empty) counter.
  void add(const Key& key) noexcept {
    Entry* min = &entries_[0];
    for (Entry& e : entries_) {
      if (e.count != 0 && e.key == key) {
        ++e.count;
        return;
      }
      if (e.count < min->count) min = &e;
    }
    min->key = key;  // replaces the smallest (or an empty) counter, inheriting its count
    ++min->count;
  }
  void clear() noexcept { entries_ = {}; }
  /// The count of `key` (over-estimated by at most the smallest counter), 0 when it is not tracked.
  [[nodiscard]] uint64_t count(const Key& key) const noexcept {
    for (const Entry& e : entries_) {
      if (e.count != 0 && e.key == key) return e.count;
    }
    return 0;
  }
  /// Up to `n` entries with a count, largest first.
  [[nodiscard]] std::vector<Entry> top(size_t n) const {
    std::vector<Entry> out;
    for (const Entry& e : entries_) {
      if (e.count != 0) out.push_back(e);
    }
    std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.count > b.count; });
    if (out.size() > n) out.resize(n);
    return out;
  }

 private:
  std::array<Entry, K> entries_{};
};

}  // namespace synscope::alerts
