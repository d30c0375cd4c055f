// HashIndex against a reference map (collisions, wrap-around, growth, backward-shift erase), FlowTable against
// one under random insert/erase churn (with a full and a growing index), plus key symmetry and the keyed hashes.
#include "flow/flow.hpp"

#include <gtest/gtest.h>

#include <sys/mman.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace synscope::flow {
namespace {

struct Entry {
  FlowKey key;
  uint64_t hash;
  uint64_t value;
};

FlowKey key_of(uint32_t n) {
  FlowKey k;
  k.ip_version = 4;
  std::memcpy(k.addr_lo.bytes.data(), &n, 4);
  k.port_lo = static_cast<uint16_t>(n * 7);
  k.port_hi = 80;
  return k;
}

// ---- HashIndex ------------------------------------------------------------------------------------------

/// A HashIndex over its own zeroed slots, with room to grow to `max_slots`, and the keys of its entries.
struct IndexFixture {
  explicit IndexFixture(uint64_t slots, uint64_t max_slots = 0)
      : memory(max_slots > slots ? max_slots : slots, 0), index(memory.data(), slots) {}
  /// Entry of `key`, or kNone.
  uint32_t find(uint64_t key, uint64_t hash) const {
    return index.find(hash, [&](uint32_t e) { return keys[e] == key; });
  }
  /// Every used slot's entry is found from its home slot (no free slot breaks its probe run), exactly once.
  void expect_consistent(const std::vector<uint64_t>& hashes, size_t live) const {
    size_t used = 0;
    for (uint64_t pos = 0; pos < index.slot_count(); ++pos) {
      const uint64_t slot = memory[pos];
      if (slot == 0) continue;
      ++used;
      const uint32_t e = static_cast<uint32_t>(slot) - 1;
      ASSERT_EQ(static_cast<uint32_t>(slot >> 32), HashIndex::signature(hashes[e]));
      ASSERT_EQ(find(keys[e], hashes[e]), e) << "entry " << e << " unreachable";
    }
    ASSERT_EQ(used, live);
  }
  std::vector<uint64_t> memory;
  HashIndex index;
  std::vector<uint64_t> keys;
};

TEST(HashIndex, CollidingRunsWrapAroundAndEraseShiftsBack) {
  IndexFixture f(16);
  // Eight entries whose home is slot 14 (signature differs above the home bits, or not at all), so their run
  // fills 14, 15 and wraps to 0..5; then two with home 0 and 1, which must sit behind the wrapped run.
  std::vector<uint64_t> hashes;
  for (uint32_t e = 0; e < 10; ++e) {
    const uint64_t home = e < 8 ? 14 : e - 8;
    const uint64_t sig = home | (e % 3 == 0 ? 0u : e << 8);  // entries 0, 3, 6 share one signature
    hashes.push_back(sig | uint64_t{0xabcd} << 32);
    f.keys.push_back(1000 + e);
    f.index.place(hashes[e], e);
  }
  EXPECT_EQ(f.memory[14] & 0xffffffff, 1u);  // entry 0 at its home
  EXPECT_EQ(f.memory[5] & 0xffffffff, 8u);   // entry 7, wrapped
  EXPECT_EQ(f.memory[6] & 0xffffffff, 9u);   // entry 8 (home 0) behind the wrapped run
  EXPECT_EQ(f.memory[7] & 0xffffffff, 10u);  // entry 9 (home 1)
  f.expect_consistent(hashes, 10);
  EXPECT_EQ(f.find(999, hashes[0]), HashIndex::kNone);  // same signature as entries 0, 3, 6; no such key
  // Erase from the middle of the wrapped run, then its head: later members move back, none past its home.
  std::vector<bool> live(10, true);
  for (const uint32_t e : {4u, 0u, 7u, 8u}) {
    f.index.erase(hashes[e], e);
    live[e] = false;
    for (uint32_t k = 0; k < 10; ++k)
      EXPECT_EQ(f.find(f.keys[k], hashes[k]), live[k] ? k : HashIndex::kNone) << e << " " << k;
  }
  EXPECT_EQ(f.memory[14] & 0xffffffff, 2u);  // entry 1 moved to the run's home
  EXPECT_EQ(f.memory[2] & 0xffffffff, 7u);   // entry 6 moved back over the wrap
  EXPECT_EQ(f.memory[3] & 0xffffffff, 10u);  // entry 9 (home 1) moved back behind the run
  EXPECT_EQ(f.memory[4], 0u);
  f.expect_consistent(hashes, 6);
  // A free slot again takes the next placement.
  f.keys.push_back(2000);
  hashes.push_back(hashes[0]);
  f.index.place(hashes[10], 10);
  EXPECT_EQ(f.find(2000, hashes[10]), 10u);
}

TEST(HashIndex, EraseNeverMovesAnEntryBeforeItsHome) {
  IndexFixture f(16);
  const std::vector<uint64_t> hashes = {3, 3 | 1u << 8, 5};  // a at 3, b (home 3) at 4, c (home 5) at 5
  f.keys = {1, 2, 3};
  for (uint32_t e = 0; e < 3; ++e) f.index.place(hashes[e], e);
  f.index.erase(hashes[0], 0);
  EXPECT_EQ(f.memory[3] & 0xffffffff, 2u);  // b moved into the hole at its home
  EXPECT_EQ(f.memory[4], 0u);               // c stayed: slot 4 is before its home
  EXPECT_EQ(f.memory[5] & 0xffffffff, 3u);
  f.expect_consistent(hashes, 2);
}

TEST(HashIndex, GrowKeepsEveryEntryFindable) {
  IndexFixture f(16, 256);
  std::vector<uint64_t> hashes;
  std::mt19937_64 rng(5);
  for (uint32_t e = 0; e < 100; ++e) {
    if (uint64_t{e + 1} * 2 > f.index.slot_count()) {
      f.index.grow();  // empties every slot: place them all again
      for (uint32_t k = 0; k < e; ++k) f.index.place(hashes[k], k);
    }
    hashes.push_back(rng());
    f.keys.push_back(e);
    f.index.place(hashes[e], e);
  }
  EXPECT_EQ(f.index.slot_count(), 256u);
  f.expect_consistent(hashes, 100);
  f.index.clear();
  for (uint32_t e = 0; e < 100; ++e) EXPECT_EQ(f.find(e, hashes[e]), HashIndex::kNone);
}

TEST(HashIndex, MatchesReferenceUnderRandomOps) {
  // 64 slots, up to 31 live entries, and hashes from few values: long runs that wrap, many equal signatures
  // (the predicate decides) and equal homes with different signatures.
  IndexFixture f(64);
  auto hash_of = [](uint64_t key) { return (key % 23) * 0x10001 % 97 + (key % 5) * 64 + (uint64_t{key} << 40); };
  std::unordered_map<uint64_t, uint32_t> ref;  // key -> entry
  std::vector<uint64_t> hashes(32);
  std::vector<uint32_t> free_entries;
  for (uint32_t e = 32; e-- > 0;) free_entries.push_back(e);
  f.keys.assign(32, UINT64_MAX);
  std::mt19937 rng(11);
  for (int step = 0; step < 200000; ++step) {
    const uint64_t key = rng() % 200;
    const auto it = ref.find(key);
    const uint32_t found = f.find(key, hash_of(key));
    ASSERT_EQ(found, it == ref.end() ? HashIndex::kNone : it->second) << "step " << step;
    if (it == ref.end()) {
      if (ref.size() < 31) {
        const uint32_t e = free_entries.back();
        free_entries.pop_back();
        f.keys[e] = key;
        hashes[e] = hash_of(key);
        f.index.place(hashes[e], e);
        ref.emplace(key, e);
      }
    } else if (rng() % 2 == 0) {
      f.index.erase(hashes[it->second], it->second);
      f.keys[it->second] = UINT64_MAX;
      free_entries.push_back(it->second);
      ref.erase(it);
    }
    if (step % 1000 == 0) f.expect_consistent(hashes, ref.size());
  }
  for (const auto& [key, e] : ref) EXPECT_EQ(f.find(key, hash_of(key)), e);
}

TEST(FlowKey, BothDirectionsGiveOneKey) {
  packet::PacketMeta a;
  a.ip_version = 4;
  a.src.bytes[0] = 10, a.dst.bytes[0] = 93;
  a.src_port = 40000, a.dst_port = 443;
  packet::PacketMeta b = a;
  std::swap(b.src, b.dst);
  std::swap(b.src_port, b.dst_port);
  bool lo_a, lo_b;
  const FlowKey ka = make_key(a, lo_a), kb = make_key(b, lo_b);
  EXPECT_EQ(ka, kb);
  EXPECT_NE(lo_a, lo_b);
  FlowHasher h(1, 2);
  EXPECT_EQ(h(ka), h(kb));
}

TEST(FlowHasher, SeedChangesHash) {
  const FlowKey k = key_of(42);
  EXPECT_NE(FlowHasher(1, 2)(k), FlowHasher(3, 4)(k));
}

// The table hash indexes by its low bits (home slot and signature): keys that differ only in the client port,
// or only in the client address, or only in the IPv6 interface id, must spread over them like random
// numbers. 2^16 keys of each shape into 2^16 buckets: Poisson(1), so chi-squared per degree of freedom
// near 1 and no bucket above ~10. A hash that ignored any one key word would pile a shape into one bucket.
TEST(FlowHasher, TableHashSpreadsEachKeyShapeOverItsLowBits) {
  const FlowHasher h(0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL);
  constexpr uint32_t kKeys = 1u << 16, kBuckets = 1u << 16;
  for (int shape = 0; shape < 3; ++shape) {
    std::vector<uint32_t> count(kBuckets);
    for (uint32_t n = 0; n < kKeys; ++n) {
      FlowKey k;
      k.ip_version = shape == 2 ? 6 : 4;
      k.addr_hi.bytes[0] = 93, k.addr_hi.bytes[3] = 7;  // one server
      k.port_hi = 443;
      if (shape == 0) {  // one client, every source port
        k.addr_lo.bytes[0] = 10, k.addr_lo.bytes[3] = 1;
        k.port_lo = static_cast<uint16_t>(n);
      } else if (shape == 1) {  // a /16 of clients, one source port
        k.addr_lo.bytes[0] = 10, k.addr_lo.bytes[2] = static_cast<uint8_t>(n >> 8);
        k.addr_lo.bytes[3] = static_cast<uint8_t>(n);
        k.port_lo = 40000;
      } else {  // IPv6 clients differing in the interface id only
        k.addr_lo.bytes[0] = 0x20, k.addr_lo.bytes[1] = 0x01;
        std::memcpy(k.addr_lo.bytes.data() + 12, &n, 4);
        k.port_lo = 40000;
      }
      ++count[h(k) % kBuckets];
    }
    double chi2 = 0;
    uint32_t most = 0;
    for (uint32_t c : count) {
      chi2 += (c - 1.0) * (c - 1.0);
      most = c > most ? c : most;
    }
    EXPECT_NEAR(chi2 / kBuckets, 1.0, 0.05) << "shape " << shape;
    EXPECT_LE(most, 12u) << "shape " << shape;
  }
}

// The dispatch hash picks a flow's core from either direction, depends on the seed, and spreads many
// client flows of one server evenly (the common shape behind a tap: few servers, many client ports).
TEST(FlowHasher, DispatchIsSymmetricKeyedAndSpreadsEvenly) {
  const FlowHasher h(11, 13), other(17, 19);
  constexpr uint32_t kWorkers = 4, kFlows = 40000;
  uint32_t per_worker[kWorkers] = {};
  uint32_t seed_differs = 0;
  std::mt19937 rng(5);
  for (uint32_t i = 0; i < kFlows; ++i) {
    packet::PacketMeta a;
    a.ip_version = i % 5 == 0 ? 6 : 4;
    const uint32_t client = 0x0a000000u + rng() % 5000;
    std::memcpy(a.src.bytes.data(), &client, 4);
    a.dst.bytes[0] = 93, a.dst.bytes[3] = static_cast<uint8_t>(i % 3);
    if (a.ip_version == 6) a.src.bytes[15] = static_cast<uint8_t>(rng());
    a.src_port = static_cast<uint16_t>(1024 + rng() % 60000), a.dst_port = 443;
    packet::PacketMeta b = a;
    std::swap(b.src, b.dst);
    std::swap(b.src_port, b.dst_port);
    ASSERT_EQ(h.dispatch(a), h.dispatch(b)) << "flow " << i;
    seed_differs += h.dispatch(a) != other.dispatch(a);
    ++per_worker[h.dispatch(a) % kWorkers];
  }
  EXPECT_GT(seed_differs, kFlows * 99 / 100);
  for (uint32_t w = 0; w < kWorkers; ++w) {  // 10000 expected, sd ~87: 3% is ~3.5 sd
    EXPECT_NEAR(per_worker[w], kFlows / kWorkers, kFlows / kWorkers * 3 / 100) << "worker " << w;
  }
}

// Flows crafted so that the client's and the server's address words, and their ports, always add up to the
// same sums (client = base + x, server = base' - x) all went to one core when dispatch added the words before
// keying; keyed per endpoint, they spread like any flows. IPv4 and IPv6, and port pairs with one sum too.
TEST(FlowHasher, DispatchSpreadsFlowsCraftedToCollideOnSums) {
  const FlowHasher h(23, 29);
  constexpr uint32_t kWorkers = 4, kFlows = 8000;
  for (const uint8_t version : {4, 6}) {
    uint32_t per_worker[kWorkers] = {};
    for (uint32_t x = 0; x < kFlows; ++x) {
      packet::PacketMeta a;
      a.ip_version = version;
      uint64_t src[2] = {0x0a000000u + x, version == 6 ? 0x1000u + x : 0};
      uint64_t dst[2] = {0x5d000000u - x, version == 6 ? 0x9000u - x : 0};
      std::memcpy(a.src.bytes.data(), src, 16);
      std::memcpy(a.dst.bytes.data(), dst, 16);
      a.src_port = static_cast<uint16_t>(1024 + x % 30000);
      a.dst_port = static_cast<uint16_t>(40000 - x % 30000);
      ++per_worker[h.dispatch(a) % kWorkers];
    }
    for (uint32_t w = 0; w < kWorkers; ++w) {  // 2000 expected, sd ~39: 10% is ~5 sd
      EXPECT_NEAR(per_worker[w], kFlows / kWorkers, kFlows / kWorkers / 10) << "IPv" << int{version} << " worker " << w;
    }
  }
}

/// Random inserts and erases over `key_range` keys, checked step by step against std::map; the table must
/// also keep its index more than twice as large as its population.
void churn_against_reference(IndexSizing sizing, uint32_t cap, uint32_t key_range, int steps,
                             uint64_t& max_index_slots) {
  // A weak seed-pair forces long probe runs, exercising backward-shift deletion (and rehashing, growing).
  FlowTable<Entry> t(cap, FlowHasher(7, 9), sizing);
  ASSERT_TRUE(t.ok());
  std::map<uint32_t, uint32_t> ref;  // key number -> entry index
  std::mt19937 rng(123);
  max_index_slots = t.index_slots();
  for (int step = 0; step < steps; ++step) {
    const uint32_t n = rng() % key_range;
    const FlowKey k = key_of(n);
    const uint64_t h = t.hash(k);
    const uint32_t idx = t.find(k, h);
    auto it = ref.find(n);
    if (it == ref.end()) {
      ASSERT_EQ(idx, FlowTable<Entry>::kNone) << "step " << step;
      const uint32_t ins = t.insert(k, h);
      if (ref.size() == cap) {
        ASSERT_EQ(ins, FlowTable<Entry>::kNone);
      } else {
        ASSERT_NE(ins, FlowTable<Entry>::kNone);
        t.at(ins).value = n;
        ref[n] = ins;
      }
    } else {
      ASSERT_EQ(idx, it->second) << "step " << step;
      ASSERT_EQ(t.at(idx).value, n);
      if (rng() % 2) {
        t.erase(idx);
        ref.erase(it);
      }
    }
    ASSERT_EQ(t.size(), ref.size());
    ASSERT_GT(t.index_slots(), uint64_t{t.size()} * 2) << "step " << step;
    if (t.index_slots() > max_index_slots) max_index_slots = t.index_slots();
  }
  for (const auto& [n, idx] : ref) {
    const FlowKey k = key_of(n);
    EXPECT_EQ(t.find(k, t.hash(k)), idx);
    EXPECT_LT(idx, t.high_water());
  }
}

TEST(FlowTable, MatchesReferenceUnderChurn) {
  uint64_t slots = 0;
  churn_against_reference(IndexSizing::kFull, 5000, 8000, 200000, slots);
  EXPECT_EQ(slots, 16384u);  // the whole index from the start: 2 x 5000 rounded up to a power of two
}

TEST(FlowTable, GrowingIndexRehashesAndStillMatchesReference) {
  uint64_t slots = 0;
  // ~2/3 of 90000 keys live at once: the index has to double three times (16384 -> 131072 slots), and the
  // table fills to its capacity of 60000 as well.
  churn_against_reference(IndexSizing::kGrowing, 60000, 90000, 400000, slots);
  EXPECT_EQ(slots, 131072u);
}

TEST(FlowTable, GrowingIndexStaysSmallForFewFlows) {
  FlowTable<Entry> t(1u << 20, FlowHasher(1, 3), IndexSizing::kGrowing);
  ASSERT_TRUE(t.ok());
  for (uint32_t n = 0; n < 1000; ++n) ASSERT_NE(t.insert(key_of(n), t.hash(key_of(n))), FlowTable<Entry>::kNone);
  EXPECT_EQ(t.index_slots(), 16384u);  // not the 2 M slots (16 MiB) a full index of a million flows takes
  for (uint32_t n = 0; n < 1000; ++n) EXPECT_NE(t.find(key_of(n), t.hash(key_of(n))), FlowTable<Entry>::kNone);
}

TEST(FlowTable, ClearEmptiesTheTableForReuse) {
  FlowTable<Entry> t(3000, FlowHasher(7, 9), IndexSizing::kGrowing);  // weak seeds: long probe runs
  ASSERT_TRUE(t.ok());
  for (uint32_t n = 0; n < 3000; ++n) ASSERT_NE(t.insert(key_of(n), t.hash(key_of(n))), FlowTable<Entry>::kNone);
  for (uint32_t n = 0; n < 3000; n += 3) t.erase(t.find(key_of(n), t.hash(key_of(n))));
  t.clear();
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.high_water(), 0u);
  for (uint32_t idx = 0; idx < 3000; ++idx) ASSERT_FALSE(t.in_use(idx)) << idx;
  for (uint32_t n = 0; n < 3000; ++n) ASSERT_EQ(t.find(key_of(n), t.hash(key_of(n))), FlowTable<Entry>::kNone) << n;
  // Full again, from index 0 up, with other keys: nothing of the old contents is found or in the way.
  for (uint32_t n = 0; n < 3000; ++n) ASSERT_EQ(t.insert(key_of(n + 5000), t.hash(key_of(n + 5000))), n);
  for (uint32_t n = 0; n < 3000; ++n) EXPECT_EQ(t.find(key_of(n + 5000), t.hash(key_of(n + 5000))), n);
  EXPECT_EQ(t.insert(key_of(1), t.hash(key_of(1))), FlowTable<Entry>::kNone);  // at capacity
}

