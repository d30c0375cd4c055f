// runtime: BurstChannel and SessionChannel deliver everything, in order, across two real threads, with
// pools far smaller than the traffic (so the full/empty waits are exercised).
#include "runtime/runtime.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <thread>
#include <vector>

namespace synscope::runtime {
namespace {

TEST(BurstChannel, DeliversEveryBurstInOrderThenEnds) {
  BurstChannel channel(4);
  constexpr uint64_t kBursts = 20000;
  std::vector<uint64_t> seen;
  seen.reserve(kBursts * kBurstSize);
  std::thread consumer([&] {
    while (Burst* b = channel.receive()) {
      for (uint32_t i = 0; i < b->n; ++i) seen.push_back(b->pkts[i].ts_ns);
      channel.release(b);
    }
  });
  uint64_t next = 0;
  for (uint64_t k = 0; k < kBursts; ++k) {
    Burst* b = channel.acquire();
    b->n = static_cast<uint32_t>(k % (kBurstSize + 1));  // includes empty and full bursts
    for (uint32_t i = 0; i < b->n; ++i) b->pkts[i].ts_ns = next++;
    channel.publish(b);
  }
  channel.close();
  consumer.join();
  ASSERT_EQ(seen.size(), next);
  for (uint64_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], i);
  EXPECT_EQ(channel.try_receive(), nullptr);
}

TEST(BurstChannel, WaitingConsumerDoesIdleWorkUntilABurstComes) {
  // One thread plays both sides: the idle work publishes a burst on its third call, so receive() must have
  // called it exactly three times; after close() it still calls it while nothing is left, then ends.
  BurstChannel channel(2);
  int idle_calls = 0;
  const std::function<bool()> idle = [&] {
    if (++idle_calls == 3) {
      Burst* b = channel.acquire();
      b->n = 7;
      channel.publish(b);
    }
    return true;
  };
  Burst* got = channel.receive(idle);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->n, 7u);
  EXPECT_EQ(idle_calls, 3);
  channel.release(got);
  channel.close();
  EXPECT_EQ(channel.receive(idle), nullptr);
  EXPECT_EQ(idle_calls, 3);  // closed and drained: it returns at once
}

TEST(BurstChannel, PoolIsBoundedAndRecycled) {
  BurstChannel channel(3);  // rounds up to 4
  std::vector<Burst*> taken;
  while (Burst* b = channel.try_acquire()) taken.push_back(b);
  EXPECT_EQ(taken.size(), 4u);
  channel.publish(taken[0]);
  Burst* got = channel.try_receive();
  EXPECT_EQ(got, taken[0]);
  channel.release(got);
  EXPECT_EQ(channel.try_acquire(), taken[0]);
}

struct Collect : engine::SessionSink {
  std::vector<uint64_t> uids;
  std::vector<uint32_t> orig_pkts;
  void on_session(const engine::SessionRecord& r) override {
    uids.push_back(r.uid);
    orig_pkts.push_back(r.session->ep[0].pkts);
  }
};

