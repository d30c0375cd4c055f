// live: the lcore roles without EAL or ports. A test thread plays a spread RX core (Spreader + FeedState),
// two EngineCores run on threads, the StatsCore merges their sessions on this thread: the bucket records
// equal a single engine's over the same packets, and every session arrives once. Spreader: both
// directions of a flow reach one engine; a full channel drops and counts unless lossless.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "consumers/consumers.hpp"
#include "lcore/engine_core.hpp"
#include "lcore/spreader.hpp"
#include "live/stats_core.hpp"
#include "support/files.hpp"
#include "support/outputs.hpp"
#include "support/packets.hpp"

namespace synscope::live {
namespace {

constexpr uint64_t kSec = 1'000'000'000;
using Channel = channel::BurstChannel<channel::Burst>;

engine::EngineConfig engine_config() {
  engine::EngineConfig ec;
  ec.bucket_span_ns = 10 * kSec;
  ec.bucket_settle_ns = 30 * kSec;
  ec.flow_capacity = 1 << 16;
  return ec;
}

consumers::ConsumerConfig consumer_config(const test::TempFile& sessions, const test::TempFile& buckets) {
  consumers::ConsumerConfig c;
  c.sessions_out = sessions.path();
  c.buckets_out = buckets.path();
  c.bucket_span_ns = 10 * kSec;
  c.bucket_settle_ns = 30 * kSec;
  return c;
}

std::unique_ptr<lcore::FlowOwner> make_owner(uint16_t core) {
  auto owner = std::make_unique<lcore::FlowOwner>();
  owner->sessions = std::make_unique<channel::SessionChannel>(64);  // small: the merge's backpressure runs
  engine::EngineConfig ec = engine_config();
  ec.core_id = core;
  owner->engine = std::make_unique<engine::SessionEngine>(ec, *owner->sessions);
  return owner;
}

TEST(LiveRoles, TwoEngineCoresMergedEqualOneEngine) {
  const std::vector<engine::ParsedPacket> pkts = test::mixed_sessions(6000, 5);

  test::TempFile ref_sessions("synscope-live-s"), ref_buckets("synscope-live-b");
  {
    consumers::Consumers consumers(consumer_config(ref_sessions, ref_buckets));
    engine::SessionEngine engine(engine_config(), consumers);
    for (size_t i = 0; i < pkts.size(); i += 32) {
      engine.process_burst(&pkts[i], static_cast<uint32_t>(std::min<size_t>(32, pkts.size() - i)));
    }
    engine.finish(engine::EndReason::kShutdown);  // as the live roles end their engines
    consumers.finish();
    std::string error;
    ASSERT_TRUE(consumers.close(error)) << error;
  }

  test::TempFile sessions("synscope-live-s"), buckets("synscope-live-b");
  const lcore::TscClock clock;
  std::vector<std::unique_ptr<lcore::FlowOwner>> owners;
  std::vector<std::unique_ptr<Channel>> channels;
  lcore::FeedState feed;
  std::vector<std::unique_ptr<lcore::EngineCore>> cores;
  for (uint16_t e = 0; e < 2; ++e) {
    owners.push_back(make_owner(e));
    channels.push_back(std::make_unique<Channel>(8));
    cores.push_back(std::make_unique<lcore::EngineCore>(
        std::vector<lcore::EngineCore::Input>{{channels.back().get(), &feed}}, *owners.back(), clock));
  }
  {
    StatsCore stats(consumer_config(sessions, buckets), {owners[0].get(), owners[1].get()}, clock);
    std::vector<std::thread> threads;
    for (auto& c : cores) threads.emplace_back([&c] { c->run(); });
    std::thread rx([&] {
      lcore::Spreader spreader({channels[0].get(), channels[1].get()}, engine_config().hasher, /*lossless=*/true);
      for (size_t i = 0; i < pkts.size(); i += 32) {
        const auto n = static_cast<uint32_t>(std::min<size_t>(32, pkts.size() - i));
        EXPECT_EQ(spreader.spread(&pkts[i], n), 0u);
        spreader.flush();
        feed.time_ns.store(pkts[i + n - 1].ts_ns, std::memory_order_release);
      }
      feed.done.store(true, std::memory_order_release);
    });
    while (!stats.engines_done()) (void)stats.poll_once();
    rx.join();
    for (auto& t : threads) t.join();
    stats.finish();
    std::string error;
    ASSERT_TRUE(stats.close(error)) << error;
    const StatsCoreStats published = stats.mirror.read();
    EXPECT_EQ(published.sessions_written, 6000u);
    EXPECT_EQ(published.consumer_errors, 0u);
  }
  EXPECT_GT(owners[0]->engine->counters().sessions, 1000u);  // both engines had work
  EXPECT_GT(owners[1]->engine->counters().sessions, 1000u);
  EXPECT_EQ(owners[0]->engine->counters().sessions + owners[1]->engine->counters().sessions, 6000u);
  EXPECT_EQ(buckets.read(), ref_buckets.read());
  EXPECT_EQ(test::sorted_lines_without_uids(sessions.read()), test::sorted_lines_without_uids(ref_sessions.read()));
}

TEST(Spreader, BothDirectionsOfAFlowReachOneEngine) {
  std::vector<std::unique_ptr<Channel>> channels;
  for (int e = 0; e < 3; ++e) channels.push_back(std::make_unique<Channel>(1024));
  lcore::Spreader spreader({channels[0].get(), channels[1].get(), channels[2].get()}, flow::FlowHasher(), true);
  const std::vector<engine::ParsedPacket> pkts = test::mixed_sessions(500, 9);
  for (size_t i = 0; i < pkts.size(); i += 32) {
    (void)spreader.spread(&pkts[i], static_cast<uint32_t>(std::min<size_t>(32, pkts.size() - i)));
  }
  spreader.flush();
  // Every flow key seen on exactly one engine.
  std::vector<std::pair<flow::FlowKey, int>> seen;
  size_t total = 0;
  for (int e = 0; e < 3; ++e) {
    while (channel::Burst* b = channels[e]->try_receive()) {
      for (uint32_t i = 0; i < b->n; ++i) {
        bool from_lo;
        seen.emplace_back(flow::make_key(b->pkts[i].meta, from_lo), e);
      }
      total += b->n;
      channels[e]->release(b);
    }
  }
  EXPECT_EQ(total, pkts.size());
  for (const auto& [key, engine] : seen) {
    for (const auto& [other, other_engine] : seen) {
      if (key == other) {
        ASSERT_EQ(engine, other_engine);
      }
    }
  }
}

TEST(Spreader, AFullChannelDropsAndCountsUnlessLossless) {
  Channel channel(2);  // two bursts in flight at most
  lcore::Spreader spreader({&channel}, flow::FlowHasher(), /*lossless=*/false);
  const std::vector<engine::ParsedPacket> pkts = test::mixed_sessions(100, 1);
  ASSERT_GE(pkts.size(), 3 * channel::kBurstSize);
  // Nobody consumes: two full bursts fit, everything after is dropped and counted.
  const uint32_t dropped = spreader.spread(pkts.data(), 3 * channel::kBurstSize);
  EXPECT_EQ(dropped, channel::kBurstSize);
  EXPECT_EQ(channel.queued(), 2u);
}

}  // namespace
}  // namespace synscope::live
