// alerts: Space-Saving keeps the heavy hitters; AlertEngine fires on a surge with attribution, fills empty
// buckets with zeros, and resolves.
#include "alerts/alerts.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "support/files.hpp"

namespace synscope::alerts {
namespace {

TEST(SpaceSaving, FindsTheHeavyHittersInBoundedMemory) {
  SpaceSaving<int, 8> ss;
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    const int r = static_cast<int>(rng() % 100);
    ss.add(r < 30 ? 1 : r < 45 ? 2 : 1000 + static_cast<int>(rng() % 5000));  // two heavy keys, long tail
  }
  const auto top = ss.top(2);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].key, 1);
  EXPECT_EQ(top[1].key, 2);
  EXPECT_GE(top[0].count, 6000u);  // never under-estimates
}

constexpr uint64_t kSec = 1'000'000'000;

TEST(AlertEngine, FiresWithAttributionAndResolves) {
  const test::TempFile alerts_file("synscope-alerts-test");
  {
    output::OutputFile out(alerts_file.path());
    AlertConfig cfg;
    cfg.bucket_span_ns = 900 * kSec;
    cfg.bucket_settle_ns = 3600 * kSec;
    AlertEngine engine(cfg, out);
    std::mt19937 rng(3);
    const uint64_t start = 1699920000;  // midnight UTC
    tcp_session::Session s;
    for (uint64_t t = start; t < start + 3 * 86400; t += 900) {
      const bool surge = t >= start + 2 * 86400 + 14 * 3600 && t < start + 2 * 86400 + 15 * 3600;
      buckets::Bucket b;
      b.start_ns = t * kSec;
      b.span_ns = 900 * kSec;
      auto& c = b.by_perspective[static_cast<size_t>(buckets::Perspective::kInbound)];
      c.failed = 4 + rng() % 4;
      c.by_state[static_cast<size_t>(tcp_session::ConnState::kS0)] = c.failed;
      if (surge) {
        c.failed += 60;
        c.by_state[static_cast<size_t>(tcp_session::ConnState::kREJ)] = 60;
        engine::SessionRecord r;  // the refused sessions, all to one server
        r.session = &s;
        s.first_ns = t * kSec + 1;
        r.state = tcp_session::ConnState::kREJ;
        r.perspective = buckets::Perspective::kInbound;
        r.resp_h.bytes[0] = 10, r.resp_h.bytes[3] = 7;
        r.resp_p = 443;
        for (int i = 0; i < 60; ++i) engine.on_session(r);
      }
      if (t % 7200 == 0 && !surge) continue;  // some buckets are never emitted: zeros for the model
      engine.on_bucket(b);
    }
    EXPECT_EQ(engine.firing(), 0u);  // resolved after the surge
    ASSERT_TRUE(out.flush());
  }
  std::ifstream in(alerts_file.path());
  std::string line, firing, resolved;
  while (std::getline(in, line)) {
    if (line.find("\"state\":\"firing\"") != std::string::npos && firing.empty()) firing = line;
    if (line.find("\"state\":\"resolved\"") != std::string::npos) resolved = line;
  }
  ASSERT_FALSE(firing.empty()) << "no alert for a 10x surge";
  EXPECT_NE(firing.find("\"perspective\":\"inbound\""), std::string::npos) << firing;
  EXPECT_NE(firing.find("\"ts\":1700143200"), std::string::npos) << firing;  // day 3, 14:00
  EXPECT_NE(firing.find("{\"kind\":\"conn_state\",\"value\":\"REJ\",\"count\":60}"), std::string::npos) << firing;
  EXPECT_NE(firing.find("{\"kind\":\"server\",\"value\":\"10.0.0.7:443\",\"count\":60}"), std::string::npos) << firing;
  EXPECT_FALSE(resolved.empty());
}

