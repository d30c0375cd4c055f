// SessionEngine: frame accounting, reuse, eviction when full, expiry, perspectives; NetworkSet against its
// definition.
#include "engine/engine.hpp"
#include "engine/uid_text.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "support/packets.hpp"

namespace synscope::engine {
namespace {

namespace tf = packet::tcp_flag;
using test::tcp_pkt;
constexpr uint64_t kSec = 1'000'000'000;

struct Sessions : SessionSink {
  std::vector<std::pair<tcp_session::ConnState, EndReason>> got;
  std::vector<buckets::Perspective> perspectives;
  void on_session(const SessionRecord& r) override {
    got.emplace_back(r.state, r.end);
    perspectives.push_back(r.perspective);
  }
};

// Base 62, least significant digit first, one digit at least: the definition, one digit per division.
std::string uid_by_definition(uint64_t uid) {
  static constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string text = "C";
  do {
    text += kDigits[uid % 62];
    uid /= 62;
  } while (uid != 0);
  return text;
}

TEST(FormatUid, MatchesBase62AtEveryDigitBoundaryAndAtRandom) {
  std::vector<uint64_t> values = {0, UINT64_MAX, UINT64_MAX - 1};
  for (uint64_t p = 1; p <= UINT64_MAX / 62; p *= 62) {
    for (uint64_t v : {p - 1, p, p + 1, p * 61, p * 62 - 1}) values.push_back(v);
  }
  std::mt19937_64 rng(5);
  for (int i = 0; i < 100000; ++i) values.push_back(rng() >> (rng() % 64));
  for (uint64_t v : values) {
    char buf[24];
    ASSERT_EQ(std::string(buf, format_uid(v, buf)), uid_by_definition(v)) << v;
  }
}

TEST(Engine, EveryFrameIsAccountedFor) {
  EngineConfig cfg;
  cfg.flow_capacity = 16;
  Sessions out;
  SessionEngine e(cfg, out);
  std::vector<ParsedPacket> burst;
  burst.push_back(tcp_pkt(kSec, 1, 40000, true, tf::kSyn, 100));
  ParsedPacket udp;
  udp.frame_class = packet::FrameClass::kNotTcp;
  burst.push_back(udp);
  ParsedPacket trunc;
  trunc.frame_class = packet::FrameClass::kTruncated;
  burst.push_back(trunc);
  ParsedPacket frag;
  frag.frame_class = packet::FrameClass::kFragment;
  burst.push_back(frag);
  ParsedPacket bad = tcp_pkt(kSec, 1, 40000, false, tf::kSyn | tf::kAck, 500, 101);
  bad.frame_class = packet::FrameClass::kBadChecksum;
  burst.push_back(bad);
  e.process_burst(burst.data(), static_cast<uint32_t>(burst.size()));
  e.finish();
  const EngineCounters& c = e.counters();
  EXPECT_EQ(c.received, 5u);
  EXPECT_EQ(c.accounted(), c.received);
  EXPECT_EQ(c.by_frame_class[static_cast<size_t>(packet::FrameClass::kTcp)], 1u);
  EXPECT_EQ(c.by_frame_class[static_cast<size_t>(packet::FrameClass::kBadChecksum)], 1u);
  ASSERT_EQ(out.got.size(), 1u);
  EXPECT_EQ(out.got[0].first, tcp_session::ConnState::kS0);  // the bad-checksum SYN-ACK was ignored
}

TEST(Engine, PortReuseStartsNewConnection) {
  EngineConfig cfg;
  Sessions out;
  SessionEngine e(cfg, out);
  std::vector<ParsedPacket> b = {
      tcp_pkt(1 * kSec, 1, 40000, true, tf::kSyn, 100),
      tcp_pkt(1 * kSec + 1000, 1, 40000, false, tf::kRst | tf::kAck, 0, 101),
      tcp_pkt(2 * kSec, 1, 40000, true, tf::kSyn, 900),  // new ISN on the same 5-tuple
      tcp_pkt(2 * kSec + 1000, 1, 40000, false, tf::kRst | tf::kAck, 0, 901),
  };
  e.process_burst(b.data(), static_cast<uint32_t>(b.size()));
  e.finish();
  ASSERT_EQ(out.got.size(), 2u);
  EXPECT_EQ(out.got[0].first, tcp_session::ConnState::kREJ);
  EXPECT_EQ(out.got[0].second, EndReason::kReuse);
  EXPECT_EQ(out.got[1].first, tcp_session::ConnState::kREJ);
}

TEST(Engine, RecordsSayHowTheConnectionEndedApartFromWhyItLeftTheTable) {
  struct Ends : SessionSink {
    std::vector<std::tuple<uint32_t, SessionEnd, EndReason>> got;  // the client's address, end, removed
    void on_session(const SessionRecord& r) override { got.emplace_back(r.orig_h.bytes[3], session_end(r), r.end); }
  };
  EngineConfig cfg;
  Ends out;
  SessionEngine e(cfg, out);
  std::vector<ParsedPacket> b = {
      // 1: closed with FIN by both sides, removed by the close delay's timer
      tcp_pkt(1 * kSec, 1, 40000, true, tf::kSyn, 100),
      tcp_pkt(1 * kSec + 10, 1, 40000, false, tf::kSyn | tf::kAck, 500, 101),
      tcp_pkt(1 * kSec + 20, 1, 40000, true, tf::kAck, 101, 501),
      tcp_pkt(1 * kSec + 30, 1, 40000, true, tf::kFin | tf::kAck, 101, 501),
      tcp_pkt(1 * kSec + 40, 1, 40000, false, tf::kFin | tf::kAck, 501, 102),
      tcp_pkt(1 * kSec + 50, 1, 40000, true, tf::kAck, 102, 502),
      // 2: refused (the responder's RST); 3: the originator aborts its attempt with a RST
      tcp_pkt(1 * kSec, 2, 40000, true, tf::kSyn, 100),
      tcp_pkt(1 * kSec + 10, 2, 40000, false, tf::kRst | tf::kAck, 0, 101),
      tcp_pkt(1 * kSec, 3, 40000, true, tf::kSyn, 100),
      tcp_pkt(1 * kSec + 10, 3, 40000, true, tf::kRst, 101),
      // 4: unanswered, removed by the attempt timer; 5: established, then a new SYN on its 5-tuple
      tcp_pkt(1 * kSec, 4, 40000, true, tf::kSyn, 100),
      tcp_pkt(1 * kSec, 5, 40000, true, tf::kSyn, 100),
      tcp_pkt(1 * kSec + 10, 5, 40000, false, tf::kSyn | tf::kAck, 500, 101),
      tcp_pkt(1 * kSec + 20, 5, 40000, true, tf::kAck, 101, 501),
      tcp_pkt(2 * kSec, 5, 40000, true, tf::kSyn, 9000),
      // 6: still open at the end of the run
      tcp_pkt(20 * kSec, 6, 40000, true, tf::kSyn, 100),
  };
  e.process_burst(b.data(), static_cast<uint32_t>(b.size()));
  e.finish(EndReason::kShutdown);
  std::map<uint32_t, std::vector<std::pair<SessionEnd, EndReason>>> by_client;
  for (const auto& [client, end, removed] : out.got) by_client[client].emplace_back(end, removed);
  auto only = [&](uint32_t client) {
    EXPECT_EQ(by_client[client].size(), client == 5 ? 2u : 1u) << client;
    return by_client[client].front();
  };
  EXPECT_EQ(only(1), std::make_pair(SessionEnd::kFin, EndReason::kTimeout));
  EXPECT_EQ(only(2), std::make_pair(SessionEnd::kRstResp, EndReason::kTimeout));
  EXPECT_EQ(only(3), std::make_pair(SessionEnd::kRstOrig, EndReason::kTimeout));
  EXPECT_EQ(only(4), std::make_pair(SessionEnd::kIdle, EndReason::kTimeout));
  EXPECT_EQ(only(5), std::make_pair(SessionEnd::kReused, EndReason::kReuse));
  EXPECT_EQ(only(6), std::make_pair(SessionEnd::kShutdown, EndReason::kShutdown));
  EXPECT_EQ(session_end_name(SessionEnd::kRstResp), "rst_resp");
  EXPECT_EQ(end_reason_name(EndReason::kShutdown), "shutdown");
}

TEST(Engine, CountsFramesPerEncapsulationWhateverTheirClass) {
  EngineConfig cfg;
  Sessions out;
  SessionEngine e(cfg, out);
  using packet::Encapsulation, packet::encapsulation_bit;
  std::vector<ParsedPacket> b = {tcp_pkt(1 * kSec, 1, 40000, true, tf::kSyn, 100),
                                 tcp_pkt(1 * kSec + 10, 1, 40000, false, tf::kSyn | tf::kAck, 500, 101),
                                 tcp_pkt(1 * kSec + 20, 1, 40000, true, tf::kAck, 101, 501)};
  b[0].encapsulations = encapsulation_bit(Encapsulation::kVlan) | encapsulation_bit(Encapsulation::kGre);
  b[1].encapsulations = encapsulation_bit(Encapsulation::kVlan);
  ParsedPacket not_tcp;
  not_tcp.ts_ns = 1 * kSec + 30;
  not_tcp.frame_class = packet::FrameClass::kNotTcp;
  not_tcp.encapsulations = encapsulation_bit(Encapsulation::kAyiya);
  b.push_back(not_tcp);
  e.process_burst(b.data(), static_cast<uint32_t>(b.size()));
  const auto& by = e.counters().by_encapsulation;
  EXPECT_EQ(by[static_cast<size_t>(Encapsulation::kVlan)], 2u);
  EXPECT_EQ(by[static_cast<size_t>(Encapsulation::kGre)], 1u);
  EXPECT_EQ(by[static_cast<size_t>(Encapsulation::kAyiya)], 1u);
  EXPECT_EQ(std::accumulate(by.begin(), by.end(), uint64_t{0}), 4u);
  EngineCounters sum;
  sum += e.counters();
  sum += e.counters();
  EXPECT_EQ(sum.by_encapsulation[static_cast<size_t>(Encapsulation::kVlan)], 4u);
}

TEST(Engine, VerdictIsCountedWhenTheConnectionClosesOnTheWire) {
  // Live counters must show a refused connection at the RST, not 5 s later when Zeek's close delay ends
  // and the record is written; each session is counted exactly once.
  EngineConfig cfg;
  Sessions out;
  SessionEngine e(cfg, out);
  std::vector<ParsedPacket> b = {
      tcp_pkt(1 * kSec, 1, 40000, true, tf::kSyn, 100),
      tcp_pkt(1 * kSec + 1000, 1, 40000, false, tf::kRst | tf::kAck, 0, 101),
      tcp_pkt(1 * kSec, 2, 40001, true, tf::kSyn, 100),  // still open: counted only when it ends
  };
  e.process_burst(b.data(), 3);
  const auto rej = static_cast<size_t>(tcp_session::ConnState::kREJ);
  const auto s0 = static_cast<size_t>(tcp_session::ConnState::kS0);
  const auto outbound = static_cast<size_t>(buckets::Perspective::kOutbound);
  EXPECT_TRUE(out.got.empty());  // the record waits for the close delay
  EXPECT_EQ(e.counters().by_state[rej][outbound], 1u);
  EXPECT_EQ(e.counters().failed[outbound], 1u);
  EXPECT_EQ(e.counters().teardown[static_cast<size_t>(Teardown::kRespRst)], 1u);
  EXPECT_EQ(e.counters().sessions, 1u);
  e.finish();
  ASSERT_EQ(out.got.size(), 2u);
  EXPECT_EQ(e.counters().sessions, 2u);
  EXPECT_EQ(e.counters().by_state[rej][outbound], 1u);
  EXPECT_EQ(e.counters().by_state[s0][outbound], 1u);
  EXPECT_EQ(e.counters().verdict_changed_after_close, 0u);
}

TEST(Engine, SynRetransmitAfterAttemptTimeoutIsANewAttempt) {
  EngineConfig cfg;
  Sessions out;
  SessionEngine e(cfg, out);
  std::vector<ParsedPacket> b = {tcp_pkt(1 * kSec, 1, 40000, true, tf::kSyn, 100),
                                 tcp_pkt(4 * kSec, 1, 40000, true, tf::kSyn, 100),
                                 tcp_pkt(10 * kSec, 1, 40000, true, tf::kSyn, 100)};
  e.process_burst(b.data(), 3);
  e.finish();
  ASSERT_EQ(out.got.size(), 2u);  // 1 s and 4 s are one attempt; 10 s is past the 5 s attempt timer
  EXPECT_EQ(out.got[0].second, EndReason::kTimeout);
  EXPECT_EQ(e.counters().syn_retransmits, 1u);
}

// Implausible time jumps (EngineConfig::max_time_jump_ns). Records as (state, end, first packet time),
// and the latest time the engine had settled to when it wrote one (what bucket consumers settle to).
struct TimedSessions : SessionSink {
  std::vector<std::tuple<tcp_session::ConnState, EndReason, uint64_t>> got;
  std::vector<uint64_t> settled;  ///< each record's settled_ns, in order
  uint64_t max_settled_ns = 0;
  void on_session(const SessionRecord& r) override {
    got.emplace_back(r.state, r.end, r.session->first_ns);
    settled.push_back(r.settled_ns);
    max_settled_ns = std::max(max_settled_ns, r.settled_ns);
  }
};

TimedSessions run_in_bursts(const EngineConfig& cfg, const std::vector<ParsedPacket>& pkts, EngineCounters* counters) {
  TimedSessions out;
  SessionEngine e(cfg, out);
  for (size_t i = 0; i < pkts.size(); i += 32) {
    e.process_burst(pkts.data() + i, static_cast<uint32_t>(std::min<size_t>(32, pkts.size() - i)));
  }
  e.finish();
  if (counters != nullptr) *counters = e.counters();
  return out;
}

constexpr uint64_t kThirtyYears = 30ull * 365 * 86400 * kSec;

// One frame stamped 30 years ahead used to move the engine's time for good: every open session ended
// "timeout", and every later record carried a settle time in 2053 (its buckets emitted, the rest late).
// Now it is held, the next frame (in the present) shows it was a stray, and it is dropped and counted.
TEST(Engine, AStrayTimestampIsDroppedAndCountedAndChangesNothingElse) {
  const std::vector<ParsedPacket> clean = test::mixed_sessions(400, 7);
  std::vector<ParsedPacket> with_stray = clean;
  ParsedPacket stray = tcp_pkt(clean[clean.size() / 2].ts_ns + kThirtyYears, 250, 1, true, tf::kSyn, 1, 0, 94);
  with_stray.insert(with_stray.begin() + static_cast<long>(clean.size() / 2), stray);
  EngineConfig cfg;
  EngineCounters ref_counters, counters;
  const TimedSessions ref = run_in_bursts(cfg, clean, &ref_counters);
  const TimedSessions got = run_in_bursts(cfg, with_stray, &counters);
  EXPECT_EQ(got.got, ref.got);
  EXPECT_EQ(got.max_settled_ns, ref.max_settled_ns);
  EXPECT_LT(got.max_settled_ns, clean.back().ts_ns + kSec);
  EXPECT_EQ(counters.dropped_implausible_time, 1u);
  EXPECT_EQ(counters.received, with_stray.size());
  EXPECT_EQ(counters.accounted(), counters.received);
  EXPECT_EQ(counters.time_jumps, 0u);
  EXPECT_EQ(ref_counters.dropped_implausible_time, 0u);
  // A run of strays shorter than the confirmation, and strays at the start, go the same way.
  std::vector<ParsedPacket> runs = clean;
  for (int k = 0; k < 7; ++k)
    runs.insert(runs.begin() + 100, tcp_pkt(runs[100].ts_ns + kThirtyYears, 251, 2, true, tf::kSyn, 1));
  runs.insert(runs.begin(), tcp_pkt(clean[0].ts_ns + kThirtyYears, 252, 3, true, tf::kSyn, 1));
  const TimedSessions got_runs = run_in_bursts(cfg, runs, &counters);
  EXPECT_EQ(got_runs.got, ref.got);
  EXPECT_EQ(counters.dropped_implausible_time, 8u);
  EXPECT_EQ(counters.accounted(), runs.size());
}

// Real gaps (a capture paused for two days, then several 10-minute silences with sessions left open across
// them) are confirmed by the frames after them: the records are exactly those of an engine that takes every
// jump at once, in the same order and with the same settle times (the sweeps of the held frames' bursts are
// replayed when they are released), and the jumps are counted.
TEST(Engine, ARealGapIsConfirmedAndGivesTheSameVerdicts) {
  std::vector<ParsedPacket> pkts = test::mixed_sessions(300, 11);
  const std::vector<ParsedPacket> later = test::mixed_sessions(300, 12, pkts.back().ts_ns + 2 * 86400 * kSec);
  pkts.insert(pkts.end(), later.begin(), later.end());
  for (uint64_t seed = 13; seed < 17; ++seed) {
    const std::vector<ParsedPacket> next = test::mixed_sessions(40, seed, pkts.back().ts_ns + 600 * kSec);
    pkts.insert(pkts.end(), next.begin(), next.end());
  }
  EngineConfig guarded;
  EngineConfig at_once;
  at_once.time_jump_frames = 1;
  EngineCounters counters, ref_counters;
  const TimedSessions got = run_in_bursts(guarded, pkts, &counters);
  const TimedSessions ref = run_in_bursts(at_once, pkts, &ref_counters);
  EXPECT_EQ(got.got, ref.got);
  EXPECT_EQ(got.settled, ref.settled);
  EXPECT_EQ(counters.time_jumps, 5u);
  EXPECT_EQ(counters.dropped_implausible_time, 0u);
  EXPECT_EQ(counters.accounted(), pkts.size());
  // Sparse traffic, every frame an hour after the one before: each gap is a jump, none is lost.
  std::vector<ParsedPacket> sparse;
  for (uint32_t i = 0; i < 40; ++i)
    sparse.push_back(tcp_pkt(1'700'000'000 * kSec + i * 3600 * kSec, 1, 40000 + i, true, tf::kSyn, 1));
  const TimedSessions got_sparse = run_in_bursts(guarded, sparse, &counters);
  EXPECT_EQ(got_sparse.got.size(), sparse.size());
  EXPECT_EQ(counters.dropped_implausible_time, 0u);
  EXPECT_EQ(counters.time_jump_unconfirmed_at_end, 0u);  // 40 frames: the last run of 8 confirmed too
}

// At the end of input held frames are processed with their own times but leave the clock alone, so a
// stray last frame cannot make the open sessions end by timeout; an idle advance() to a stray feeder time
// is ignored, one within the bound moves the clock.
TEST(Engine, UnconfirmedJumpAtTheEndAndImplausibleIdleTimeLeaveTheClock) {
  EngineConfig cfg;
  TimedSessions out;
  SessionEngine e(cfg, out);
  const uint64_t t0 = 1'700'000'000 * kSec;
  std::vector<ParsedPacket> b;
  for (uint32_t i = 0; i < 8; ++i) b.push_back(tcp_pkt(t0 + i * kSec / 10, 1, 40000, true, tf::kSyn, 100));
  b.push_back(tcp_pkt(t0 + kThirtyYears, 2, 40001, true, tf::kSyn, 100));
  e.process_burst(b.data(), static_cast<uint32_t>(b.size()));
  e.advance(t0 + kThirtyYears);
  EXPECT_LT(e.watermark_ns(), t0 + kSec);
  e.advance(t0 + 2 * kSec);
  EXPECT_EQ(e.watermark_ns(), t0 + 2 * kSec);
  e.finish();
  EXPECT_EQ(e.counters().time_jump_unconfirmed_at_end, 1u);
  EXPECT_EQ(e.counters().accounted(), b.size());
  ASSERT_EQ(out.got.size(), 2u);
  for (const auto& r : out.got) EXPECT_EQ(std::get<1>(r), EndReason::kEndOfInput);
}

TEST(Engine, FullTableEvictsSynOnlyFirstAndCounts) {
  EngineConfig cfg;
  cfg.flow_capacity = 4;
  Sessions out;
  SessionEngine e(cfg, out);
  std::vector<ParsedPacket> b;
  // Three established sessions and one SYN-only, then a fifth flow.
  for (uint8_t i = 1; i <= 3; ++i) {
    b.push_back(tcp_pkt(kSec, i, 40000, true, tf::kSyn, 100));
    b.push_back(tcp_pkt(kSec, i, 40000, false, tf::kSyn | tf::kAck, 500, 101));
  }
  b.push_back(tcp_pkt(kSec, 4, 40000, true, tf::kSyn, 100));
  b.push_back(tcp_pkt(kSec, 5, 40000, true, tf::kSyn, 100));
  e.process_burst(b.data(), static_cast<uint32_t>(b.size()));
  EXPECT_EQ(e.counters().evicted_syn_only, 1u);
  EXPECT_EQ(e.counters().evicted_other, 0u);
  ASSERT_EQ(out.got.size(), 1u);
  EXPECT_EQ(out.got[0].second, EndReason::kEvicted);
  EXPECT_EQ(out.got[0].first, tcp_session::ConnState::kS0);
  EXPECT_EQ(e.active_flows(), 4u);
  EXPECT_EQ(e.counters().accounted(), e.counters().received);
  // finish() reports the four still open and leaves an empty table that takes new flows.
  e.finish();
  ASSERT_EQ(out.got.size(), 5u);
  for (size_t i = 1; i < 5; ++i) EXPECT_EQ(out.got[i].second, EndReason::kEndOfInput) << i;
  EXPECT_EQ(e.active_flows(), 0u);
  const ParsedPacket again = tcp_pkt(kSec, 1, 40000, true, tf::kSyn, 100);
  e.process_burst(&again, 1);
  EXPECT_EQ(e.active_flows(), 1u);
  e.finish();
  ASSERT_EQ(out.got.size(), 6u);
  EXPECT_EQ(out.got[5].first, tcp_session::ConnState::kS0);
}

// A SYN flood ten times the table's size, while most of the table holds established sessions: the flood
// displaces only its own entries (oldest first), every established session keeps its entry and closes
// with its true verdict, and every eviction is counted.
TEST(Engine, SynFloodTenTimesTheTableEvictsOnlyItsOwnEntries) {
  EngineConfig cfg;
  cfg.flow_capacity = 1024;
  Sessions out;
  SessionEngine e(cfg, out);
  constexpr uint16_t kEstablished = 900;
  constexpr uint32_t kFlood = 10 * 1024;
  std::vector<ParsedPacket> b;
  uint64_t t = kSec;
  for (uint16_t i = 0; i < kEstablished; ++i) {
    const auto port = static_cast<uint16_t>(1000 + i);
    b.push_back(tcp_pkt(t, 1, port, true, tf::kSyn, 100));
    b.push_back(tcp_pkt(t + 1000, 1, port, false, tf::kSyn | tf::kAck, 500, 101));
    b.push_back(tcp_pkt(t + 2000, 1, port, true, tf::kAck, 101, 501));
    t += 10'000;
  }
  for (uint32_t j = 0; j < kFlood; ++j) {
    // Spoofed sources: a client address and port per SYN, towards another server.
    b.push_back(tcp_pkt(t, static_cast<uint8_t>(2 + j / 60000), static_cast<uint16_t>(1 + j % 60000), true, tf::kSyn, j,
                        0, 94));
    t += 100;
  }
  for (uint16_t i = 0; i < kEstablished; ++i) {
    const auto port = static_cast<uint16_t>(1000 + i);
    b.push_back(tcp_pkt(t, 1, port, true, tf::kFin | tf::kAck, 101, 501));
    b.push_back(tcp_pkt(t + 1000, 1, port, false, tf::kFin | tf::kAck, 501, 102));
    b.push_back(tcp_pkt(t + 2000, 1, port, true, tf::kAck, 102, 502));
    t += 10'000;
  }
  for (size_t i = 0; i < b.size(); i += 64) {
    e.process_burst(b.data() + i, static_cast<uint32_t>(std::min<size_t>(64, b.size() - i)));
  }
  EXPECT_LE(e.active_flows(), cfg.flow_capacity);
  EXPECT_EQ(e.counters().evicted_other, 0u);
  EXPECT_EQ(e.counters().evicted_syn_only, kFlood - (cfg.flow_capacity - kEstablished));
  EXPECT_EQ(e.counters().dropped_table_full, 0u);
  e.finish();
  EXPECT_EQ(e.counters().accounted(), e.counters().received);
  size_t sf = 0, s0 = 0;
  for (const auto& [state, end] : out.got) {
    sf += state == tcp_session::ConnState::kSF;
    s0 += state == tcp_session::ConnState::kS0;
  }
  EXPECT_EQ(sf, kEstablished);
  EXPECT_EQ(s0, kFlood);
  EXPECT_EQ(e.counters().by_state[static_cast<size_t>(tcp_session::ConnState::kSF)]
                                 [static_cast<size_t>(buckets::Perspective::kOutbound)],
            kEstablished);
}

// The flood queue names entries, and an entry outlives its session: a session opened by a SYN, finished and
// erased leaves its number behind, and the entry goes to a younger session. Evicting by that stale number
// would take the young session (a real client's SYN) before the flood's older ones.
TEST(Engine, FloodEvictionSkipsEntriesHandedToAYoungerSession) {
  EngineConfig cfg;
  cfg.flow_capacity = 8;
  Sessions out;
  SessionEngine e(cfg, out);
  std::vector<ParsedPacket> b = {
      tcp_pkt(kSec + 0'000'000, 1, 1000, true, tf::kSyn, 100),  // A: a whole session, closed at once
      tcp_pkt(kSec + 1'000'000, 1, 1000, false, tf::kSyn | tf::kAck, 500, 101),
      tcp_pkt(kSec + 2'000'000, 1, 1000, true, tf::kAck, 101, 501),
      tcp_pkt(kSec + 3'000'000, 1, 1000, true, tf::kFin | tf::kAck, 101, 501),
      tcp_pkt(kSec + 4'000'000, 1, 1000, false, tf::kFin | tf::kAck, 501, 102),
      tcp_pkt(kSec + 5'000'000, 1, 1000, true, tf::kAck, 102, 502)};
  // Five sessions seen mid-stream (not opened by a SYN: not in the queue), then two flood SYNs.
  for (uint16_t i = 1; i <= 5; ++i) {
    b.push_back(tcp_pkt(2 * kSec + i * 1000, 4, static_cast<uint16_t>(4000 + i), true, tf::kAck, 1, 1));
  }
  for (uint16_t i = 1; i <= 2; ++i) {
    b.push_back(tcp_pkt(3 * kSec + i * 1000, 2, static_cast<uint16_t>(2000 + i), true, tf::kSyn, i, 0, 94));
  }
  e.process_burst(b.data(), static_cast<uint32_t>(b.size()));
  ASSERT_EQ(e.active_flows(), 8u);
  e.advance(6 * kSec + 500'000'000);  // A's close delay is over: its entry is freed, its number stays queued
  ASSERT_EQ(e.active_flows(), 7u);
  ASSERT_EQ(out.got.size(), 1u);
  b = {tcp_pkt(6 * kSec + 600'000'000, 3, 3000, true, tf::kSyn, 7000),      // B takes A's entry
       tcp_pkt(6 * kSec + 700'000'000, 2, 2100, true, tf::kSyn, 8, 0, 94),  // the table is full: evict
       tcp_pkt(6 * kSec + 800'000'000, 3, 3000, false, tf::kSyn | tf::kAck, 9000, 7001),
       tcp_pkt(6 * kSec + 900'000'000, 3, 3000, true, tf::kAck, 7001, 9001)};
  e.process_burst(b.data(), static_cast<uint32_t>(b.size()));
  EXPECT_EQ(e.counters().evicted_syn_only, 1u);
  EXPECT_EQ(e.counters().evicted_other, 0u);
  EXPECT_EQ(e.counters().handshakes, 2u);  // A's and B's: B kept its entry through the eviction
  ASSERT_EQ(out.got.size(), 2u);
  EXPECT_EQ(out.got[1], std::make_pair(tcp_session::ConnState::kS0, EndReason::kEvicted));
}

// --flow-memory: the capacity that fits a budget is the largest one whose full state does.
TEST(Engine, CapacityForAMemoryBudgetIsTheLargestThatFits) {
  const auto full = [](uint64_t capacity) {
    EngineConfig cfg;
    cfg.flow_capacity = static_cast<uint32_t>(capacity);
    EXPECT_EQ(SessionEngine::bytes_when_full(cfg),
              sizeof(SessionEngine) + SessionEngine::flow_state_bytes(cfg.flow_capacity));
    return SessionEngine::flow_state_bytes(cfg.flow_capacity);
  };
  EXPECT_EQ(SessionEngine::capacity_for(0), 0u);
  for (uint64_t mib : {1ull, 7ull, 64ull, 1000ull, 4096ull}) {
    const uint64_t bytes = mib << 20;
    const uint64_t n = SessionEngine::capacity_for(bytes);
    ASSERT_GT(n, 0u) << mib;
    EXPECT_LE(full(n), bytes) << mib;
    EXPECT_GT(full(n + 1), bytes) << mib;
    // Under 330 bytes per flow, index, flood queue and content slots included (about 297 without the slots,
    // which add an eighth of a table's flows at 212 bytes each): the budget buys what the layout promises.
    EXPECT_GT(n, bytes / 330) << mib;
  }
}

TEST(Engine, PerspectivesFollowInternalNetworks) {
  EngineConfig cfg;
  Sessions out;
  SessionEngine e(cfg, out);
  std::vector<ParsedPacket> b = {tcp_pkt(kSec, 1, 40001, true, tf::kSyn, 1, 0, 93),    // 10.x -> 93.x
                                 tcp_pkt(kSec, 2, 40002, true, tf::kSyn, 1, 0, 10),    // 10.x -> 10.x
                                 tcp_pkt(kSec, 3, 40003, false, tf::kSyn, 1, 0, 93)};  // 93.x -> 10.x
  e.process_burst(b.data(), 3);
  e.finish();
  ASSERT_EQ(out.perspectives.size(), 3u);
  std::sort(out.perspectives.begin(), out.perspectives.end());
  EXPECT_EQ(out.perspectives[0], buckets::Perspective::kInbound);
  EXPECT_EQ(out.perspectives[1], buckets::Perspective::kOutbound);
  EXPECT_EQ(out.perspectives[2], buckets::Perspective::kPrivate);
}

TEST(NetworkSet, ParsesAndRejects) {
  NetworkSet s;
  EXPECT_TRUE(s.add("10.0.0.0/8"));
  EXPECT_TRUE(s.add("2001:db8::/32"));
  EXPECT_FALSE(s.add("10.0.0.0/33"));
  EXPECT_FALSE(s.add("bogus"));
  EXPECT_FALSE(s.add("10.0.0.0/x"));
  packet::IpAddr a;
  uint8_t v;
  ASSERT_TRUE(packet::parse_ip("10.20.30.40", a, v));
  EXPECT_TRUE(s.contains(a, v));
  ASSERT_TRUE(packet::parse_ip("11.0.0.1", a, v));
  EXPECT_FALSE(s.contains(a, v));
}

TEST(NetworkSet, MatchesABitByBitReferenceAtEveryPrefixLength) {
  // For every length of IPv4 and IPv6 prefix: random addresses, half of them forced to share the prefix's
  // first `len` bits (half of those then one bit off), judged against the definition (the first len bits
  // equal). An IPv4 address never matches an IPv6 prefix and back.
  std::mt19937_64 rng(11);
  const auto random_addr = [&](uint8_t version) {
    packet::IpAddr a{};
    for (size_t i = 0; i < (version == 4 ? 4u : 16u); ++i) a.bytes[i] = static_cast<uint8_t>(rng());
    return a;
  };
  const auto bit = [](const packet::IpAddr& a, unsigned i) { return (a.bytes[i / 8] >> (7 - i % 8)) & 1; };
  for (const uint8_t version : {uint8_t{4}, uint8_t{6}}) {
    const unsigned max_len = version == 4 ? 32 : 128;
    for (unsigned len = 0; len <= max_len; ++len) {
      const packet::IpAddr net = random_addr(version);
      char text[64];
      const size_t n = packet::format_ip(net, version, text, sizeof(text));
      NetworkSet s;
      ASSERT_TRUE(s.add(std::string(text, n) + "/" + std::to_string(len))) << text << "/" << len;
      for (int k = 0; k < 200; ++k) {
        packet::IpAddr a = random_addr(version);
        if (k % 2 == 0) {
          for (unsigned i = 0; i < len; ++i) {
            const uint8_t m = static_cast<uint8_t>(0x80 >> (i % 8));
            a.bytes[i / 8] = static_cast<uint8_t>(bit(net, i) ? a.bytes[i / 8] | m : a.bytes[i / 8] & ~m);
          }
          if (k % 4 == 2 && len > 0) {  // a near miss: one bit of the prefix flipped, often the last ones
            const unsigned i = k % 8 == 2 ? len - 1 : static_cast<unsigned>(rng() % len);
            a.bytes[i / 8] ^= static_cast<uint8_t>(0x80 >> (i % 8));
          }
        }
        bool expected = true;
        for (unsigned i = 0; i < len; ++i) expected &= bit(a, i) == bit(net, i);
        ASSERT_EQ(s.contains(a, version), expected) << "len " << len << " k " << k;
        ASSERT_FALSE(s.contains(a, version == 4 ? 6 : 4));
      }
    }
  }
}

}  // namespace
}  // namespace synscope::engine
