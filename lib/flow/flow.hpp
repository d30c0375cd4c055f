// flow: direction-free flow identity and the per-core FlowTable.
//
// A FlowTable is owned by exactly one thread (an RX core, or the replay loop) and is not thread-safe: no
// locks, no atomics. All memory is allocated in the constructor; find/insert/erase never allocate.
//
// Layout: an index of 8-byte slots (32-bit hash signature | entry number), linearly probed and kept at most
// half full, so a lookup usually touches one index cache line and then the entry; entries live in a separate
// fixed array with a free list. Erase uses backward-shift deletion, so there are no tombstones and probe
// sequences never degrade over a long run. The hash is keyed with a per-run random seed so nobody can pick
// 5-tuples that collide on purpose (Suricata's FlowGetHash does the same with its hash_rand).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>

#include "packet/packet.hpp"

namespace synscope::flow {

/// Canonical, direction-free TCP flow key: (addr, port) pairs ordered so both directions map to one key.
struct FlowKey {
  packet::IpAddr addr_lo;
  packet::IpAddr addr_hi;
  uint16_t port_lo = 0;
  uint16_t port_hi = 0;
  uint8_t ip_version = 0;
  uint8_t pad[3] = {};

  friend bool operator==(const FlowKey& a, const FlowKey& b) noexcept {
    return std::memcmp(&a, &b, sizeof(FlowKey)) == 0;
  }
};
static_assert(sizeof(FlowKey) == 40 && std::has_unique_object_representations_v<FlowKey>);

/// Builds the canonical key of a packet; `from_lo` tells whether the packet's sender is the key's lo side.
FlowKey make_key(const packet::PacketMeta& pkt, bool& from_lo) noexcept;

/// Keyed 64-bit hash of a FlowKey (multiply-fold mixing over the 5 key words with a secret seed).
class FlowHasher {
 public:
  /// Seeds from the kernel's random source; falls back to the clock if getrandom() is unavailable.
  FlowHasher() noexcept;
  FlowHasher(uint64_t seed0, uint64_t seed1) noexcept : s0_(seed0), s1_(seed1) {}
  [[nodiscard]] uint64_t operator()(const FlowKey& key) const noexcept {
    uint64_t w[5];
    std::memcpy(w, &key, sizeof(w));
    uint64_t h = s0_;
    for (int i = 0; i < 5; ++i) h = mix(h ^ w[i], s1_ + kOdd[i]);
    return mix(h, s0_ ^ 0x9e3779b97f4a7c15ULL);
  }

 private:
  static constexpr uint64_t kOdd[5] = {0xa0761d6478bd642fULL, 0xe7037ed1a0b428dbULL, 0x8ebc6af09c88c6e3ULL,
                                       0x589965cc75374cc3ULL, 0x1d8e4e27c47d124fULL};
  static uint64_t mix(uint64_t a, uint64_t b) noexcept {
    __extension__ using u128 = unsigned __int128;  // GCC/Clang builtin: one MUL gives the 128-bit product
    const u128 r = static_cast<u128>(a) * b;
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
  }
  uint64_t s0_;
  uint64_t s1_;
};

/// Fixed-capacity hash table from FlowKey to Entry. `Entry` must be trivially copyable and have a public
/// `FlowKey key` member. Entries are addressed by a stable index in [0, capacity).
template <typename Entry>
class FlowTable {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  /// Allocates room for `capacity` entries (start-up only; throws std::bad_alloc when memory is short).
  explicit FlowTable(uint32_t capacity, FlowHasher hasher = FlowHasher())
      : capacity_(capacity), hasher_(hasher) {
    uint64_t slots = 16;
    while (slots < uint64_t{capacity} * 2) slots <<= 1;
    slot_mask_ = slots - 1;
    slots_.reset(new uint64_t[slots]());
    entries_.reset(new Entry[capacity]);
    used_.reset(new uint8_t[capacity]());
    free_.reset(new uint32_t[capacity]);
    for (uint32_t i = 0; i < capacity; ++i) free_[i] = capacity - 1 - i;
    free_top_ = capacity;
  }