/// Pages of [p, p + bytes) resident in memory (mincore); p page-aligned.
size_t resident_pages(const void* p, size_t bytes) {
  std::vector<unsigned char> vec((bytes + 4095) / 4096);
  if (::mincore(const_cast<void*>(p), bytes, vec.data()) != 0) return SIZE_MAX;
  size_t n = 0;
  for (unsigned char v : vec) n += v & 1;
  return n;
}

TEST(FlowTable, PopulateAheadFaultsInWhatInsertsWillTouchNext) {
  // kGrowing uses small pages, so residency is counted page by page.
  FlowTable<Entry> t(200000, FlowHasher(1, 3), IndexSizing::kGrowing);
  ASSERT_TRUE(t.ok());
  for (uint32_t n = 0; n < 1000; ++n) ASSERT_EQ(t.insert(key_of(n), t.hash(key_of(n))), n);
  const char* const base = reinterpret_cast<const char*>(&t.at(0));
  const size_t used = 1000 * sizeof(Entry), ahead = 512 * 1024;
  EXPECT_EQ(resident_pages(base + used / 4096 * 4096 + 4096, ahead), 0u);  // untouched so far
  int calls = 0;
  while (t.populate_ahead()) ++calls;
  if (calls == 0) GTEST_SKIP() << "this kernel has no MADV_POPULATE_WRITE (Linux >= 5.14)";
  EXPECT_EQ(resident_pages(base + used / 4096 * 4096 + 4096, ahead - 8192), (ahead - 8192) / 4096);
  EXPECT_EQ(resident_pages(base + (8u << 20), 1u << 20), 0u);  // nothing far beyond
  EXPECT_FALSE(t.populate_ahead());                            // nothing more until more entries are handed out
  // The populated memory is still zero and takes entries like any other.
  for (uint32_t n = 1000; n < 9000; ++n) ASSERT_NE(t.insert(key_of(n), t.hash(key_of(n))), FlowTable<Entry>::kNone);
  for (uint32_t n = 0; n < 9000; ++n) ASSERT_EQ(t.find(key_of(n), t.hash(key_of(n))), n);
  EXPECT_TRUE(t.populate_ahead());  // the handed-out mark moved on by more than what was ready ahead
}

