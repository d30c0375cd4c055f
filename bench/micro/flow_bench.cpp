// flow_bench: flow::FlowTable lookups and inserts at 1 M, 4 M and 16 M live entries (and 64 Ki, a table
// that fits the last-level cache), for 128-byte and 320-byte entries: what a lookup costs once the table
// outgrows the cache, and what a smaller entry buys. Uses only the table's public API.
//
// Each table has capacity n (a power of two, as the engine's) and holds n - 64 live entries, so its index is
// as full as the engine's when its table is full (half). Keys are drawn at random, so the entries a run
// touches are spread over the whole table; entry i holds key_of(i), so a hit knows which entry it must find.
// Benchmarks (per entry size and table size):
//   lookup_hit        hash + find of a present key, then one write in each cache line of its entry (what the
//                     engine's session update touches), one key at a time
//   lookup_hit_burst  the same in chunks of 64, as engine::SessionEngine::process_burst does it: keys and
//                     hashes with prefetch(), then prefetch_entry(), then find() and the entry update
//   lookup_miss       hash + find of an absent key
//   insert_erase      insert of an absent key, then its erase (the table returns to the same state)
//   key_hash          building a key and hashing it, no table: the part of the above that is not the table
// Every lookup is checked (the entry found is the one the key was inserted into; a miss finds nothing) and a
// run with any wrong answer fails (SkipWithError). Counters: bytes_per_entry = bytes_when_full(n) / n.
// Tables are built once per size, untimed, and the previous one is released first (16 M x 320 B is 5 GB).
// Single-threaded; run by bench/micro.sh.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "flow/flow_hash.hpp"
#include "flow/flow_key.hpp"
#include "flow/flow_table.hpp"
#include "flow/mix.hpp"

namespace {

using namespace synscope;

/// A flow-table entry of kEntryBytes bytes: the key and hash the table needs, and opaque state.
template <size_t kEntryBytes>
struct Entry {
  flow::FlowKey key;
  uint64_t hash;
  unsigned char state[kEntryBytes - 48];
};
static_assert(sizeof(Entry<128>) == 128 && sizeof(Entry<320>) == 320);

constexpr uint32_t kSpare = 64;  ///< free entries left in each table (room for insert_erase)
constexpr uint32_t kBurst = 64;  ///< keys per bulk lookup (three passes, as rte_hash_lookup_bulk)

/// The IPv4 flow key number `j`: its lo address is an odd multiple of j (a bijection of 32 bits, so every j
/// gives another key), the rest drawn from a hash of j.
flow::FlowKey key_of(uint32_t j) noexcept {
  flow::FlowKey k;
  const uint32_t lo = j * 0x9e3779b1u;
  const uint64_t r = flow::splitmix64(j);
  std::memcpy(k.addr_lo.bytes.data(), &lo, 4);
  k.addr_hi.bytes[0] = 93;
  k.addr_hi.bytes[1] = 184;
  k.addr_hi.bytes[2] = static_cast<uint8_t>(r);
  k.addr_hi.bytes[3] = static_cast<uint8_t>(r >> 8);
  k.port_lo = static_cast<uint16_t>(1024 + (r >> 16) % 64000);
  k.port_hi = 443;
  k.ip_version = 4;
  return k;
}

/// xorshift64*: a cheap random stream of entry numbers.
struct Rng {
  uint64_t s = 0x853c49e6748fea9bULL;
  uint32_t below(uint32_t n) noexcept {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    const uint64_t r = s * 0x2545f4914f6cdd1dULL;
    return static_cast<uint32_t>(((r >> 32) * n) >> 32);
  }
};

template <size_t B>
using Table = flow::FlowTable<Entry<B>>;

/// Writes one byte in each cache line of the entry (entries are 64-byte multiples on a 64-byte aligned array).
template <size_t B>
inline void update_entry(Entry<B>& e) noexcept {
  e.state[0] += 1;
  for (size_t off = 64; off < B; off += 64) e.state[off - 48] += 1;
}

/// The one table alive at a time, kept for every benchmark of its size.
struct Current {
  size_t entry_bytes = 0;
  uint32_t n = 0;
  void* table = nullptr;
  void (*destroy)(void*) = nullptr;
  ~Current() {
    if (table != nullptr) destroy(table);
  }
};
Current current;

/// The table of capacity `n` with n - kSpare live entries (entry i holds key_of(i)); nullptr if it cannot be
/// reserved or populated.
template <size_t B>
Table<B>* table_for(uint32_t n) {
  if (current.table != nullptr && current.entry_bytes == B && current.n == n)
    return static_cast<Table<B>*>(current.table);
  if (current.table != nullptr) current.destroy(current.table);
  current.table = nullptr;
  auto t = std::make_unique<Table<B>>(n, flow::FlowHasher(0x1234567890abcdefULL, 0xfedcba0987654321ULL));
  if (!t->ok()) return nullptr;
  // Populated in chunks whose index lines are prefetched first: 16 M random index writes one at a time
  // would each wait for DRAM.
  const uint32_t live = n - kSpare;
  flow::FlowKey keys[kBurst];
  uint64_t hashes[kBurst];
  for (uint32_t base = 0; base < live; base += kBurst) {
    const uint32_t m = live - base < kBurst ? live - base : kBurst;
    for (uint32_t i = 0; i < m; ++i) {
      keys[i] = key_of(base + i);
      hashes[i] = t->hash(keys[i]);
      t->prefetch(hashes[i]);
    }
    for (uint32_t i = 0; i < m; ++i) {
      if (t->insert(keys[i], hashes[i]) != base + i) return nullptr;
    }
  }
  current = {};
  current.entry_bytes = B;
  current.n = n;
  current.table = t.release();
  current.destroy = [](void* p) { delete static_cast<Table<B>*>(p); };
  return static_cast<Table<B>*>(current.table);
}

template <size_t B>
void set_counters(benchmark::State& state, uint32_t n) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["bytes_per_entry"] = static_cast<double>(Table<B>::bytes_when_full(n)) / n;
  state.counters["live_entries"] = n - kSpare;
}