// The total series (perspective "all") fires on a rise spread thinly over the four perspectives, which no
// perspective series can tell from noise, and stays silent (its alert covered) when one perspective's own
// series already reports a surge.
TEST(AlertEngine, TotalSeriesCatchesASpreadRiseAndDefersToPerspectiveAlerts) {
  const test::TempFile alerts_file("synscope-alerts-total-test");
  const uint64_t start = 1699920000;  // midnight UTC
  const uint64_t rise = start + 2 * 86400 + 3 * 3600, surge = start + 2 * 86400 + 14 * 3600;
  uint32_t firing_at_end = 1;
  {
    output::OutputFile out(alerts_file.path());
    AlertConfig cfg;
    cfg.bucket_span_ns = 900 * kSec;
    cfg.bucket_settle_ns = 3600 * kSec;
    AlertEngine engine(cfg, out);
    for (uint64_t t = start; t < start + 3 * 86400; t += 900) {
      buckets::Bucket b;
      b.start_ns = t * kSec;
      b.span_ns = 900 * kSec;
      for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) {
        auto& c = b.by_perspective[p];
        c.failed = 1 + (t / 900 + p) % 2;
        if (t == rise) c.failed += 5;  // +20 in all, +5 in each perspective
        if (t == surge && p == 0) c.failed += 60;
        c.by_state[static_cast<size_t>(tcp_session::ConnState::kSH)] = c.failed;
      }
      engine.on_bucket(b);
    }
    firing_at_end = engine.firing();
    ASSERT_TRUE(out.flush());
  }
  std::ifstream in(alerts_file.path());
  std::string line;
  std::vector<std::string> at_rise, at_surge, elsewhere;
  bool all_resolved = false;
  while (std::getline(in, line)) {
    if (line.find("\"state\":\"resolved\"") != std::string::npos) {
      all_resolved = all_resolved || line.find("\"perspective\":\"all\"") != std::string::npos;
      continue;
    }
    (line.find("\"ts\":" + std::to_string(rise)) != std::string::npos    ? at_rise
     : line.find("\"ts\":" + std::to_string(surge)) != std::string::npos ? at_surge
                                                                         : elsewhere)
        .push_back(line);
  }
  ASSERT_EQ(at_rise.size(), 1u) << "the spread rise must raise exactly the total's alert";
  EXPECT_NE(at_rise[0].find("\"perspective\":\"all\",\"partition\":\"all\",\"actual\":26"), std::string::npos)
      << at_rise[0];
  EXPECT_NE(at_rise[0].find("{\"kind\":\"conn_state\",\"value\":\"SH\",\"count\":26}"), std::string::npos)
      << at_rise[0];
  ASSERT_EQ(at_surge.size(), 1u) << "the one-perspective surge must raise that perspective's alert only";
  EXPECT_NE(at_surge[0].find("\"perspective\":\"inbound\""), std::string::npos) << at_surge[0];
  EXPECT_TRUE(elsewhere.empty()) << elsewhere.front();
  EXPECT_TRUE(all_resolved);
  EXPECT_EQ(firing_at_end, 0u);
}

}  // namespace
}  // namespace synscope::alerts

