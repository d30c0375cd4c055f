// flow/flow_table: the per-core, fixed-capacity table from FlowKey to a flow's entry.
//
// A FlowTable is owned by exactly one thread (an RX core, or the replay loop) and is not thread-safe: no
// locks, no atomics, except populate_ahead(), which one other thread may call. All memory is reserved in
// the constructor; find/insert/erase never allocate.
//
// Layout: a HashIndex of 8-byte slots (32-bit hash signature | entry number), kept at most half full, so a
// lookup usually touches one index cache line and then the entry; entries live in a separate fixed array
// with a free list. The hash is keyed (FlowHasher), so probe runs cannot be made long on purpose.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "flow/flow_hash.hpp"
#include "flow/flow_key.hpp"
#include "flow/hash_index.hpp"
#include "flow/mapped_memory.hpp"

namespace synscope::flow {

/// How a FlowTable sizes its slot index. Both reserve the index for `capacity` at start (address space only).
enum class IndexSizing : uint8_t {
  /// The whole index from the start: no insert ever pauses. For live cores.
  kFull,
  /// Starts at kInitialSlots and doubles (rehashing the live entries) whenever it would pass half full, up
  /// to the full size. For replay: a capture with 20k concurrent flows touches 256 KiB of index instead of
  /// 16 MiB for a million-flow capacity. Fresh memory is what costs there: the kernel clears every page
  /// on first touch, and on a VM the host may first have to back a page it reclaimed.
  kGrowing,
};

/// Fixed-capacity hash table from FlowKey to Entry. `Entry` must be trivially destructible and have a public
/// `FlowKey key` member (the table recomputes a key's hash where it needs it: erase, an index rehash). Entries are addressed by a stable index in [0, capacity);
/// fresh indices are handed out in increasing order and freed ones are reused first, so the live entries
/// stay within [0, high_water()) and sweeps never walk untouched memory.
template <typename Entry>
class FlowTable {
  static_assert(std::is_trivially_destructible_v<Entry>);

 public:
  static constexpr uint32_t kNone = HashIndex::kNone;

  /// Reserves room for `capacity` entries (start-up only). Check ok(): false when the address space could
  /// not be reserved, and then the table must not be used.
  explicit FlowTable(uint32_t capacity, FlowHasher hasher = FlowHasher(), IndexSizing sizing = IndexSizing::kFull)
      : capacity_(capacity), reserved_(capacity), hasher_(hasher) {
    uint64_t slots = 16;
    while (slots < uint64_t{capacity} * 2 && slots < HashIndex::kMaxSlots) slots <<= 1;
    max_slots_ = slots;
    // A growing table (replay) takes small pages: it is faulted in while packets wait, as it grows, and a
    // fresh huge page is a gamble. On a VM a huge page the guest has not used lately must first be backed by
    // the host, which can take many times longer than faulting in the same bytes as small pages.
    const Paging table_paging = sizing == IndexSizing::kGrowing ? Paging::kSmall : Paging::kHuge;
    auto* const slot_memory = static_cast<uint64_t*>(map_zeroed(slots * sizeof(uint64_t), table_paging));
    index_ = HashIndex(slot_memory, sizing == IndexSizing::kGrowing && slots > kInitialSlots ? kInitialSlots : slots);
    entries_ = static_cast<Entry*>(map_zeroed(uint64_t{capacity} * sizeof(Entry), table_paging));
    // The index a growing table uses is written before it is read (here and in HashIndex::grow()): read
    // first, a fresh page maps the shared zero page, and the write that follows copies it and flushes the
    // TLB of every CPU running this process (an IPI).
    if (slot_memory != nullptr && sizing == IndexSizing::kGrowing) index_.clear();
    // Bookkeeping arrays are touched only as far as they are used: small pages, so a few used bytes do not
    // fault in (and clear) 2 MiB.
    used_ = static_cast<uint8_t*>(map_zeroed(capacity, Paging::kSmall));
    recycled_ = static_cast<uint32_t*>(map_zeroed(uint64_t{capacity} * sizeof(uint32_t), Paging::kSmall));
    if (slot_memory == nullptr || entries_ == nullptr || used_ == nullptr || recycled_ == nullptr) capacity_ = 0;
  }