/// A hit's bookkeeping: the entry found must be the one wanted (then the engine's update is mimicked).
template <size_t B>
void found(Table<B>& t, uint32_t idx, uint32_t want, uint64_t& wrong) {
  if (idx == want) {
    update_entry(t.at(idx));
  } else {
    ++wrong;
  }
}

template <size_t B>
void BM_LookupHit(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  Table<B>* t = table_for<B>(n);
  if (t == nullptr) return state.SkipWithError("table could not be built");
  const uint32_t live = n - kSpare;
  Rng rng;
  uint64_t wrong = 0;
  for (auto _ : state) {
    const uint32_t j = rng.below(live);
    const flow::FlowKey k = key_of(j);
    found(*t, t->find(k, t->hash(k)), j, wrong);
  }
  if (wrong != 0) return state.SkipWithError((std::to_string(wrong) + " lookups missed their entry").c_str());
  set_counters<B>(state, n);
}

template <size_t B>
void BM_LookupHitBurst(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  Table<B>* t = table_for<B>(n);
  if (t == nullptr) return state.SkipWithError("table could not be built");
  const uint32_t live = n - kSpare;
  Rng rng;
  uint64_t wrong = 0;
  flow::FlowKey keys[kBurst];
  uint64_t hashes[kBurst];
  uint32_t want[kBurst];
  while (state.KeepRunningBatch(kBurst)) {
    for (uint32_t i = 0; i < kBurst; ++i) {
      want[i] = rng.below(live);
      keys[i] = key_of(want[i]);
      hashes[i] = t->hash(keys[i]);
      t->prefetch(hashes[i]);
    }
    for (uint32_t i = 0; i < kBurst; ++i) t->prefetch_entry(hashes[i]);
    for (uint32_t i = 0; i < kBurst; ++i) found(*t, t->find(keys[i], hashes[i]), want[i], wrong);
  }
  if (wrong != 0) return state.SkipWithError((std::to_string(wrong) + " lookups missed their entry").c_str());
  set_counters<B>(state, n);
}

template <size_t B>
void BM_LookupMiss(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  Table<B>* t = table_for<B>(n);
  if (t == nullptr) return state.SkipWithError("table could not be built");
  Rng rng;
  uint64_t wrong = 0;
  for (auto _ : state) {
    const flow::FlowKey k = key_of(n + rng.below(n));  // numbers n.. were never inserted
    wrong += t->find(k, t->hash(k)) != Table<B>::kNone;
  }
  if (wrong != 0) return state.SkipWithError((std::to_string(wrong) + " absent keys were found").c_str());
  set_counters<B>(state, n);
}

template <size_t B>
void BM_InsertErase(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  Table<B>* t = table_for<B>(n);
  if (t == nullptr) return state.SkipWithError("table could not be built");
  Rng rng;
  uint64_t wrong = 0;
  for (auto _ : state) {
    const flow::FlowKey k = key_of(n + rng.below(n));
    const uint64_t h = t->hash(k);
    const uint32_t idx = t->insert(k, h);
    if (idx == Table<B>::kNone) {
      ++wrong;
      continue;
    }
    update_entry(t->at(idx));
    t->erase(idx);
  }
  if (wrong != 0 || t->size() != n - kSpare) {
    return state.SkipWithError((std::to_string(wrong) + " inserts failed or the size changed").c_str());
  }
  set_counters<B>(state, n);
}

void BM_KeyHash(benchmark::State& state) {
  const flow::FlowHasher hasher(0x1234567890abcdefULL, 0xfedcba0987654321ULL);
  Rng rng;
  uint64_t acc = 0;
  for (auto _ : state) {
    const flow::FlowKey k = key_of(rng.below(1u << 24));
    acc += hasher(k);
  }
  // Hash values are random: an accumulated sum of zero means the loop did not run what it says.
  if (state.iterations() > 16 && acc == 0) return state.SkipWithError("hash sum is zero");
  benchmark::DoNotOptimize(acc);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

template <size_t B>
void register_size(uint32_t n) {
  const std::string p = "flow_table<" + std::to_string(B) + ">/";
  benchmark::RegisterBenchmark((p + "lookup_hit").c_str(), BM_LookupHit<B>)->Arg(n);
  benchmark::RegisterBenchmark((p + "lookup_hit_burst").c_str(), BM_LookupHitBurst<B>)->Arg(n);
  benchmark::RegisterBenchmark((p + "lookup_miss").c_str(), BM_LookupMiss<B>)->Arg(n);
  benchmark::RegisterBenchmark((p + "insert_erase").c_str(), BM_InsertErase<B>)->Arg(n);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("flow_table/key_hash", BM_KeyHash);
  // Grouped by table, not by benchmark: each table is built once (registration order is run order).
  for (const uint32_t n : {1u << 16, 1u << 20, 1u << 22, 1u << 24}) register_size<128>(n);
  for (const uint32_t n : {1u << 16, 1u << 20, 1u << 22, 1u << 24}) register_size<320>(n);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