TEST(Burst, CheckDeferredMarksOnlyTheBadChecksums) {
  // Two TCP frames over IPv4 (raw IP link): one correct, one with a corrupted payload byte; and a frame
  // with nothing deferred. The consumer's check must turn exactly the corrupted one into kBadChecksum.
  std::vector<uint8_t> good = {0x45, 0, 0, 44, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
                               0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0,
                               'a', 'b', 'c', 'd'};
  // TCP checksum over the pseudo-header and segment, written into the segment.
  uint32_t sum = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + 24;
  for (size_t i = 20; i < good.size(); i += 2) sum += (good[i] << 8) | good[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  good[36] = static_cast<uint8_t>(~sum >> 8);
  good[37] = static_cast<uint8_t>(~sum);
  std::vector<uint8_t> bad = good;
  bad.back() ^= 0x40;
  const engine::Classifier classifier(packet::ParseOptions{});
  Burst b;
  b.has_deferred = true;
  b.n = 3;
  classifier.classify(packet::LinkType::kRaw, good.data(), 44, 1, b.pkts[0], &b.deferred[0]);
  classifier.classify(packet::LinkType::kRaw, bad.data(), 44, 2, b.pkts[1], &b.deferred[1]);
  classifier.classify(packet::LinkType::kRaw, good.data(), 44, 3, b.pkts[2], nullptr);
  b.deferred[2] = {};
  for (uint32_t i = 0; i < 3; ++i) ASSERT_EQ(b.pkts[i].verdict, packet::Verdict::kTcp) << i;
  b.check_deferred();
  EXPECT_FALSE(b.has_deferred);
  EXPECT_EQ(b.pkts[0].verdict, packet::Verdict::kTcp);
  EXPECT_EQ(b.pkts[1].verdict, packet::Verdict::kBadChecksum);
  EXPECT_EQ(b.pkts[2].verdict, packet::Verdict::kTcp);
}

TEST(SessionChannel, CarriesSelfContainedCopiesInOrder) {
  SessionChannel channel(8);
  constexpr uint64_t kSessions = 50000;
  std::thread producer([&] {
    tcp_session::Session s;  // reused like a flow-table entry: the consumer must see a copy
    engine::SessionRecord r;
    r.session = &s;
    for (uint64_t i = 0; i < kSessions; ++i) {
      r.uid = i;
      s.ep[0].pkts = static_cast<uint32_t>(i * 3);
      channel.on_session(r);
    }
    channel.mark_done();
  });
  Collect out;
  channel.drain_all(out);
  producer.join();
  ASSERT_EQ(out.uids.size(), kSessions);
  for (uint64_t i = 0; i < kSessions; ++i) {
    ASSERT_EQ(out.uids[i], i);
    ASSERT_EQ(out.orig_pkts[i], i * 3);
  }
  EXPECT_TRUE(channel.producer_done());
  EXPECT_EQ(channel.drain(out, 10), 0u);
}

}  // namespace
}  // namespace synscope::runtime

namespace synscope::runtime {
namespace {

struct Words {
  uint64_t a = 0, b = 0, c = 0;
  std::array<uint64_t, 13> rest{};
};

TEST(Mirror, ReaderNeverSeesATornCopy) {
  // The writer keeps every word equal to a counter; a reader must always see all words equal, and never
  // a value going backwards.
  Mirror<Words> mirror;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    Words w;
    for (uint64_t i = 1; i <= 200'000; ++i) {
      w.a = w.b = w.c = i;
      w.rest.fill(i);
      mirror.publish(w);
    }
    done.store(true);
  });
  uint64_t last = 0, reads = 0;
  while (!done.load() || reads == 0) {
    const Words w = mirror.read();
    ASSERT_EQ(w.a, w.b);
    ASSERT_EQ(w.a, w.c);
    for (uint64_t v : w.rest) ASSERT_EQ(v, w.a);
    ASSERT_GE(w.a, last);
    last = w.a;
    ++reads;
  }
  writer.join();
  EXPECT_EQ(mirror.read().a, 200'000u);
}

}  // namespace
}  // namespace synscope::runtime

namespace synscope::runtime {
namespace {

struct Uids : engine::SessionSink {
  std::vector<uint64_t> got;
  void on_session(const engine::SessionRecord& r) override { got.push_back(r.uid); }
};

TEST(SessionChannel, PeekKeepsTheRecordFirstUntilPopped) {
  SessionChannel channel(8);
  tcp_session::Session s;
  engine::SessionRecord r;
  r.session = &s;
  EXPECT_EQ(channel.peek(), nullptr);
  for (uint64_t uid : {7u, 8u, 9u}) {
    r.uid = uid;
    s.ep[0].pkts = static_cast<uint32_t>(uid);
    channel.on_session(r);
  }
  EXPECT_EQ(channel.waiting(), 3u);
  const engine::SessionRecord* first = channel.peek();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->uid, 7u);
  EXPECT_EQ(first->session->ep[0].pkts, 7u);  // points at the channel's own copy
  EXPECT_EQ(channel.peek()->uid, 7u);         // still first
  EXPECT_EQ(channel.waiting(), 3u);
  channel.pop();
  EXPECT_EQ(channel.peek()->uid, 8u);
  Uids out;
  EXPECT_EQ(channel.drain(out, 10), 2u);  // drain starts with the peeked record
  EXPECT_EQ(out.got, (std::vector<uint64_t>{8, 9}));
  EXPECT_EQ(channel.waiting(), 0u);
}

}  // namespace
}  // namespace synscope::runtime
