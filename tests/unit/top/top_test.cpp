// top: heavy hitters over sliding windows against exact counts (within the stated error bound), reasons,
// RST and SYN-retry kinds, window boundaries, late sessions, and fixed memory at many distinct keys.
#include "top/top.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include "tcp_session/tcp_session.hpp"

namespace synscope::top {
namespace {

constexpr uint64_t kSec = 1'000'000'000;
constexpr uint64_t kStart = 1'700'000'000 / 3600 * 3600 * kSec;  // an hour boundary

struct Fed {
  tcp_session::Session session;
  engine::SessionRecord record;
};

/// A session from client c to server s:p in state `state` starting at `t_ns`.
void add(TopViews& v, uint64_t t_ns, uint8_t c, uint8_t s, uint16_t p, tcp_session::ConnState state,
         uint32_t resp_rst = 0, uint32_t orig_rst = 0, uint32_t syns = 1) {
  Fed f;
  f.session.first_ns = t_ns;
  f.session.marks[0].rst = static_cast<uint16_t>(orig_rst);
  f.session.marks[0].syn = static_cast<uint16_t>(syns);
  f.session.marks[1].rst = static_cast<uint16_t>(resp_rst);
  f.record.session = &f.session;
  f.record.orig_h.bytes = {203, 0, 113, c};
  f.record.resp_h.bytes = {10, 0, 0, s};
  f.record.resp_p = p;
  f.record.state = state;
  v.add(f.record);
}

const View::List& list(const View& v, Window w, Kind k) {
  return v.lists[static_cast<size_t>(w)][static_cast<size_t>(k)];
}

TEST(TopViews, HeavyHittersMatchExactCountsWithinTheirErrorBound) {
  TopViews v(60 * kSec);
  std::mt19937_64 rng(11);
  std::map<std::string, uint64_t> exact_15m, exact_1h;
  // 50 minutes; server k (of 2000) fails with Zipf-like popularity: a few heavy hitters, a long tail.
  const uint64_t end_minute = 50;
  for (uint64_t m = 0; m < end_minute; ++m) {
    for (int i = 0; i < 400; ++i) {
      const auto k = static_cast<uint32_t>(std::floor(std::pow(2000.0, std::uniform_real_distribution<>(0, 1)(rng))));
      const auto s = static_cast<uint8_t>(k % 256);
      const auto port = static_cast<uint16_t>(1000 + k / 256);
      add(v, kStart + m * 60 * kSec + static_cast<uint64_t>(i) * 100'000'000, 1, s, port, tcp_session::ConnState::kREJ);
      const std::string key = "10.0.0." + std::to_string(s) + ":" + std::to_string(port);
      exact_1h[key] += 1;
      if (m + 15 >= end_minute) exact_15m[key] += 1;
    }
  }
  const View view = v.snapshot();
  for (const auto& [w, exact] : {std::pair{Window::k15m, &exact_15m}, std::pair{Window::k1h, &exact_1h}}) {
    const View::List& l = list(view, w, Kind::kServers);
    ASSERT_EQ(l.size, kShown);
    std::vector<std::pair<uint64_t, std::string>> truth;
    for (const auto& [key, n] : *exact) truth.emplace_back(n, key);
    std::sort(truth.rbegin(), truth.rend());
    for (size_t i = 0; i < l.size; ++i) {
      const Counter& c = l.entries[i];
      const std::string key = key_text(Kind::kServers, c.key);
      const uint64_t n = exact->count(key) ? exact->at(key) : 0;
      EXPECT_GE(c.count, n) << key;            // never under-estimated
      EXPECT_LE(c.count - c.error, n) << key;  // the error bound holds
      EXPECT_EQ(c.reasons[0], 0u);             // only REJ ("rejected", reason 1) was fed
      EXPECT_LE(c.reasons[1], c.count);        // reasons count what the key's counters saw: at most its count
    }
    // The three heaviest servers are found, in order.
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(key_text(Kind::kServers, l.entries[i].key), truth[i].second);
      EXPECT_GE(l.entries[i].reasons[1], l.entries[i].count - l.entries[i].error);
    }
  }
  EXPECT_EQ(view.to_s[1] - view.from_s[1], 15u * 60);
  EXPECT_EQ(view.to_s[2] - view.from_s[2], 60u * 60);
}

TEST(TopViews, KindsReasonsAndWindows) {
  TopViews v(60 * kSec);
  const uint64_t t = kStart + 30 * 60 * kSec;
  for (int i = 0; i < 5; ++i) add(v, t, 7, 1, 443, tcp_session::ConnState::kS0, 0, 0, 3);  // 2 SYN retries each
  for (int i = 0; i < 3; ++i) add(v, t, 8, 1, 443, tcp_session::ConnState::kREJ, 1);       // server RSTs
  add(v, t, 9, 2, 80, tcp_session::ConnState::kSF, 0, 1);                                  // client RST, not failed
  add(v, t - 20 * 60 * kSec, 9, 3, 22, tcp_session::ConnState::kREJ, 1);                   // 20 minutes earlier
  v.on_bucket(t);
  const View view = v.snapshot();
  const View::List& servers = list(view, Window::k15m, Kind::kServers);
  ASSERT_EQ(servers.size, 1u);  // the 22/tcp failure is outside the last 15 minutes
  EXPECT_EQ(key_text(Kind::kServers, servers.entries[0].key), "10.0.0.1:443");
  EXPECT_EQ(servers.entries[0].count, 8u);
  EXPECT_EQ(servers.entries[0].reasons[0], 5u);  // no_reply
  EXPECT_EQ(servers.entries[0].reasons[1], 3u);  // rejected
  EXPECT_EQ(list(view, Window::k1h, Kind::kServers).size, 2u);
  EXPECT_EQ(list(view, Window::kBucket, Kind::kServers).entries[0].count, 8u);
  const View::List& clients = list(view, Window::k15m, Kind::kClients);
  ASSERT_EQ(clients.size, 2u);
  EXPECT_EQ(key_text(Kind::kClients, clients.entries[0].key), "203.0.113.7");
  EXPECT_EQ(list(view, Window::k15m, Kind::kServerPorts).entries[0].count, 8u);
  EXPECT_EQ(key_text(Kind::kConversations, list(view, Window::k15m, Kind::kConversations).entries[0].key),
            "203.0.113.7 -> 10.0.0.1:443");
  EXPECT_EQ(list(view, Window::k15m, Kind::kServerRst).entries[0].count, 3u);
  EXPECT_EQ(key_text(Kind::kClientRst, list(view, Window::k15m, Kind::kClientRst).entries[0].key), "203.0.113.9");
  EXPECT_EQ(list(view, Window::k15m, Kind::kSynRetries).entries[0].count, 10u);
}

TEST(TopViews, SessionsOlderThanADayAreCountedAsLate) {
  TopViews v(60 * kSec);
  add(v, kStart + 2 * 86400 * kSec, 1, 1, 80, tcp_session::ConnState::kREJ);
  add(v, kStart, 1, 1, 80, tcp_session::ConnState::kREJ);
  const View view = v.snapshot();
  EXPECT_EQ(view.late_sessions, 1u);
  EXPECT_EQ(list(view, Window::k24h, Kind::kServers).entries[0].count, 1u);
}

// A million distinct clients (one failed session each) over 50 minutes: the one server they all tried is
// counted exactly, and the clients' list is full (each with its error bound); memory is the fixed slots.
TEST(TopViews, AMillionDistinctClientsKeepTheServerExact) {
  TopViews v(60 * kSec);
  for (uint32_t i = 0; i < 1'000'000; ++i) {
    Fed f;
    f.session.first_ns = kStart + (i / 20'000) * 60 * kSec;
    f.record.session = &f.session;
    f.record.orig_h.bytes = {10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
    f.record.resp_h.bytes = {10, 0, 0, 1};
    f.record.resp_p = 443;
    f.record.state = tcp_session::ConnState::kS0;
    v.add(f.record);
  }
  const View view = v.snapshot();
  EXPECT_EQ(list(view, Window::k1h, Kind::kServers).entries[0].count, 1'000'000u);
  const View::List& clients = list(view, Window::k1h, Kind::kClients);
  EXPECT_EQ(clients.size, kShown);
  for (size_t i = 0; i < clients.size; ++i) EXPECT_LE(clients.entries[i].count - clients.entries[i].error, 1u);
}

}  // namespace
}  // namespace synscope::top