TEST(FlowTable, PopulateAheadFromAnotherThreadLeavesEntriesIntact) {
  FlowTable<Entry> t(300000, FlowHasher(1, 3), IndexSizing::kGrowing);
  ASSERT_TRUE(t.ok());
  std::atomic<bool> done{false};
  std::thread helper([&] {
    while (!done.load(std::memory_order_relaxed)) (void)t.populate_ahead();
  });
  for (uint32_t n = 0; n < 300000; ++n) {
    const uint32_t idx = t.insert(key_of(n), t.hash(key_of(n)));
    ASSERT_EQ(idx, n);
    t.at(idx).value = n * 7ull;
  }
  done.store(true);
  helper.join();
  for (uint32_t n = 0; n < 300000; ++n) {
    const uint32_t idx = t.find(key_of(n), t.hash(key_of(n)));
    ASSERT_EQ(idx, n);
    ASSERT_EQ(t.at(idx).value, n * 7ull);
  }
}

/// AnonHugePages (kB) of the mapping that holds `addr`, from /proc/self/smaps; -1 when not found.
long anon_huge_kb(const void* addr) {
  std::ifstream smaps("/proc/self/smaps");
  const auto a = reinterpret_cast<uintptr_t>(addr);
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    uintptr_t lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find(':') > line.find(' ')) {
      inside = a >= lo && a < hi;
    } else if (inside && line.rfind("AnonHugePages:", 0) == 0) {
      return std::stol(line.substr(14));
    }
  }
  return -1;
}

