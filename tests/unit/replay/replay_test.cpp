// replay: the reader's deferred checksums are checked on the worker exactly as the reader would have; the
// single-thread and reader + worker pipelines give the same records, buckets and counters.
#include "replay/pipeline.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include "error/error.hpp"
#include "replay/replay_burst.hpp"
#include "support/files.hpp"
#include "support/frames.hpp"
#include "support/outputs.hpp"
#include "support/packets.hpp"

namespace synscope::replay {
namespace {

TEST(ReplayBurst, CheckDeferredMarksOnlyTheBadChecksums) {
  // Two TCP frames over IPv4 (raw IP link): one correct, one with a corrupted payload byte; and a frame
  // with nothing deferred. The consumer's check must turn exactly the corrupted one into kBadChecksum.
  namespace tf = packet::tcp_flag;
  const test::Bytes good = test::ipv4(test::tcp_segment({.flags = tf::kPsh | tf::kAck, .payload = 4}));
  std::vector<uint8_t> bad = good;
  bad.back() ^= 0x40;
  const engine::FrameParser classifier(packet::ParseOptions{});
  ReplayBurst b;
  b.has_deferred = true;
  b.n = 3;
  const auto len = static_cast<uint32_t>(good.size());
  classifier.parse(packet::LinkType::kRaw, good.data(), len, 1, b.pkts[0], &b.deferred[0]);
  classifier.parse(packet::LinkType::kRaw, bad.data(), len, 2, b.pkts[1], &b.deferred[1]);
  classifier.parse(packet::LinkType::kRaw, good.data(), len, 3, b.pkts[2], nullptr);
  b.deferred[2] = {};
  for (uint32_t i = 0; i < 3; ++i) ASSERT_EQ(b.pkts[i].frame_class, packet::FrameClass::kTcp) << i;
  b.check_deferred();
  EXPECT_FALSE(b.has_deferred);
  EXPECT_EQ(b.pkts[0].frame_class, packet::FrameClass::kTcp);
  EXPECT_EQ(b.pkts[1].frame_class, packet::FrameClass::kBadChecksum);
  EXPECT_EQ(b.pkts[2].frame_class, packet::FrameClass::kTcp);
}

struct Outputs {
  std::string sessions, buckets;
  ReplayResult result;
};

Outputs replay_with(const std::string& capture, unsigned threads) {
  test::TempFile sessions("synscope-replay-sessions"), buckets("synscope-replay-buckets");
  consumers::ConsumerConfig cc;
  cc.sessions_out = sessions.path();
  cc.buckets_out = buckets.path();
  cc.bucket_span_ns = 10'000'000'000;
  cc.bucket_settle_ns = 30'000'000'000;
  ReplayConfig rc;
  rc.capture = capture;
  rc.parse.verify_checksums = false;
  rc.engine.bucket_span_ns = cc.bucket_span_ns;
  rc.engine.bucket_settle_ns = cc.bucket_settle_ns;
  rc.threads = threads;
  rc.progress = false;
  consumers::Requests stop;
  Outputs out;
  {
    consumers::Consumers consumers(cc);
    out.result = run(rc, consumers, stop);
    std::string error;
    EXPECT_TRUE(consumers.close(error)) << error;
  }
  out.sessions = sessions.read();
  out.buckets = buckets.read();
  return out;
}

TEST(Pipeline, OneThreadAndReaderPlusWorkerGiveTheSameOutputs) {
  // 20000 sessions over 1000 s: long enough for many buckets and for the reader + worker rings to wrap.
  test::TempFile capture("synscope-replay-pcap");
  capture.write(test::pcap_of(test::mixed_sessions(20000, 7)));
  const Outputs one = replay_with(capture.path(), 1);
  const Outputs two = replay_with(capture.path(), 2);
  EXPECT_EQ(one.result.counters.received, two.result.counters.received);
  EXPECT_EQ(one.result.counters.sessions, 20000u);
  EXPECT_EQ(two.result.counters.sessions, 20000u);
  EXPECT_EQ(one.result.counters.accounted(), one.result.counters.received);
  EXPECT_EQ(one.result.late_sessions, two.result.late_sessions);
  EXPECT_TRUE(one.result.corrupt.empty());
  EXPECT_GT(one.buckets.size(), 1000u);
  EXPECT_EQ(one.buckets, two.buckets);
  EXPECT_EQ(test::without_uids(one.sessions), test::without_uids(two.sessions));
  EXPECT_EQ(test::count_lines(one.sessions), 20000u);
}

TEST(Pipeline, ACorruptRecordIsReportedWithEverythingBeforeIt) {
  std::vector<uint8_t> bytes = test::pcap_of(test::mixed_sessions(100, 3));
  const size_t whole = bytes.size();
  bytes.resize(whole - 20);  // the last record is cut
  test::TempFile capture("synscope-replay-pcap");
  capture.write(bytes);
  for (unsigned threads : {1u, 2u}) {
    const Outputs r = replay_with(capture.path(), threads);
    EXPECT_FALSE(r.result.corrupt.empty()) << threads;
    EXPECT_GT(r.result.counters.received, 0u) << threads;
    EXPECT_FALSE(r.sessions.empty()) << threads;
  }
}

TEST(Pipeline, AMissingCaptureThrowsAnInputError) {
  consumers::ConsumerConfig cc;
  consumers::Consumers consumers(cc);
  ReplayConfig rc;
  rc.capture = "/nonexistent/capture.pcap";
  consumers::Requests stop;
  try {
    (void)run(rc, consumers, stop);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/capture.pcap"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace synscope::replay
