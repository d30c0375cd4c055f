// consumers: every session and bucket reaches every output in order; a prepared line is written verbatim and
// the renderer that prepares lines writes the session writer's flavour and seed; buckets rebuilt from records
// equal the engine's own timing; an unwritable output is reported by close().
#include "consumers/consumers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "error/error.hpp"
#include "support/files.hpp"
#include "support/outputs.hpp"
#include "support/packets.hpp"

namespace synscope::consumers {
namespace {

constexpr uint64_t kSec = 1'000'000'000;

ConsumerConfig config(const test::TempFile& sessions, const test::TempFile& buckets) {
  ConsumerConfig c;
  c.sessions_out = sessions.path();
  c.buckets_out = buckets.path();
  c.bucket_span_ns = 10 * kSec;
  c.bucket_settle_ns = 30 * kSec;
  return c;
}

TEST(Consumers, EverySessionAndBucketReachesTheOutputs) {
  test::TempFile sessions("synscope-consumers-s"), buckets("synscope-consumers-b");
  const std::vector<engine::ParsedPacket> pkts = test::mixed_sessions(2000, 11);
  uint64_t emitted_buckets = 0;
  {
    Consumers consumers(config(sessions, buckets));
    engine::EngineConfig ec;
    ec.bucket_span_ns = 10 * kSec;
    ec.bucket_settle_ns = 30 * kSec;
    engine::SessionEngine engine(ec, consumers);
    for (size_t i = 0; i < pkts.size(); i += 32) {
      engine.process_burst(&pkts[i], static_cast<uint32_t>(std::min<size_t>(32, pkts.size() - i)));
    }
    engine.finish();
    consumers.finish();
    EXPECT_EQ(consumers.sessions(), 2000u);
    emitted_buckets = consumers.buckets_emitted();
    std::string error;
    ASSERT_TRUE(consumers.close(error)) << error;
  }
  EXPECT_EQ(test::count_lines(sessions.read()), 2000u);
  // 2000 sessions 50 ms apart span 100 s: 10 buckets of 10 s, one line per perspective present in each.
  EXPECT_EQ(emitted_buckets, 10u);
  const std::string text = buckets.read();
  EXPECT_GE(test::count_lines(text), 10u);
  // Every session is counted once: in its bucket's "sessions", or, when it ended after its bucket was
  // emitted, as "late" in a later one — never lost.
  const auto sum = [&text](const std::string& key) {
    uint64_t total = 0;
    for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
      total += std::stoull(text.substr(at + key.size()));
    }
    return total;
  };
  EXPECT_GT(sum("\"late\":"), 0u);  // the sessions never closed, reported at the end
  EXPECT_EQ(sum("\"sessions\":") + sum("\"late\":"), 2000u);
}

TEST(Consumers, APreparedLineIsWrittenVerbatim) {
  test::TempFile sessions("synscope-consumers-s"), buckets("synscope-consumers-b");
  {
    Consumers consumers(config(sessions, buckets));
    tcp_session::Session s;
    engine::SessionRecord r;
    r.session = &s;
    consumers.receive(r, "prepared elsewhere\n");
    consumers.finish();
    std::string error;
    ASSERT_TRUE(consumers.close(error)) << error;
  }
  EXPECT_EQ(sessions.read(), "prepared elsewhere\n");
}

// The renderer a replay worker prepares lines with writes what the session writer would: the same flavour and
// Community ID seed (lines of both kinds end up in one file).
TEST(Consumers, PreparedLinesHaveTheWritersFlavourAndSeed) {
  test::TempFile sessions("synscope-consumers-s"), buckets("synscope-consumers-b");
  ConsumerConfig c = config(sessions, buckets);
  c.session_format = {output::SessionFlavour::kEcs, 9, {}};
  const std::vector<engine::ParsedPacket> pkts = test::mixed_sessions(3, 4);
  std::string rendered;
  {
    Consumers consumers(c);
    const channel::SessionChannel::LineRenderer* renderer = consumers.session_line_renderer();
    ASSERT_NE(renderer, nullptr);
    struct Both final : engine::SessionSink {
      Consumers& consumers;
      const channel::SessionChannel::LineRenderer& renderer;
      std::string& rendered;
      Both(Consumers& c, const channel::SessionChannel::LineRenderer& r, std::string& out)
          : consumers(c), renderer(r), rendered(out) {}
      void on_session(const engine::SessionRecord& r) override {
        char line[channel::SessionChannel::kPreparedLineBytes];
        const size_t n = renderer.render(r, line, sizeof(line));
        ASSERT_GT(n, 0u);
        rendered.append(line, n);
        char expected[output::kMaxLine];
        const size_t e =
            output::SessionJsonWriter::render(r, {output::SessionFlavour::kEcs, 9, {}}, expected, sizeof(expected));
        EXPECT_EQ(std::string_view(line, n), std::string_view(expected, e));
        consumers.on_session(r);
      }
    } both(consumers, *renderer, rendered);
    engine::EngineConfig ec;
    ec.bucket_span_ns = 10 * kSec;
    ec.bucket_settle_ns = 30 * kSec;
    engine::SessionEngine engine(ec, both);
    engine.process_burst(pkts.data(), static_cast<uint32_t>(pkts.size()));
    engine.finish();
    consumers.finish();
    std::string error;
    ASSERT_TRUE(consumers.close(error)) << error;
  }
  const std::string written = sessions.read();
  EXPECT_EQ(rendered, written);
  EXPECT_NE(written.find("\"network\":{\"transport\":\"tcp\""), std::string::npos) << written;
}

TEST(Consumers, NoSessionOutputNoRenderer) {
  test::TempFile buckets("synscope-consumers-b");
  ConsumerConfig c;
  c.buckets_out = buckets.path();
  Consumers consumers(c);
  EXPECT_EQ(consumers.session_line_renderer(), nullptr);
}

TEST(Consumers, AnUnopenableOutputIsAnOutputErrorNamingIt) {
  ConsumerConfig c;
  c.buckets_out = "/nonexistent/dir/buckets.jsonl";
  try {
    Consumers consumers(c);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kOutput);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/buckets.jsonl"), std::string::npos) << e.what();
  }
}

TEST(Consumers, CloseReportsAFullDevice) {
  ConsumerConfig c;
  c.sessions_out = "/dev/full";
  Consumers consumers(c);
  tcp_session::Session s;
  engine::SessionRecord r;
  r.session = &s;
  consumers.on_session(r);
  std::string error;
  EXPECT_FALSE(consumers.close(error));
  EXPECT_NE(error.find("/dev/full"), std::string::npos) << error;
}

}  // namespace
}  // namespace synscope::consumers
