// Content gaps as Zeek's reassembler finds them (content.hpp): missed_bytes, the 'G'/'g' letters and the
// capture-loss counts, on crafted exchanges whose Zeek answers follow from TCP_Reassembler's rules.
#include <gtest/gtest.h>

#include <string>

#include "segment.hpp"
#include "tcp_session/content.hpp"
#include "tcp_session/tcp_session.hpp"

namespace synscope::tcp_session {
namespace {

namespace tf = packet::tcp_flag;
constexpr uint8_t S = tf::kSyn, A = tf::kAck, F = tf::kFin, R = tf::kRst;

// Drives one Session with a ContentPool: client is the key's lo side (port 40000), server the hi side.
class Flow {
 public:
  explicit Flow(ContentPool& pool) : pool_(pool) {}
  Flow& pkt(bool from_client, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len, bool captured = true,
            bool fragment = false) {
    packet::PacketMeta m = test::segment(from_client, flags, seq, ack, len);
    m.partial = static_cast<uint8_t>((captured ? 0 : packet::segment_part::kPayloadCut) |
                                     (fragment ? packet::segment_part::kFragment : 0));
    now_ += 1'000'000;
    if (!started_) {
      start(s_, m, from_client, now_, cfg_);
      started_ = true;
    }
    update(s_, m, from_client, now_, cfg_, &pool_);
    return *this;
  }
  Flow& c(uint8_t f, uint32_t seq, uint32_t ack = 0, uint32_t len = 0) { return pkt(true, f, seq, ack, len); }
  Flow& s(uint8_t f, uint32_t seq, uint32_t ack = 0, uint32_t len = 0) { return pkt(false, f, seq, ack, len); }
  std::string history() const { return std::string(s_.history_view()); }
  uint64_t missed() const { return missed_bytes(s_, pool_); }
  Session& session() { return s_; }

