// flow/hash_index: an open-addressing index from 64-bit hashes to entry numbers, over slots the owner holds.
//
// A HashIndex is owned by the thread that owns its entries (a FlowTable's core, the alerts' consumer
// thread) and is not thread-safe. It never allocates: it works over a power-of-two array of zeroed 8-byte
// slots that its owner provides and keeps, which lets the owner choose the memory (map_zeroed with its
// paging, or a std::vector) and reserve room for growth.
//
// Each used slot holds `signature << 32 | (entry + 1)`, 0 is free. Probing is linear from the hash's home
// slot, and erase() uses backward-shift deletion, so there are no tombstones and probe runs never degrade
// over a long run. The signature is the hash's low 32 bits, which include the home-slot bits (an index has
// at most 2^32 slots): erase() learns where a slot's entry belongs from the slot alone, without reading the
// entry. The index does not know keys: find() asks the owner's predicate about each entry whose signature
// matches. Keep it at most half full (the owner's job) and a lookup usually reads one cache line of slots.
#pragma once

#include <cstdint>
#include <cstring>

namespace synscope::flow {

// The lookup, place and erase paths are always_inline: in a FlowTable they must compile exactly as if written
// in the table's own members, and as calls one level down they change where LTO inlines the engine's hot
// loop and how it lays out its blocks.
class HashIndex {
 public:
  /// find()'s answer when no entry matches.
  static constexpr uint32_t kNone = UINT32_MAX;
  /// The most slots an index may have: the home slot must lie within the 32-bit signature.
  static constexpr uint64_t kMaxSlots = uint64_t{1} << 32;

  /// An index without slots: only assignment and slot_count() (1) may be used.
  HashIndex() noexcept = default;
  /// An index over `slot_count` slots at `slots` (a power of two, at most kMaxSlots), all zero. The caller
  /// owns the memory and keeps it for the index's life, and reserved it for every grow() it will ask for.
  HashIndex(uint64_t* slots, uint64_t slot_count) noexcept : mask_(slot_count - 1), slots_(slots) {}

  [[nodiscard]] static uint32_t signature(uint64_t hash) noexcept { return static_cast<uint32_t>(hash); }

  /// Prefetches the slot line a lookup of `hash` reads first.
  [[gnu::always_inline]] void prefetch(uint64_t hash) const noexcept { __builtin_prefetch(&slots_[hash & mask_]); }

  /// The first entry on `hash`'s probe run whose signature matches and for which `match(entry)` is true,
  /// or kNone at the first free slot. `match` sees only signature-matching entries, in probe order: a
  /// predicate that is always true gives the first candidate (to prefetch it).
  template <class Match>
  [[nodiscard, gnu::always_inline]] uint32_t find(uint64_t hash, Match&& match) const noexcept {
    const uint32_t sig = signature(hash);
    for (uint64_t pos = hash & mask_;; pos = (pos + 1) & mask_) {
      const uint64_t slot = slots_[pos];
      if (slot == 0) return kNone;
      if (static_cast<uint32_t>(slot >> 32) == sig) {
        const uint32_t entry = static_cast<uint32_t>(slot) - 1;
        if (match(entry)) return entry;
      }
    }
  }

  /// Puts `entry` (below UINT32_MAX, not in the index) in the first free slot of `hash`'s probe run. The
  /// index must have a free slot.
  [[gnu::always_inline]] void place(uint64_t hash, uint32_t entry) noexcept {
    uint64_t pos = hash & mask_;
    while (slots_[pos] != 0) pos = (pos + 1) & mask_;
    slots_[pos] = (uint64_t{signature(hash)} << 32) | (uint64_t{entry} + 1);
  }

  /// Removes `entry`, which must have been placed with `hash`.
  [[gnu::always_inline]] void erase(uint64_t hash, uint32_t entry) noexcept {
    uint64_t pos = hash & mask_;
    while (static_cast<uint32_t>(slots_[pos]) != entry + 1) pos = (pos + 1) & mask_;
    // Backward-shift deletion: pull later members of the probe run into the hole.
    uint64_t hole = pos;
    for (uint64_t next = (hole + 1) & mask_; slots_[next] != 0; next = (next + 1) & mask_) {
      const uint64_t home = (slots_[next] >> 32) & mask_;
      // Move `next` into the hole unless its home lies cyclically in (hole, next].
      const bool home_after_hole = ((next - home) & mask_) < ((next - hole) & mask_);
      if (!home_after_hole) {
        slots_[hole] = slots_[next];
        hole = next;
      }
    }
    slots_[hole] = 0;
  }

  /// Doubles the slot count into the memory reserved beyond it and empties every slot: the caller then
  /// places every entry again. Each slot is written before anything reads it: a fresh page read first maps
  /// the shared zero page, and the write that follows copies it and flushes the TLB of every CPU running
  /// the process.
  void grow() noexcept {
    mask_ = (mask_ + 1) * 2 - 1;
    clear();
  }

  /// Empties every slot.
  void clear() noexcept { std::memset(slots_, 0, (mask_ + 1) * sizeof(uint64_t)); }

  [[nodiscard]] uint64_t slot_count() const noexcept { return mask_ + 1; }
  /// The slot memory the index was given (for its owner to release).
  [[nodiscard]] uint64_t* slots() const noexcept { return slots_; }

 private:
  uint64_t mask_ = 0;
  uint64_t* slots_ = nullptr;
};

}  // namespace synscope::flow