  [[nodiscard]] bool ok() const noexcept { return capacity_ > 0; }

  /// The memory a table of `capacity` entries uses when full (index, entries and bookkeeping): what start-up
  /// checks against the memory available, since the reservation itself costs nothing until flows arrive.
  [[nodiscard]] static uint64_t bytes_when_full(uint32_t capacity) noexcept {
    uint64_t slots = 16;
    while (slots < uint64_t{capacity} * 2 && slots < HashIndex::kMaxSlots) slots <<= 1;
    return slots * sizeof(uint64_t) + uint64_t{capacity} * (sizeof(Entry) + 1 + sizeof(uint32_t));
  }

  ~FlowTable() {
    unmap(index_.slots(), max_slots_ * sizeof(uint64_t));
    unmap(entries_, uint64_t{reserved_} * sizeof(Entry));
    unmap(used_, reserved_);
    unmap(recycled_, uint64_t{reserved_} * sizeof(uint32_t));
  }
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  [[nodiscard]] uint64_t hash(const FlowKey& key) const noexcept { return hasher_(key); }

  /// Prefetches the index line a lookup of `hash` will read first.
  void prefetch(uint64_t hash) const noexcept { index_.prefetch(hash); }

  /// Second prefetch stage: reads the index line (prefetched earlier) and prefetches the first `bytes` of
  /// the first entry whose signature matches, so the key compare and state update in find()/the caller hit
  /// cache. A caller that knows which part of the entry it will touch asks for only those lines.
  /// False when no signature matched: the key is not in the table (an insert is likely).
  bool prefetch_entry(uint64_t hash, uint32_t bytes = sizeof(Entry)) const noexcept {
    const uint32_t idx = index_.find(hash, [](uint32_t) { return true; });
    if (idx == kNone) return false;
    const char* e = reinterpret_cast<const char*>(&entries_[idx]);
    for (size_t off = 0; off < bytes && off < sizeof(Entry); off += 64) __builtin_prefetch(e + off);
    return true;
  }

  /// Prefetches, for writing, the entry the `nth` insert from now will take (0: the next), when it is a
  /// recycled one: insert() writes all of it, and a freed entry is usually long out of the cache. Fresh
  /// entries past the high-water mark are not worth it (their pages are faulted in anyway).
  void prefetch_free(uint32_t nth) const noexcept {
    if (nth >= recycled_top_) return;
    const char* e = reinterpret_cast<const char*>(&entries_[recycled_[recycled_top_ - 1 - nth]]);
    for (size_t off = 0; off < sizeof(Entry); off += 64) __builtin_prefetch(e + off, 1);
  }

  /// Index of the entry with `key`, or kNone.
  [[nodiscard]] uint32_t find(const FlowKey& key, uint64_t hash) const noexcept {
    return index_.find(hash, [&](uint32_t idx) { return entries_[idx].key == key; });
  }

  /// Inserts `key` (which must not be present; `hash` is hash(key)) and returns its entry index, or kNone
  /// when full. The entry gets `key`; every other member is left as it was (zero in a fresh entry, a
  /// previous flow's state in a recycled one) for the owner to initialise: the owner writes the whole entry
  /// anyway, and a second pass of zeroing stores over four cache lines is a visible part of a new flow.
  [[nodiscard]] uint32_t insert(const FlowKey& key, uint64_t hash) noexcept {
    uint32_t idx;
    if (recycled_top_ > 0) {
      idx = recycled_[--recycled_top_];
    } else if (high_water_ < capacity_) {
      idx = high_water_++;
      handed_out_.store(high_water_, std::memory_order_relaxed);
    } else {
      return kNone;
    }
    if (uint64_t{size()} * 2 > index_.slot_count() - 1 && index_.slot_count() < max_slots_) grow_index();
    index_.place(hash, idx);
    entries_[idx].key = key;
    used_[idx] = 1;
    return idx;
  }

  /// Removes entry `idx` (which must be in use).
  void erase(uint32_t idx) noexcept {
    index_.erase(hasher_(entries_[idx].key), idx);
    used_[idx] = 0;
    recycled_[recycled_top_++] = idx;
  }