namespace synscope::alerts {
namespace {

buckets::Bucket bucket_at(uint64_t t, uint64_t failed) {
  buckets::Bucket b;
  b.start_ns = t * kSec;
  b.span_ns = 900 * kSec;
  b.by_perspective[0].failed = failed;
  return b;
}

TEST(AlertEngine, SavedModelContinuesExactlyAndBadFilesGiveAFreshModel) {
  const test::TempFile model("synscope-alerts-model"), out_a("synscope-alerts-a"), out_b("synscope-alerts-b");
  AlertConfig cfg;
  // 300 s record buckets summed into 900 s detector buckets, saved in the middle of one: the open detector
  // bucket's sums are part of the model, so the restarted run scores it whole, as the uninterrupted one.
  cfg.bucket_span_ns = 300 * kSec;
  cfg.bucket_settle_ns = 3600 * kSec;
  cfg.policy.detector_bucket_s = 900;
  const uint64_t start = 1699920000, split = start + 2 * 86400 + 300, end = start + 3 * 86400;
  auto value = [](uint64_t t) { return 2 + (t / 900) % 4 + (t == 1700143200 ? 60 : 0); };  // surge day 3 14:00
  // Each bucket's failed sessions go to three servers, so per-server series are part of the saved model.
  tcp_session::Session s;
  auto feed = [&](AlertEngine& e, uint64_t t) {
    const uint64_t n = value(t);
    s.first_ns = t * kSec + 1;
    engine::SessionRecord r;
    r.session = &s;
    r.state = tcp_session::ConnState::kS0;
    r.perspective = buckets::Perspective::kInbound;
    r.resp_p = 22;
    for (uint64_t i = 0; i < n; ++i) {
      r.resp_h.bytes[3] = static_cast<uint8_t>(1 + i % 3);
      r.orig_h.bytes[3] = static_cast<uint8_t>(i);
      e.on_session(r);
    }
    e.on_bucket(bucket_at(t, n));
  };
  {  // uninterrupted
    output::OutputFile out(out_a.path());
    AlertEngine e(cfg, out);
    for (uint64_t t = start; t < end; t += 300) feed(e, t);
    EXPECT_EQ(e.server_series(), 3u);
    ASSERT_TRUE(out.flush());
  }
  {  // saved at the split, loaded into a new engine that carries on
    output::OutputFile out(out_b.path());
    std::array<detector::Scored, kPerspectiveSeries> saved{};
    {
      AlertEngine first(cfg, out);
      for (uint64_t t = start; t < split; t += 300) feed(first, t);
      std::string error;
      ASSERT_TRUE(first.save(model.path(), error)) << error;
      for (size_t p = 0; p < kPerspectiveSeries; ++p) saved[p] = first.last(p);
    }
    AlertEngine second(cfg, out);
    std::string warning;
    ASSERT_TRUE(second.load(model.path(), warning)) << warning;
    // The newest scores come back with the model: a restarted run's gauges are not zeros until a bucket settles.
    EXPECT_GT(saved[0].typical, 0);
    for (size_t p = 0; p < kPerspectiveSeries; ++p) {
      EXPECT_EQ(second.last(p).typical, saved[p].typical);
      EXPECT_EQ(second.last(p).score, saved[p].score);
    }
    EXPECT_EQ(second.server_series(), 3u);
    for (uint64_t t = split; t < end; t += 300) feed(second, t);
    ASSERT_TRUE(out.flush());
  }
  EXPECT_EQ(out_a.read(), out_b.read());
  EXPECT_NE(out_a.read().find("\"state\":\"firing\""), std::string::npos);
  EXPECT_NE(out_a.read().find("\"partition\":\"0.0.0.1:22\""), std::string::npos);  // a per-server alert too

  // Damaged or foreign files: a warning naming the problem, and a fresh model (no crash).
  const std::string good = model.read();
  const test::TempFile sink_file("synscope-alerts-c");
  output::OutputFile sink(sink_file.path());
  auto try_load = [&](const std::string& bytes, AlertConfig c = AlertConfig{}) {
    c.bucket_span_ns = c.bucket_span_ns == 60'000'000'000 ? 900 * kSec : c.bucket_span_ns;
    model.write(bytes);
    AlertEngine e(c, sink);
    std::string warning;
    EXPECT_FALSE(e.load(model.path(), warning));
    return warning;
  };
  EXPECT_NE(try_load(good.substr(0, good.size() / 2)).find("corrupt"), std::string::npos);
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x01;
  EXPECT_NE(try_load(flipped).find("corrupt"), std::string::npos);
  EXPECT_NE(try_load("not a model at all, just text").find("not a synscope model"), std::string::npos);
  AlertConfig other;
  other.bucket_span_ns = 60 * kSec + 1;
  model.write(good);
  {
    AlertEngine e(other, sink);
    std::string warning;
    EXPECT_FALSE(e.load(model.path(), warning));
    EXPECT_NE(warning.find("buckets"), std::string::npos) << warning;
  }
  {
    AlertConfig fewer = cfg;
    fewer.policy.server_series = 4;
    AlertEngine e(fewer, sink);
    std::string warning;
    EXPECT_FALSE(e.load(model.path(), warning));
    EXPECT_NE(warning.find("server series"), std::string::npos) << warning;
    EXPECT_EQ(e.server_series(), 0u);
  }
  {
    AlertEngine e(cfg, sink);
    std::string warning;
    EXPECT_FALSE(e.load(::testing::TempDir() + "/synscope-missing-model.bin", warning));
    EXPECT_NE(warning.find("not found"), std::string::npos);
  }
}

}  // namespace
}  // namespace synscope::alerts