 private:
  ContentPool& pool_;
  SessionConfig cfg_;
  Session s_;
  bool started_ = false;
  uint64_t now_ = 1'000'000'000'000;
};

struct Pool {
  ContentStats stats;
  ContentPool pool{8, stats};
};

// Client ISN 100 (data from 101), server ISN 500 (data from 501).
Flow& handshake(Flow& k) { return k.c(S, 100).s(S | A, 500, 101).c(A, 101, 501); }

TEST(ContentGaps, InOrderDataNeedsNoSlotAndHasNoGap) {
  Pool p;
  Flow k(p.pool);
  handshake(k).c(A, 101, 501, 100).s(A, 501, 201).s(A, 501, 201, 300).c(A, 201, 801);
  k.c(F | A, 201, 801).s(F | A, 801, 202).c(A, 202, 802);
  EXPECT_EQ(k.history(), "ShADadFf");
  EXPECT_EQ(k.missed(), 0u);
  EXPECT_EQ(k.session().content_slot_number(), 0u) << "in-order traffic stays on the inline path";
  EXPECT_EQ(p.pool.in_use(), 0u);
  EXPECT_EQ(p.stats.gap_events, 0u);
  EXPECT_GE(p.stats.ack_events, 2u);
}

TEST(ContentGaps, AckForDataNeverSeenIsAGapOfTheSender) {
  Pool p;
  Flow k(p.pool);
  // The client's bytes 101..200 are missing from the capture; the server acknowledges up to 301.
  handshake(k).c(A, 201, 501, 100).s(A, 501, 301);
  EXPECT_EQ(k.history(), "ShADaG");
  EXPECT_EQ(k.missed(), 100u) << "only the hole, not the range that arrived above it";
  EXPECT_EQ(p.stats.gap_events, 1u);
  EXPECT_EQ(p.stats.gap_bytes, 100u);
}

TEST(ContentGaps, ResponderGapIsLowerCase) {
  Pool p;
  Flow k(p.pool);
  handshake(k).s(A, 501, 101, 100).c(A, 101, 1001);  // the server's 601..1000 never seen
  EXPECT_EQ(k.history(), "ShAdg");
  EXPECT_EQ(k.missed(), 400u);
}

TEST(ContentGaps, OutOfOrderArrivalFillsTheHole) {
  Pool p;
  Flow k(p.pool);
  handshake(k).c(A, 201, 501, 100).c(A, 101, 501, 100).s(A, 501, 301);
  EXPECT_EQ(k.missed(), 0u);
  EXPECT_EQ(k.history().find('G'), std::string::npos);
  EXPECT_EQ(p.stats.gap_events, 0u);
}

TEST(ContentGaps, TruncatedPayloadIsNotDelivered) {
  Pool p;
  Flow k(p.pool);
  handshake(k).pkt(true, A, 101, 501, 100, /*captured=*/false).s(A, 501, 201);
  EXPECT_EQ(k.missed(), 100u) << "Zeek delivers no payload cut short by the snaplen";
}

TEST(ContentGaps, FragmentedSegmentStopsTrackingInsteadOfInventingAGap) {
  Pool p;
  Flow k(p.pool);
  // A 1000-byte segment in two IP fragments: only the first (with 480 bytes of it) is parsed.
  handshake(k).pkt(true, A, 101, 501, 480, true, /*fragment=*/true).c(A, 1101, 501, 10).s(A, 501, 1111);
  EXPECT_EQ(k.missed(), 0u);
  EXPECT_EQ(k.history().find('G'), std::string::npos);
  EXPECT_EQ(k.session().content_slot_number(), ContentPool::kUntracked);
}

TEST(ContentGaps, GapRevealedByARstIsNotReported) {
  Pool p;
  Flow k(p.pool);
  handshake(k).c(A, 101, 501, 10).s(R | A, 501, 400);
  EXPECT_EQ(k.missed(), 0u) << "a reset endpoint is not cleanly established";
  EXPECT_EQ(k.history().find('g'), std::string::npos);
  EXPECT_EQ(k.history().find('G'), std::string::npos);
}

TEST(ContentGaps, FinAcknowledgementIsNotAGap) {
  Pool p;
  Flow k(p.pool);
  handshake(k).c(A, 101, 501, 50).c(F | A, 151, 501).s(A, 501, 152).s(A, 501, 152);
  EXPECT_EQ(k.missed(), 0u);
}

TEST(ContentGaps, FinAfterAHoleGapsTheMissingData) {
  Pool p;
  Flow k(p.pool);
  // Data 101..150 seen, 151..200 lost, then the FIN at 201: the ACK of the FIN reveals the 50 bytes.
  handshake(k).c(A, 101, 501, 50).c(F | A, 201, 501).s(A, 501, 202);
  EXPECT_EQ(k.missed(), 50u);
}

TEST(ContentGaps, GapLettersAreLogarithmic) {
  Pool p;
  Flow k(p.pool);
  handshake(k);
  uint32_t seq = 101;
  for (int i = 0; i < 10; ++i) {
    k.c(A, seq + 10, 501, 10).s(A, 501, seq + 20);  // 10 bytes lost, 10 seen, all acknowledged
    seq += 20;
  }
  EXPECT_EQ(k.history(), "ShADaGG") << "the 1st and the 10th gap";
  EXPECT_EQ(k.missed(), 100u);
  EXPECT_EQ(p.stats.gap_events, 10u);
}

TEST(ContentGaps, ManyHolesMergeBeyondTheLimitAndAreCounted) {
  Pool p;
  Flow k(p.pool);
  handshake(k);
  for (uint32_t i = 0; i < kContentBlocks + 2; ++i) k.c(A, 111 + 20 * i, 501, 10);  // 10-byte holes
  k.s(A, 501, 111 + 20 * (kContentBlocks + 2));
  EXPECT_GT(p.stats.blocks_merged, 0u);
  EXPECT_GT(k.missed(), 0u);
  EXPECT_LT(k.missed(), 10u * (kContentBlocks + 2) + 10) << "merged holes count as seen, never as more";
}

TEST(ContentGaps, DataAboveAHoleWithoutAnyAckGivesUp) {
  Pool p;
  Flow k(p.pool);
  k.c(S, 100).s(S | A, 500, 101).c(A, 101, 501);
  // 1 byte lost at 101, then more than Zeek's 16384 bytes above the hole with nothing acknowledged.
  for (uint32_t off = 0; off <= kMaxAboveHoleWithoutAcks; off += 1000) k.c(A, 102 + off, 501, 1000);
  k.s(A, 501, 102 + kMaxAboveHoleWithoutAcks + 1000);
  EXPECT_EQ(k.missed(), 0u) << "Zeek stops reassembling that direction (above_hole_data_without_any_acks)";
}

TEST(ContentGaps, SequenceWrapIsFollowed) {
  Pool p;
  Flow k(p.pool);
  const uint32_t isn = 0xffffff00u;
  k.c(S, isn).s(S | A, 500, isn + 1).c(A, isn + 1, 501);
  k.c(A, isn + 1, 501, 0x80).c(A, isn + 0x81, 501, 0x80);  // crosses 2^32
  k.c(A, isn + 0x201, 501, 0x10);                          // 0x100 bytes lost after the wrap
  k.s(A, 501, isn + 0x211);
  EXPECT_EQ(k.missed(), 0x100u);
}

TEST(ContentGaps, ExhaustedPoolLeavesTheSessionUntrackedAndCounts) {
  ContentStats stats;
  ContentPool pool(1, stats);
  Flow a(pool), b(pool);
  handshake(a).c(A, 201, 501, 100).s(A, 501, 301);
  handshake(b).c(A, 201, 501, 100).s(A, 501, 301);
  EXPECT_EQ(a.missed(), 100u);
  EXPECT_EQ(b.missed(), 0u);
  EXPECT_EQ(stats.slots_exhausted, 1u);
  EXPECT_EQ(b.session().content_slot_number(), ContentPool::kUntracked);
  release_content(a.session(), pool);
  EXPECT_EQ(pool.in_use(), 0u);
  release_content(b.session(), pool);  // untracked: nothing to give back
  EXPECT_EQ(pool.in_use(), 0u);
}

}  // namespace
}  // namespace synscope::tcp_session
