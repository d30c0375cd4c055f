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

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
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

/// A key's last 8 bytes (ports, version, zero padding) as one word: the value memcpy gives on little-endian.
[[nodiscard]] inline uint64_t key_tail_word(uint16_t port_lo, uint16_t port_hi, uint8_t ip_version) noexcept {
  return uint64_t{port_lo} | uint64_t{port_hi} << 16 | uint64_t{ip_version} << 32;
}

/// Builds the canonical key of a packet; `from_lo` tells whether the packet's sender is the key's lo side.
/// The order is any fixed total order on (address, port), not a textual one: addresses compare as two
/// native 64-bit words. Inline and branch-light because every packet pays it twice (classify, engine);
/// a memcmp call here was ~10% of replay time.
inline FlowKey make_key(const packet::PacketMeta& pkt, bool& from_lo) noexcept {
  uint64_t s[2], d[2];
  std::memcpy(s, pkt.src.bytes.data(), 16);
  std::memcpy(d, pkt.dst.bytes.data(), 16);
  from_lo = s[0] != d[0] ? s[0] < d[0] : (s[1] != d[1] ? s[1] < d[1] : pkt.src_port <= pkt.dst_port);
  FlowKey key;
  key.addr_lo = from_lo ? pkt.src : pkt.dst;
  key.addr_hi = from_lo ? pkt.dst : pkt.src;
  // Ports, version and padding as one 8-byte store (the layout memcpy gives on little-endian): with three
  // narrow stores, the 8-byte load of the key's copy into the engine's batch could not be forwarded from
  // them and stalled (a quarter of process_burst's samples).
  const uint16_t port_lo = from_lo ? pkt.src_port : pkt.dst_port;
  const uint16_t port_hi = from_lo ? pkt.dst_port : pkt.src_port;
  static_assert(offsetof(FlowKey, port_lo) == 32 && std::endian::native == std::endian::little);
  const uint64_t tail = key_tail_word(port_lo, port_hi, pkt.ip_version);
  std::memcpy(reinterpret_cast<char*>(&key) + offsetof(FlowKey, port_lo), &tail, sizeof(tail));
  return key;
}

/// Keyed 64-bit hash of a FlowKey (multiply-fold mixing over the 5 key words with a secret seed).
class FlowHasher {
 public:
  /// Seeds from the kernel's random source; falls back to the clock if getrandom() is unavailable.
  FlowHasher() noexcept;
  FlowHasher(uint64_t seed0, uint64_t seed1) noexcept : s0_(seed0), s1_(seed1) { derive_keys(); }
  [[nodiscard]] uint64_t operator()(const FlowKey& key) const noexcept;

  /// A cheaper keyed hash of a packet's flow, the same for both directions: picks the core that owns the
  /// flow where packets are received (spread RX core, replay reader). The endpoints' words are added, which
  /// commutes, then mixed once with the secret seed. Sums can be made to collide on purpose, which can only
  /// unbalance cores, never a flow table: tables index by operator() of the full key. It is not the table
  /// hash because the receiving core is the one that limits the rate: the full hash runs on the flow's own
  /// core, which builds the canonical key anyway.
  [[nodiscard]] uint32_t dispatch(const packet::PacketMeta& pkt) const noexcept {
    uint64_t s[2], d[2];
    std::memcpy(s, pkt.src.bytes.data(), 16);
    std::memcpy(d, pkt.dst.bytes.data(), 16);
    const uint64_t ports = uint64_t{pkt.src_port} + pkt.dst_port;
    const uint64_t x = (s[0] + d[0]) ^ std::rotl(s[1] + d[1], 29) ^ (ports << 40);
    return static_cast<uint32_t>(mix(x ^ s0_, s1_ | 1));
  }

 private:
  static constexpr uint64_t kOdd[6] = {0xa0761d6478bd642fULL, 0xe7037ed1a0b428dbULL, 0x8ebc6af09c88c6e3ULL,
                                       0x589965cc75374cc3ULL, 0x1d8e4e27c47d124fULL, 0x9e3779b97f4a7c15ULL};
  static uint64_t mix(uint64_t a, uint64_t b) noexcept {
    __extension__ using u128 = unsigned __int128;  // GCC/Clang builtin: one MUL gives the 128-bit product
    const u128 r = static_cast<u128>(a) * b;
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
  }
  /// The per-word secrets of operator(), derived from the seed once instead of once per key.
  void derive_keys() noexcept {
    for (int i = 0; i < 6; ++i) k_[i] = (i % 2 == 0 ? s0_ : s1_) + kOdd[i];
  }
  uint64_t s0_;
  uint64_t s1_;
  uint64_t k_[6];
};