namespace synscope::alerts {
namespace {

// Per-server series: six steady servers fail a few times per bucket; every bucket also brings new one-off
// servers with two failures each (churn that competes for the 8 series). Server 10.0.0.2:80 then refuses
// 25 more in one bucket — invisible in a noisy total, plain in its own series. The series set stays at its
// capacity, the steady servers keep their series (and history) through the churn, and only the outage fires
// among the per-server series.
TEST(AlertEngine, PerServerSeriesAreBoundedAndFindOneServersOutage) {
  const test::TempFile alerts_file("synscope-alerts-servers-test");
  uint32_t tracked = 0;
  {
    output::OutputFile out(alerts_file.path());
    AlertConfig cfg;
    cfg.bucket_span_ns = 900 * kSec;
    cfg.bucket_settle_ns = 3600 * kSec;
    cfg.policy.server_series = 8;
    AlertEngine engine(cfg, out);
    std::mt19937 rng(5);
    const uint64_t start = 1699920000;
    const uint64_t outage = start + 2 * 86400 + 14 * 3600;
    tcp_session::Session s;
    uint32_t one_off = 0;
    for (uint64_t t = start; t < start + 3 * 86400; t += 900) {
      s.first_ns = t * kSec + 1;
      uint64_t failed = 0;
      auto fail_at = [&](uint8_t b2, uint8_t b3, uint16_t port, uint64_t n) {
        engine::SessionRecord r;
        r.session = &s;
        r.state = tcp_session::ConnState::kREJ;
        r.perspective = buckets::Perspective::kInbound;
        r.resp_h.bytes[0] = 10, r.resp_h.bytes[2] = b2, r.resp_h.bytes[3] = b3;
        r.resp_p = port;
        for (uint64_t i = 0; i < n; ++i) {  // many clients: no client-over-server alert
          r.orig_h.bytes[0] = 203, r.orig_h.bytes[2] = static_cast<uint8_t>(rng()),
          r.orig_h.bytes[3] = static_cast<uint8_t>(rng());
          engine.on_session(r);
        }
        failed += n;
      };
      for (uint8_t k = 0; k < 6; ++k) fail_at(0, k, 80, 2 + rng() % 4);
      for (int k = 0; k < 3; ++k, ++one_off) fail_at(static_cast<uint8_t>(1 + one_off / 250), one_off % 250, 8080, 2);
      failed += rng() % 60;  // failures spread over many servers: the total is noisy
      if (t == outage) fail_at(0, 2, 80, 25);
      buckets::Bucket b;
      b.start_ns = t * kSec;
      b.span_ns = 900 * kSec;
      b.by_perspective[static_cast<size_t>(buckets::Perspective::kInbound)].failed = failed;
      engine.on_bucket(b);
      tracked = std::max(tracked, engine.server_series());
    }
  }
  EXPECT_EQ(tracked, 8u);
  std::ifstream in(alerts_file.path());
  std::string line, outage_line;
  std::vector<std::string> others;
  while (std::getline(in, line)) {
    if (line.find("\"state\":\"firing\"") == std::string::npos) continue;
    if (line.find("\"partition\":\"10.0.0.2:80\"") != std::string::npos) {
      outage_line = line;
    } else if (line.find("\"partition\":\"all\"") == std::string::npos) {  // per-server alerts only
      others.push_back(line);
    }
  }
  ASSERT_FALSE(outage_line.empty()) << "the outage of one tracked server raised no per-server alert";
  EXPECT_NE(outage_line.find("\"ts\":1700143200"), std::string::npos) << outage_line;
  EXPECT_NE(outage_line.find("{\"kind\":\"client\""), std::string::npos) << outage_line;
  EXPECT_TRUE(others.empty()) << others.size() << " other per-server alerts, first: " << others.front();
}

/// Three days of 60-second record buckets summed by the detector into 5-minute buckets: 40 servers failing now
/// and then at a steady rate, and from `begin` on a server that never failed refusing `refusals(minute)`
/// connections in each minute of the last hour. Buckets are emitted when they settle (the default
/// --bucket-settle, seven minutes after their sessions), as the engine does. Returns the first firing alert
/// of the new server's own series (0: none) and the other per-server alerts.
struct NewServerRun {
  uint64_t first_alert = 0;
  std::vector<std::string> others;
};
template <class Refusals>
NewServerRun new_server_run(uint64_t begin, Refusals refusals) {
  const test::TempFile file("synscope-alerts-sixty");
  const std::string& path = file.path();
  const uint64_t start = begin - 2 * 86400 - 14 * 3600;
  {
    output::OutputFile out(path);
    AlertConfig cfg;
    cfg.bucket_span_ns = 60 * kSec;
    cfg.bucket_settle_ns = 360 * kSec;
    cfg.policy.server_series = 64;
    AlertEngine engine(cfg, out);
    EXPECT_EQ(engine.detector_span_ns(), 300 * kSec);
    std::mt19937 rng(3);
    tcp_session::Session s;
    std::deque<buckets::Bucket> settling;
    for (uint64_t t = start; t < begin + 3600; t += 60) {
      s.first_ns = t * kSec + 1;
      uint64_t failed = 0;
      auto fail_at = [&](uint8_t b3, uint64_t n) {
        engine::SessionRecord r;
        r.session = &s;
        r.state = tcp_session::ConnState::kREJ;
        r.perspective = buckets::Perspective::kInbound;
        r.resp_h.bytes[0] = 10, r.resp_h.bytes[3] = b3;
        r.resp_p = 5432;
        for (uint64_t i = 0; i < n; ++i) {
          r.orig_h.bytes[0] = 203, r.orig_h.bytes[2] = static_cast<uint8_t>(rng()),
          r.orig_h.bytes[3] = static_cast<uint8_t>(rng());
          engine.on_session(r);
        }
        failed += n;
      };
      for (uint8_t k = 1; k <= 40; ++k) fail_at(k, std::poisson_distribution<int>(0.05)(rng));  // 3 an hour each
      if (t >= begin) fail_at(200, refusals((t - begin) / 60, rng));
      buckets::Bucket b;
      b.start_ns = t * kSec;
      b.span_ns = 60 * kSec;
      b.by_perspective[static_cast<size_t>(buckets::Perspective::kInbound)].failed = failed;
      settling.push_back(b);
      if (settling.size() > 7) {  // span + settle later
        engine.on_bucket(settling.front());
        settling.pop_front();
      }
    }
    for (const buckets::Bucket& b : settling) engine.on_bucket(b);
  }
  NewServerRun run;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("\"state\":\"firing\"") == std::string::npos) continue;
    if (line.find("\"partition\":\"10.0.0.200:5432\"") != std::string::npos) {
      if (run.first_alert == 0) run.first_alert = std::stoull(line.substr(line.find("\"ts\":") + 5));
      EXPECT_NE(line.find("\"window\":"), std::string::npos) << line;
    } else if (line.find("\"partition\":\"all\"") == std::string::npos) {
      run.others.push_back(line);
    }
  }
  return run;
}