  /// For another thread with time to spare (the replay reader while it waits for the worker that owns this
  /// table): faults in the entry memory just past the entries handed out so far, so the owner's inserts
  /// find those pages present instead of taking the faults. Page tables and zeroed pages only: no entry is
  /// ever written, so it is safe beside the owner; only one thread may call it. True when it did some work.
  bool populate_ahead() noexcept {
    // Steps of 256 KiB once less than 512 KiB is ready ahead: page by page, as the high-water mark creeps
    // up, it would be one madvise call per page.
    constexpr uint64_t kAhead = 512 * 1024, kStep = 256 * 1024;
    const uint64_t end = uint64_t{reserved_} * sizeof(Entry) / 4096 * 4096;
    const uint64_t handed_out = uint64_t{handed_out_.load(std::memory_order_relaxed)} * sizeof(Entry);
    if (populated_to_ >= end || populated_to_ >= handed_out + kAhead) return false;
    const uint64_t len = end - populated_to_ < kStep ? end - populated_to_ : kStep;
    if (!populate_for_write(reinterpret_cast<char*>(entries_) + populated_to_, len)) {
      populated_to_ = end;  // nothing left to do, or the kernel cannot: stop asking
      return false;
    }
    populated_to_ += len;
    return true;
  }

  /// Removes every entry at once (an owner that has reported them all: the end of a run). Cheaper than
  /// erasing them one by one, which shifts probe runs in an index that no longer fits the cache.
  void clear() noexcept {
    if (capacity_ == 0) return;
    index_.clear();
    std::memset(used_, 0, high_water_);
    recycled_top_ = 0;
    high_water_ = 0;
    handed_out_.store(0, std::memory_order_relaxed);
  }

  /// Prefetches the first cache line of entry `idx` (a sweep reads entries ahead of its cursor).
  void prefetch_at(uint32_t idx) const noexcept { __builtin_prefetch(&entries_[idx]); }

  [[nodiscard]] Entry& at(uint32_t idx) noexcept { return entries_[idx]; }
  [[nodiscard]] const Entry& at(uint32_t idx) const noexcept { return entries_[idx]; }
  [[nodiscard]] bool in_use(uint32_t idx) const noexcept { return used_[idx] != 0; }
  /// Every index below high_water() is either live or on the recycled stack.
  [[nodiscard]] uint32_t size() const noexcept { return high_water_ - recycled_top_; }
  [[nodiscard]] uint32_t capacity() const noexcept { return capacity_; }
  /// One past the highest index ever handed out: every live entry is below it.
  [[nodiscard]] uint32_t high_water() const noexcept { return high_water_; }
  /// Slots in the index now (grows with IndexSizing::kGrowing; always more than twice size()).
  [[nodiscard]] uint64_t index_slots() const noexcept { return index_.slot_count(); }

 private:
  static constexpr uint64_t kInitialSlots = 1u << 14;  // 128 KiB

  /// Doubles the index and re-inserts every live entry (insert() calls it with the new entry already
  /// counted in size(), so the index stays at most half full). O(index + high water), amortised over the
  /// inserts that filled it.
  void grow_index() noexcept {
    index_.grow();
    for (uint32_t idx = 0; idx < high_water_; ++idx) {
      if (used_[idx] != 0) index_.place(hasher_(entries_[idx].key), idx);
    }
  }

  uint32_t capacity_;
  uint32_t reserved_;
  HashIndex index_;  ///< over map_zeroed memory for max_slots_ slots
  uint64_t max_slots_ = 0;
  FlowHasher hasher_;
  Entry* entries_ = nullptr;
  uint8_t* used_ = nullptr;
  uint32_t* recycled_ = nullptr;
  uint32_t recycled_top_ = 0;
  uint32_t high_water_ = 0;
  // For populate_ahead() on another thread, each on a cache line of its own: that thread polls
  // handed_out_ while it waits, and on the line of the owner's hot fields every insert and erase would pay
  // a cross-core invalidation.
  alignas(64) std::atomic<uint32_t> handed_out_{0};  ///< high_water_, written only when it grows
  alignas(64) uint64_t populated_to_ = 0;            ///< entry bytes faulted in (the other thread's own)
};

}  // namespace synscope::flow