inline uint64_t FlowHasher::operator()(const FlowKey& key) const noexcept {
  // The last word is assembled from the fields (the value memcpy gives on little-endian), so a key built
  // field by field (tests, FlowKey{}) is never read with an 8-byte load across narrow stores; make_key()
  // writes it as one 8-byte store, which narrow loads forward from.
  uint64_t w[5];
  std::memcpy(w, &key, 32);
  w[4] = key_tail_word(key.port_lo, key.port_hi, key.ip_version);
  // wyhash's shape: the words in pairs, each pair xored with secrets and multiplied (three independent
  // products), then one more product mixes the three. A chain of five dependent products before this was
  // ~60 instructions per packet on the engine thread.
  const uint64_t a = mix(w[0] ^ k_[0], w[1] ^ k_[1]);
  const uint64_t b = mix(w[2] ^ k_[2], w[3] ^ k_[3]);
  const uint64_t c = mix(w[4] ^ k_[4], k_[5]);
  return mix(a ^ std::rotl(b, 21) ^ s0_, c ^ s1_);
}

/// Which pages back map_zeroed memory.
enum class Paging : uint8_t {
  /// 4 KiB pages (MADV_NOHUGEPAGE, even where THP is "always"): only what is touched is faulted in.
  kSmall,
  /// Transparent huge pages throughout, for randomly accessed arrays (see flow.cpp).
  kHuge,
};

/// Anonymous zero-filled memory, reserved at start and touched only as used (mmap with MAP_NORESERVE), so a
/// table sized for millions of flows costs nothing until the flows arrive. nullptr when it cannot.
void* map_zeroed(size_t bytes, Paging paging = Paging::kHuge) noexcept;
void unmap(void* p, size_t bytes) noexcept;
/// Faults in `bytes` of map_zeroed memory at page-aligned `p` as a write would (MADV_POPULATE_WRITE), without
/// writing: safe while another thread uses the same pages. False when the kernel cannot (before Linux 5.14).
bool populate_for_write(void* p, size_t bytes) noexcept;

/// How a FlowTable sizes its slot index. Both reserve the index for `capacity` at start (address space only).
enum class IndexSizing : uint8_t {
  /// The whole index from the start: no insert ever pauses. For live cores.
  kFull,
  /// Starts at kInitialSlots and doubles (rehashing the live entries) whenever it would pass half full, up
  /// to the full size. For replay: a capture with 20k concurrent flows touches 256 KiB of index instead of
  /// 16 MiB for a million-flow capacity. Fresh memory is what costs there: the kernel clears every page
  /// on first touch, and on a VM whose host reclaimed the pages that was a fifth of a replay's time.
  kGrowing,
};

