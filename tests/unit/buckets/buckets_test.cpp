// BucketRing: charge to the first-packet bucket, emit when settled, count late sessions, never lose one.
#include "buckets/buckets.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <utility>
#include <vector>

namespace synscope::buckets {
namespace {

constexpr uint64_t kSec = 1'000'000'000;

struct Collect : BucketSink {
  std::vector<Bucket> got;
  void on_bucket(const Bucket& b) override { got.push_back(b); }
};

/// Failed and late sessions of the inbound perspective over every emitted bucket.
std::pair<uint64_t, uint64_t> inbound_failed_and_late(const Collect& out) {
  uint64_t failed = 0, late = 0;
  for (const Bucket& b : out.got) {
    failed += b.by_perspective[0].failed;
    late += b.by_perspective[0].late;
  }
  return {failed, late};
}

SessionSummary failed_at(uint64_t t, Perspective p = Perspective::kInbound) {
  SessionSummary s;
  s.first_ns = t;
  s.perspective = p;
  s.state = tcp_session::ConnState::kS0;
  s.attempt = s.failed = true;
  return s;
}

TEST(BucketRing, ChargesFirstPacketBucketAndEmitsWhenSettled) {
  BucketRing ring(60 * kSec, 30 * kSec);
  Collect out;
  ring.add(failed_at(1000 * kSec), 1005 * kSec);
  ring.add(failed_at(1010 * kSec, Perspective::kEdge), 1015 * kSec);
  ring.add(failed_at(1090 * kSec), 1095 * kSec);
  ring.advance(1049 * kSec, out);
  EXPECT_TRUE(out.got.empty());  // bucket [960,1020) settles at 1020 + 30 s
  ring.advance(1100 * kSec, out);
  ASSERT_EQ(out.got.size(), 1u);  // [1020,1080) had no session; [1080,1140) is still open
  EXPECT_EQ(out.got[0].start_ns, 960 * kSec);
  EXPECT_EQ(out.got[0].by_perspective[0].failed, 1u);
  EXPECT_EQ(out.got[0].by_perspective[3].failed, 1u);
  EXPECT_EQ(out.got[0].by_perspective[0].by_state[0], 1u);
  ring.flush(out);
  ASSERT_EQ(out.got.size(), 2u);
  EXPECT_EQ(out.got[1].start_ns, 1080 * kSec);
}

// Sessions out of time order (add() keeps the last session's bucket): each still lands in the bucket of
// its own first packet, including the bucket at time 0 and spans that do not divide a second.
TEST(BucketRing, SessionsOutOfOrderLandInTheirOwnBuckets) {
  const uint64_t span = 7 * kSec + 123;
  BucketRing ring(span, 40 * span);
  std::map<uint64_t, uint64_t> expected;  // bucket start -> sessions
  std::mt19937_64 rng(11);
  Collect out;
  uint64_t t = 0;
  for (int i = 0; i < 20000; ++i) {
    // Within a bucket ahead of the time so far, and now and then up to two buckets back (all within reach
    // of the ring and its 40-span settle time, so none is late).
    const uint64_t at = t + rng() % span;
    const uint64_t first = at > 2 * span && rng() % 4 == 0 ? at - rng() % (2 * span) : at;
    ring.add(failed_at(first), t);
    ++expected[first / span * span];
    t += rng() % (span / 50);
    ring.advance(t, out);
  }
  ring.flush(out);
  std::map<uint64_t, uint64_t> got;
  for (const Bucket& b : out.got) {
    EXPECT_EQ(b.by_perspective[0].late, 0u);
    got[b.start_ns] += b.by_perspective[0].sessions;
  }
  EXPECT_EQ(got, expected);
}

// A session far ahead moves the newest bucket, and the ring (6 buckets here) must then give up its oldest
// one even though time itself has not moved past a bucket boundary.
TEST(BucketRing, ASessionFarAheadMakesTheOldestBucketDueAtOnce) {
  BucketRing ring(10 * kSec, 20 * kSec);
  Collect out;
  ring.add(failed_at(1 * kSec), 1 * kSec);
  ring.advance(1 * kSec, out);
  ring.add(failed_at(55 * kSec), 1 * kSec);  // bucket 5: the ring now spans buckets 0-5
  ring.advance(2 * kSec, out);
  ASSERT_EQ(out.got.size(), 1u);
  EXPECT_EQ(out.got[0].start_ns, 0u);
  ring.add(failed_at(61 * kSec), 2 * kSec);  // bucket 6 has room of its own: not late
  ring.flush(out);
  EXPECT_EQ(inbound_failed_and_late(out), std::make_pair(uint64_t{3}, uint64_t{0}));
}

TEST(BucketRing, EmptyRingDoesNotSkipBucketsStillOpen) {
  // Regression: with nothing held, advance() used to jump to the newest bucket, so a session that began
  // a bucket earlier and ended after the boundary was wrongly counted late.
  BucketRing ring(60 * kSec, 30 * kSec);
  Collect out;
  ring.add(failed_at(100 * kSec), 101 * kSec);
  ring.advance(101 * kSec, out);
  ring.advance(200 * kSec, out);  // [60,120) settled at 150 s and emitted; the ring is empty
  ASSERT_EQ(out.got.size(), 1u);
  ring.advance(250 * kSec, out);                // nothing held, time moves on into bucket [240,300)
  ring.add(failed_at(238 * kSec), 251 * kSec);  // began in [180,240), still open until 270 s
  EXPECT_EQ(ring.late_sessions(), 0u);
  ring.flush(out);
  ASSERT_EQ(out.got.size(), 2u);
  EXPECT_EQ(out.got[1].start_ns, 180 * kSec);
  EXPECT_EQ(out.got[1].by_perspective[0].failed, 1u);
}

TEST(BucketRing, SessionFarAheadIsCountedLateNotDropped) {
  BucketRing ring(10 * kSec, 10 * kSec);
  Collect out;
  ring.add(failed_at(100 * kSec), 100 * kSec);
  ring.add(failed_at(10'000 * kSec), 100 * kSec);  // a clock jump far beyond the ring
  EXPECT_EQ(ring.late_sessions(), 1u);
  ring.flush(out);
  const auto [failed, late] = inbound_failed_and_late(out);
  EXPECT_EQ(failed + late, 2u);
}

TEST(BucketRing, LateSessionsAreCountedNotLost) {
  BucketRing ring(10 * kSec, 0);
  Collect out;
  ring.add(failed_at(100 * kSec), 101 * kSec);
  ring.add(failed_at(125 * kSec), 125 * kSec);
  ring.advance(126 * kSec, out);
  ASSERT_EQ(out.got.size(), 1u);                // [100,110) settled; [120,130) still open
  ring.add(failed_at(101 * kSec), 126 * kSec);  // its bucket [100,110) is gone
  EXPECT_EQ(ring.late_sessions(), 1u);
  ring.flush(out);
  const auto [failed, late] = inbound_failed_and_late(out);
  EXPECT_EQ(failed, 2u);
  EXPECT_EQ(late, 1u);
}

TEST(BucketRing, LongGapSkipsEmptyBuckets) {
  BucketRing ring(kSec, 0);
  Collect out;
  ring.add(failed_at(10 * kSec), 10 * kSec);
  ring.advance(11 * kSec, out);
  ring.advance(5'000'000 * kSec, out);  // weeks later: must not walk every empty second
  ring.add(failed_at(5'000'000 * kSec), 5'000'000 * kSec);
  ring.flush(out);
  ASSERT_EQ(out.got.size(), 2u);
  EXPECT_EQ(out.got[1].start_ns, 5'000'000 * kSec);
}

}  // namespace
}  // namespace synscope::buckets
