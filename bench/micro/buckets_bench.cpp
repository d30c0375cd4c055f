// buckets_bench: the bucket side of every finished session and of every emitted bucket:
//   counters_add   BucketCounters::add of one session summary (the innermost step)
//   ring_add       a session through a BucketRing as consumers::RecordBuckets drives it: settle the ring to
//                  the record's settled time (one engine sweep per millisecond of packet time), then add the
//                  session to its bucket; 100 k sessions per second of packet time, started up to 30 s
//                  before they end, 60 s buckets settled after 360 s (the defaults)
//   bucket_merge   merging one emitted Bucket (all perspectives) into a sum, as the alert engine sums a
//                  window of buckets and a stats side would sum several engines' buckets
// Checks: every session added is in an emitted bucket (none late), and the counts add up exactly.
// Single-threaded; run by bench/micro.sh.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <string>

#include "buckets/buckets.hpp"
#include "tcp_session/tcp_session.hpp"

namespace {

using namespace synscope;
using tcp_session::ConnState;

constexpr uint64_t kT0 = 1'700'000'000'000'000'000ull;
constexpr uint64_t kSecond = 1'000'000'000;

/// 64 summaries of a plausible mix: mostly SF, some REJ, S0, RSTO, RSTR, over every perspective.
std::array<buckets::SessionSummary, 64> summaries() {
  std::array<buckets::SessionSummary, 64> out{};
  constexpr ConnState kMix[8] = {ConnState::kSF, ConnState::kSF,   ConnState::kSF,   ConnState::kREJ,
                                 ConnState::kS0, ConnState::kRSTO, ConnState::kRSTR, ConnState::kSF};
  for (size_t i = 0; i < out.size(); ++i) {
    buckets::SessionSummary& s = out[i];
    s.state = kMix[i % 8];
    s.perspective = static_cast<buckets::Perspective>(i / 8 % buckets::kPerspectiveCount);
    s.failed = tcp_session::is_failed(s.state);
    s.attempt = true;
    s.established = s.state == ConnState::kSF || s.state == ConnState::kRSTO || s.state == ConnState::kRSTR;
    s.orig_fin = s.state == ConnState::kSF;
    s.resp_fin = s.state == ConnState::kSF;
    s.orig_rst = s.state == ConnState::kRSTO;
    s.resp_rst = s.state == ConnState::kRSTR || s.state == ConnState::kREJ;
  }
  return out;
}

void BM_CountersAdd(benchmark::State& state) {
  const auto sums = summaries();
  buckets::BucketCounters c;
  size_t i = 0;
  for (auto _ : state) {
    c.add(sums[i]);
    i = (i + 1) % sums.size();
    benchmark::DoNotOptimize(c);
  }
  uint64_t by_state = 0;
  for (uint64_t v : c.by_state) by_state += v;
  const auto n = static_cast<uint64_t>(state.iterations());
  if (c.sessions != n || by_state != n) return state.SkipWithError("session counts do not add up");
  state.SetItemsProcessed(static_cast<int64_t>(n));
}

/// Counts what the ring emits.
struct Tally final : buckets::BucketSink {
  uint64_t buckets = 0, sessions = 0, late = 0;
  void on_bucket(const buckets::Bucket& b) override {
    ++buckets;
    for (const auto& p : b.by_perspective) {
      sessions += p.sessions;
      late += p.late;
    }
  }
};

void BM_RingAdd(benchmark::State& state) {
  auto sums = summaries();
  buckets::BucketRing ring(60 * kSecond, 360 * kSecond);
  Tally tally;
  uint64_t settled = 0;
  uint64_t t = kT0;
  // One session a minute before the run: the ring's first bucket then precedes every session the run adds
  // (a session older than the ring's first bucket would count as late).
  sums[0].first_ns = kT0 - 60 * kSecond;
  ring.add(sums[0], kT0);
  uint64_t i = 0;
  for (auto _ : state) {
    t += 10'000;                                    // 100 k sessions per second of packet time
    const uint64_t settled_ns = t - t % 1'000'000;  // the engine's last sweep: once per millisecond
    if (settled_ns > settled) {                     // RecordBuckets::settle
      settled = settled_ns;
      ring.advance(settled_ns, tally);
    }
    buckets::SessionSummary& s = sums[i % sums.size()];
    s.first_ns = t - (i * 7919 % 30'000) * 1'000'000;  // started up to 30 s before it ended
    ring.add(s, t);
    ++i;
  }
  ring.flush(tally);
  if (tally.sessions != i + 1 || tally.late != 0 || ring.late_sessions() != 0) {
    return state.SkipWithError(("emitted " + std::to_string(tally.sessions) + " sessions (" +
                                std::to_string(tally.late) + " late) of " + std::to_string(i + 1))
                                   .c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
  state.counters["buckets_emitted"] = static_cast<double>(tally.buckets);
}

void BM_BucketMerge(benchmark::State& state) {
  // 64 emitted buckets with counts in every perspective; each iteration merges one into the sum.
  const auto sums = summaries();
  std::array<buckets::Bucket, 64> src{};
  uint64_t cycle_sessions = 0;
  for (size_t b = 0; b < src.size(); ++b) {
    for (size_t k = 0; k < 1 + b % 13; ++k) {
      const auto& s = sums[(b * 5 + k) % sums.size()];
      src[b].by_perspective[static_cast<size_t>(s.perspective)].add(s);
      ++cycle_sessions;
    }
  }
  buckets::Bucket sum{};
  size_t b = 0;
  for (auto _ : state) {
    for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) sum.by_perspective[p].merge(src[b].by_perspective[p]);
    b = (b + 1) % src.size();
    benchmark::DoNotOptimize(sum);
  }
  const auto n = static_cast<uint64_t>(state.iterations());
  uint64_t expected = n / src.size() * cycle_sessions;
  for (size_t k = 0; k < n % src.size(); ++k) {
    for (const auto& p : src[k].by_perspective) expected += p.sessions;
  }
  uint64_t got = 0, by_state = 0;
  for (const auto& p : sum.by_perspective) {
    got += p.sessions;
    for (uint64_t v : p.by_state) by_state += v;
  }
  if (got != expected || by_state != expected) return state.SkipWithError("merged session counts do not add up");
  state.SetItemsProcessed(static_cast<int64_t>(n));
  state.SetLabel("items = buckets merged");
}

}  // namespace

BENCHMARK(BM_CountersAdd)->Name("buckets/counters_add");
BENCHMARK(BM_RingAdd)->Name("buckets/ring_add");
BENCHMARK(BM_BucketMerge)->Name("buckets/bucket_merge");

BENCHMARK_MAIN();