/// Fixed-capacity hash table from FlowKey to Entry. `Entry` must be trivially destructible and have public
/// `FlowKey key` and `uint64_t hash` members. Entries are addressed by a stable index in [0, capacity);
/// fresh indices are handed out in increasing order and freed ones are reused first, so the live entries
/// stay within [0, high_water()) and sweeps never walk untouched memory.
template <typename Entry>
class FlowTable {
  static_assert(std::is_trivially_destructible_v<Entry>);

 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  /// Reserves room for `capacity` entries (start-up only). Check ok(): false when the address space could
  /// not be reserved, and then the table must not be used.
  explicit FlowTable(uint32_t capacity, FlowHasher hasher = FlowHasher(), IndexSizing sizing = IndexSizing::kFull)
      : capacity_(capacity), reserved_(capacity), hasher_(hasher) {
    uint64_t slots = 16;
    while (slots < uint64_t{capacity} * 2 && slots < kMaxSlots) slots <<= 1;
    max_slots_ = slots;
    slot_mask_ = (sizing == IndexSizing::kGrowing && slots > kInitialSlots ? kInitialSlots : slots) - 1;
    // A growing table (replay) takes small pages: it is faulted in while packets wait, as it grows, and a
    // fresh huge page is a gamble. On a VM a huge page the guest has not used lately must first be backed by
    // the host: measured here, touching 8 MiB took 0.4-2 ms when the guest reused recent huge pages, but
    // ~30 ms after another process (Argus) had run, against a steady ~4 ms in small pages. On a capture with
    // ~90k concurrent flows (30 MiB of entries) the replay went from 0.32-0.36 s to 0.20-0.23 s.
    const Paging table_paging = sizing == IndexSizing::kGrowing ? Paging::kSmall : Paging::kHuge;
    slots_ = static_cast<uint64_t*>(map_zeroed(slots * sizeof(uint64_t), table_paging));
    entries_ = static_cast<Entry*>(map_zeroed(uint64_t{capacity} * sizeof(Entry), table_paging));
    // The index a growing table uses is written before it is read (here and in grow_index()): read first, a
    // fresh page maps the shared zero page, and the write that follows copies it and flushes the TLB of
    // every CPU running this process (an IPI; 2-4% of the worker's samples on a many-flow replay).
    if (slots_ != nullptr && sizing == IndexSizing::kGrowing) {
      std::memset(slots_, 0, (slot_mask_ + 1) * sizeof(uint64_t));
    }
    // Bookkeeping arrays are touched only as far as they are used: small pages, so a few used bytes do not
    // fault in (and clear) 2 MiB.
    used_ = static_cast<uint8_t*>(map_zeroed(capacity, Paging::kSmall));
    recycled_ = static_cast<uint32_t*>(map_zeroed(uint64_t{capacity} * sizeof(uint32_t), Paging::kSmall));
    if (slots_ == nullptr || entries_ == nullptr || used_ == nullptr || recycled_ == nullptr) capacity_ = 0;
  }

  [[nodiscard]] bool ok() const noexcept { return capacity_ > 0; }
  ~FlowTable() {
    unmap(slots_, max_slots_ * sizeof(uint64_t));
    unmap(entries_, uint64_t{reserved_} * sizeof(Entry));
    unmap(used_, reserved_);
    unmap(recycled_, uint64_t{reserved_} * sizeof(uint32_t));
  }
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  [[nodiscard]] uint64_t hash(const FlowKey& key) const noexcept { return hasher_(key); }

  /// Prefetches the index line a lookup of `hash` will read first.
  void prefetch(uint64_t hash) const noexcept { __builtin_prefetch(&slots_[hash & slot_mask_]); }