// A server that never failed (admitted at its first failed session, with the one-failure-a-day prior) and
// then refuses 1-4 connections per 5 minutes, spread over the minutes, fires its own series within 3
// detector buckets, while the 40 others raise nothing over three days.
TEST(AlertEngine, NeverFailingServerAlertsWithSixtySecondRecordBuckets) {
  const uint64_t begin = 1699920000 + 2 * 86400 + 14 * 3600;
  uint32_t to_send = 0;
  const NewServerRun run = new_server_run(begin, [&](uint64_t minute, std::mt19937& rng) -> uint64_t {
    if (minute % 5 == 0) to_send = std::uniform_int_distribution<uint32_t>(1, 4)(rng);
    const bool send = to_send > 0 && (rng() % 2 == 0 || minute % 5 == 4);  // spread over the five minutes
    if (send) --to_send;
    return send ? 1 : 0;
  });
  ASSERT_NE(run.first_alert, 0u) << "the new server's refusals raised no per-server alert";
  EXPECT_LE(run.first_alert, begin + 2 * 300) << "more than 3 detector buckets late";
  EXPECT_TRUE(run.others.empty()) << run.others.size() << " other per-server alerts, first: " << run.others.front();
}

// Admitted when its first record bucket settles, the server's refusals in the buckets still open then (seven
// minutes of them) are its counts too: three refusals in the first minutes of its first detector bucket fire
// that bucket.
TEST(AlertEngine, AServerAdmittedWhileLaterBucketsAreOpenKeepsTheirCounts) {
  const uint64_t begin = 1699920000 + 2 * 86400 + 14 * 3600;
  const NewServerRun run =
      new_server_run(begin, [](uint64_t minute, std::mt19937&) -> uint64_t { return minute % 5 < 3 ? 1 : 0; });
  EXPECT_EQ(run.first_alert, begin);
  EXPECT_TRUE(run.others.empty()) << run.others.size() << " other per-server alerts, first: " << run.others.front();
}

}  // namespace
}  // namespace synscope::alerts