TEST(MapZeroed, SmallPagesWhenAsked) {
  constexpr size_t kBytes = size_t{16} << 20;
  constexpr size_t kMiB = size_t{1} << 20;
  auto* huge = static_cast<uint8_t*>(map_zeroed(kBytes, Paging::kHuge));
  auto* small = static_cast<uint8_t*>(map_zeroed(kBytes, Paging::kSmall));
  ASSERT_NE(huge, nullptr);
  ASSERT_NE(small, nullptr);
  // One byte at 4 MiB and one at 12 MiB: each lies inside an aligned 2 MiB page of either mapping.
  huge[4 * kMiB] = 1;
  small[4 * kMiB] = 1;
  small[12 * kMiB] = 1;
  EXPECT_EQ(small[4 * kMiB + 1], 0);
  EXPECT_EQ(small[12 * kMiB + 1], 0);
  const long control = anon_huge_kb(huge + 4 * kMiB);
  if (control <= 0) {
    unmap(huge, kBytes);
    unmap(small, kBytes);
    GTEST_SKIP() << "transparent huge pages not available here (THP off, or no free 2 MiB page)";
  }
  EXPECT_EQ(anon_huge_kb(small + 4 * kMiB), 0) << "kSmall must never get huge pages";
  EXPECT_EQ(anon_huge_kb(small + 12 * kMiB), 0) << "kSmall must never get huge pages";
  unmap(huge, kBytes);
  unmap(small, kBytes);
}

}  // namespace
}  // namespace synscope::flow