  /// Second prefetch stage: reads the index line (prefetched earlier) and prefetches the lines of the
  /// first entry whose signature matches, so the key compare and state update in find()/the caller hit cache.
  void prefetch_entry(uint64_t hash) const noexcept {
    const uint32_t sig = signature(hash);
    for (uint64_t pos = hash & slot_mask_;; pos = (pos + 1) & slot_mask_) {
      const uint64_t slot = slots_[pos];
      if (slot == 0) return;
      if (static_cast<uint32_t>(slot >> 32) == sig) {
        const char* e = reinterpret_cast<const char*>(&entries_[static_cast<uint32_t>(slot) - 1]);
        for (size_t off = 0; off < sizeof(Entry); off += 64) __builtin_prefetch(e + off);
        return;
      }
    }
  }

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
  /// The entry is value-initialised and then gets `key` and `hash`.
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
    if (uint64_t{size()} * 2 > slot_mask_ && slot_mask_ + 1 < max_slots_) grow_index();
    place(hash, idx);
    Entry* e = new (&entries_[idx]) Entry();
    e->key = key;
    e->hash = hash;
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
      const uint64_t home = (slots_[next] >> 32) & slot_mask_;
      // Move `next` into the hole unless its home lies cyclically in (hole, next].
      const bool home_after_hole = ((next - home) & slot_mask_) < ((next - hole) & slot_mask_);
      if (!home_after_hole) {
        slots_[hole] = slots_[next];
        hole = next;
      }
    }
    slots_[hole] = 0;
    used_[idx] = 0;
    recycled_[recycled_top_++] = idx;
  }

  /// For another thread with time to spare (the replay reader while it waits for the worker that owns this
  /// table): faults in the entry memory just past the entries handed out so far, so the owner's inserts
  /// find those pages present instead of taking the faults (5-10% of a worker's time while ~70k flows are
  /// opened within seconds). Page tables and zeroed pages only: no entry is ever written, so it is safe
  /// beside the owner; only one thread may call it. True when it did some work.
  bool populate_ahead() noexcept {
    // Steps of 256 KiB once less than 512 KiB is ready ahead: page by page, as the high-water mark crept
    // up, it was ~6k madvise calls on a capture with ~70k live flows (a quarter of the reader's time).
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
    std::memset(slots_, 0, (slot_mask_ + 1) * sizeof(uint64_t));
    std::memset(used_, 0, high_water_);
    recycled_top_ = 0;
    high_water_ = 0;
    handed_out_.store(0, std::memory_order_relaxed);
  }

  [[nodiscard]] Entry& at(uint32_t idx) noexcept { return entries_[idx]; }
  [[nodiscard]] const Entry& at(uint32_t idx) const noexcept { return entries_[idx]; }
  [[nodiscard]] bool in_use(uint32_t idx) const noexcept { return used_[idx] != 0; }
  /// Every index below high_water() is either live or on the recycled stack.
  [[nodiscard]] uint32_t size() const noexcept { return high_water_ - recycled_top_; }
  [[nodiscard]] uint32_t capacity() const noexcept { return capacity_; }
  /// One past the highest index ever handed out: every live entry is below it.
  [[nodiscard]] uint32_t high_water() const noexcept { return high_water_; }
  /// Slots in the index now (grows with IndexSizing::kGrowing; always more than twice size()).
  [[nodiscard]] uint64_t index_slots() const noexcept { return slot_mask_ + 1; }

 private:
  static constexpr uint64_t kInitialSlots = 1u << 14;  // 128 KiB
  // The signature is the hash's low 32 bits, which include the home-slot bits (the index never exceeds 2^32
  // slots): erase() finds where a slot's entry belongs from the slot alone. Reading each neighbour entry's
  // stored hash instead was a cache miss per slot of the probe run (~4% of the worker's samples with 90k
  // live flows). Entries sharing a home slot still differ in 32 - log2(slots) signature bits.
  static uint32_t signature(uint64_t hash) noexcept { return static_cast<uint32_t>(hash); }
  static constexpr uint64_t kMaxSlots = uint64_t{1} << 32;

  /// Doubles the index and re-inserts every live entry (insert() calls it with the new entry already
  /// counted in size(), so the index stays at most half full). O(index + high water), amortised over the
  /// inserts that filled it.
  void grow_index() noexcept {
    slot_mask_ = (slot_mask_ + 1) * 2 - 1;
    std::memset(slots_, 0, (slot_mask_ + 1) * sizeof(uint64_t));  // the new half too: written before read
    for (uint32_t idx = 0; idx < high_water_; ++idx) {
      if (used_[idx] != 0) place(entries_[idx].hash, idx);
    }
  }

  /// Puts entry `idx` in the first free slot of its probe run (linear probing from the hash's home slot).
  void place(uint64_t hash, uint32_t idx) noexcept {
    uint64_t pos = hash & slot_mask_;
    while (slots_[pos] != 0) pos = (pos + 1) & slot_mask_;
    slots_[pos] = (uint64_t{signature(hash)} << 32) | (uint64_t{idx} + 1);
  }

  uint32_t capacity_;
  uint32_t reserved_;
  uint64_t slot_mask_ = 0;
  uint64_t max_slots_ = 0;
  FlowHasher hasher_;
  uint64_t* slots_ = nullptr;
  Entry* entries_ = nullptr;
  uint8_t* used_ = nullptr;
  uint32_t* recycled_ = nullptr;
  uint32_t recycled_top_ = 0;
  uint32_t high_water_ = 0;
  // For populate_ahead() on another thread, each on a cache line of its own: that thread polls
  // handed_out_ while it waits, and with it on the line of the owner's hot fields every insert and erase
  // paid a cross-core invalidation (a replay ~8% slower on a capture with few live flows).
  alignas(64) std::atomic<uint32_t> handed_out_{0};  ///< high_water_, written only when it grows
  alignas(64) uint64_t populated_to_ = 0;            ///< entry bytes faulted in (the other thread's own)
};

}  // namespace synscope::flow