  [[nodiscard]] uint64_t hash(const FlowKey& key) const noexcept { return hasher_(key); }

  /// Prefetches the index line a lookup of `hash` will read first.
  void prefetch(uint64_t hash) const noexcept { __builtin_prefetch(&slots_[hash & slot_mask_]); }

  /// Index of the entry with `key`, or kNone.
  [[nodiscard]] uint32_t find(const FlowKey& key, uint64_t hash) const noexcept {
    const uint32_t sig = signature(hash);
    for (uint64_t pos = hash & slot_mask_;; pos = (pos + 1) & slot_mask_) {
      const uint64_t slot = slots_[pos];
      if (slot == 0) return kNone;
      if (static_cast<uint32_t>(slot >> 32) == sig) {
        const uint32_t idx = static_cast<uint32_t>(slot) - 1;
        if (entries_[idx].key == key) return idx;
      }
    }
  }

  /// Inserts `key` (which must not be present) and returns its entry index, or kNone when full.
  /// The entry's other fields are left for the caller to initialise.
  [[nodiscard]] uint32_t insert(const FlowKey& key, uint64_t hash) noexcept {
    if (free_top_ == 0) return kNone;
    const uint32_t idx = free_[--free_top_];
    uint64_t pos = hash & slot_mask_;
    while (slots_[pos] != 0) pos = (pos + 1) & slot_mask_;
    slots_[pos] = (uint64_t{signature(hash)} << 32) | (uint64_t{idx} + 1);
    entries_[idx].key = key;
    entries_[idx].hash = hash;
    used_[idx] = 1;
    return idx;
  }

  /// Removes entry `idx` (which must be in use).
  void erase(uint32_t idx) noexcept {
    const uint64_t hash = entries_[idx].hash;
    uint64_t pos = hash & slot_mask_;
    while (static_cast<uint32_t>(slots_[pos]) != idx + 1) pos = (pos + 1) & slot_mask_;
    // Backward-shift deletion: pull later members of the probe run into the hole.
    uint64_t hole = pos;
    for (uint64_t next = (hole + 1) & slot_mask_; slots_[next] != 0; next = (next + 1) & slot_mask_) {
      const uint32_t nidx = static_cast<uint32_t>(slots_[next]) - 1;
      const uint64_t home = entries_[nidx].hash & slot_mask_;
      // Move `next` into the hole unless its home lies cyclically in (hole, next].
      const bool home_after_hole = ((next - home) & slot_mask_) < ((next - hole) & slot_mask_);
      if (!home_after_hole) {
        slots_[hole] = slots_[next];
        hole = next;
      }
    }
    slots_[hole] = 0;
    used_[idx] = 0;
    free_[free_top_++] = idx;
  }

  [[nodiscard]] Entry& at(uint32_t idx) noexcept { return entries_[idx]; }
  [[nodiscard]] const Entry& at(uint32_t idx) const noexcept { return entries_[idx]; }
  [[nodiscard]] bool in_use(uint32_t idx) const noexcept { return used_[idx] != 0; }
  [[nodiscard]] uint32_t size() const noexcept { return capacity_ - free_top_; }
  [[nodiscard]] uint32_t capacity() const noexcept { return capacity_; }

 private:
  static uint32_t signature(uint64_t hash) noexcept { return static_cast<uint32_t>(hash >> 32); }

  uint32_t capacity_;
  uint64_t slot_mask_ = 0;
  FlowHasher hasher_;
  std::unique_ptr<uint64_t[]> slots_;
  std::unique_ptr<Entry[]> entries_;
  std::unique_ptr<uint8_t[]> used_;
  std::unique_ptr<uint32_t[]> free_;
  uint32_t free_top_ = 0;
};

}  // namespace synscope::flow
