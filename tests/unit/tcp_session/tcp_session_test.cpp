// Crafted TCP exchanges for every conn_state and the tricky cases, checked against Zeek's rules.
#include "tcp_session/tcp_session.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "segment.hpp"

namespace synscope::tcp_session {
namespace {

namespace tf = packet::tcp_flag;
constexpr uint8_t S = tf::kSyn, A = tf::kAck, F = tf::kFin, R = tf::kRst, P = tf::kPsh;

// Drives one Session: client is the key's lo side (port 40000), server the hi side (port 80).
class Conn {
 public:
  explicit Conn(SessionConfig cfg = SessionConfig()) : cfg_(std::move(cfg)) {}
  // from_client, flags, seq, ack, payload
  Conn& pkt(bool from_client, uint8_t flags, uint32_t seq, uint32_t ack = 0, uint32_t len = 0) {
    const packet::PacketMeta m = test::segment(from_client, flags, seq, ack, len, next_window_);
    next_window_ = 1000;
    now_ += 1'000'000;
    if (!started_) {
      start(s_, m, from_client, now_, cfg_);
      started_ = true;
    }
    completions_ += update(s_, m, from_client, now_, cfg_) ? 1 : 0;
    return *this;
  }
  Conn& c(uint8_t f, uint32_t seq, uint32_t ack = 0, uint32_t len = 0) { return pkt(true, f, seq, ack, len); }
  Conn& s(uint8_t f, uint32_t seq, uint32_t ack = 0, uint32_t len = 0) { return pkt(false, f, seq, ack, len); }
  Conn& zero_window() {
    next_window_ = 0;
    return *this;
  }
  std::string state() const { return std::string(conn_state_name(conn_state(s_))); }
  std::string history() const { return std::string(s_.history_view()); }
  const Session& session() const { return s_; }
  /// How many segments update() said completed the handshake.
  int completions() const { return completions_; }
  Session& session() { return s_; }

 private:
  SessionConfig cfg_;
  Session s_;
  bool started_ = false;
  int completions_ = 0;
  uint16_t next_window_ = 1000;
  uint64_t now_ = 1'000'000'000'000;
};

// Client ISN 100, server ISN 500.
Conn handshake() {
  Conn k;
  k.c(S, 100).s(S | A, 500, 101).c(A, 101, 501);
  return k;
}

TEST(ConnState, S0SynOnly) {
  Conn k;
  k.c(S, 100);
  EXPECT_EQ(k.state(), "S0");
  EXPECT_EQ(k.history(), "S");
  EXPECT_TRUE(is_failed(conn_state(k.session())));
}

TEST(ConnState, SynRetransmitsAreOneAttempt) {
  Conn k;
  k.c(S, 100).c(S, 100).c(S, 100);
  EXPECT_EQ(k.state(), "S0");
  EXPECT_EQ(k.history(), "S");
  EXPECT_EQ(k.session().marks[0].syn, 3u);
  EXPECT_EQ(k.session().ep[0].pkts, 3u);
}

TEST(ConnState, RejSynAnsweredByRst) {
  Conn k;
  k.c(S, 100).s(R | A, 0, 101);
  EXPECT_EQ(k.state(), "REJ");
  EXPECT_EQ(k.history(), "Sr");
  EXPECT_EQ(failure_reason(conn_state(k.session())), "rejected");
}

TEST(ConnState, S1EstablishedNotClosed) {
  Conn k = handshake();
  k.c(P | A, 101, 501, 10).s(A, 501, 111);
  EXPECT_EQ(k.state(), "S1");
  EXPECT_EQ(k.history(), "ShADa");
  EXPECT_TRUE(handshake_completed(k.session()));
}

TEST(Handshake, UpdateReportsTheSegmentThatCompletesIt) {
  Conn k;
  k.c(S, 100).s(S | A, 500, 101);
  EXPECT_EQ(k.completions(), 0);
  k.c(A, 101, 501);
  EXPECT_EQ(k.completions(), 1);
  k.c(P | A, 101, 501, 10).c(A, 111, 501);  // later ACKs complete nothing
  EXPECT_EQ(k.completions(), 1);
  EXPECT_TRUE(handshake_completed(k.session()));
}

TEST(Handshake, ALateSynCanBeTheSegmentThatCompletesIt) {
  Conn k;
  k.s(S | A, 500, 101).c(A, 101, 501);  // SYN-ACK and the client's ACK: no SYN seen yet
  EXPECT_EQ(k.completions(), 0);
  EXPECT_FALSE(handshake_completed(k.session()));
  k.c(S, 100);  // the SYN arrives last (same ISN: not a new connection)
  EXPECT_EQ(k.completions(), 1);
  EXPECT_TRUE(handshake_completed(k.session()));
}

TEST(ConnState, S1NeedsOnlySynAndSynAck) {
  Conn k;
  k.c(S, 100).s(S | A, 500, 101);
  EXPECT_EQ(k.state(), "S1");
}

TEST(ConnState, SfNormalClose) {
  Conn k = handshake();
  k.c(P | A, 101, 501, 10).s(P | A, 501, 111, 20).c(F | A, 111, 521).s(F | A, 521, 112).c(A, 112, 522);
  EXPECT_EQ(k.state(), "SF");
  EXPECT_EQ(k.history(), "ShADdFf");
  EXPECT_EQ(payload_bytes(k.session(), 0), 10u);
  EXPECT_EQ(payload_bytes(k.session(), 1), 20u);
}

TEST(ConnState, S2OriginatorCloseOnly) {
  Conn k = handshake();
  k.c(F | A, 101, 501);
  EXPECT_EQ(k.state(), "S2");
}

TEST(ConnState, S3ResponderCloseOnly) {
  Conn k = handshake();
  k.s(F | A, 501, 101);
  EXPECT_EQ(k.state(), "S3");
}

TEST(ConnState, RstoOriginatorAborts) {
  Conn k = handshake();
  k.c(P | A, 101, 501, 10).c(R | A, 111, 501);
  EXPECT_EQ(k.state(), "RSTO");
  EXPECT_FALSE(is_failed(conn_state(k.session())));
}

TEST(ConnState, RstrResponderAborts) {
  Conn k = handshake();
  k.c(P | A, 101, 501, 10).s(R | A, 501, 111);
  EXPECT_EQ(k.state(), "RSTR");
  EXPECT_EQ(k.history(), "ShADr");
}

TEST(ConnState, Rstos0SynThenOriginatorRst) {
  Conn k;
  k.c(S, 100).c(R, 101);
  EXPECT_EQ(k.state(), "RSTOS0");
  EXPECT_EQ(k.history(), "SR");
}

TEST(ConnState, OthSynThenStuffThenRst) {
  // Zeek's syn-then-stuff-then-rst trace: SaFR is OTH (an F between S and R).
  Conn k;
  k.c(S, 100).s(A, 0, 101).c(F, 101).c(R, 102);
  EXPECT_EQ(k.history(), "SaFR");
  EXPECT_EQ(k.state(), "OTH");
}

TEST(ConnState, LoneRstFromClientIsOth) {
  Conn k;
  k.c(R, 100);
  EXPECT_EQ(k.state(), "OTH");
  EXPECT_EQ(k.history(), "R");
}

TEST(ConnState, LoneRstFromServerPortIsRstrhFlipped) {
  // The first packet is not a SYN and its source port (80) is a likely server port: roles flip.
  Conn k;
  k.s(R, 500);
  EXPECT_EQ(k.history(), "^r");
  EXPECT_EQ(k.state(), "RSTRH");
}

TEST(ConnState, LoneSynAckIsOthFlipped) {
  Conn k;
  k.s(S | A, 500, 101);
  EXPECT_EQ(k.history(), "^h");
  EXPECT_EQ(k.state(), "OTH");
}

TEST(ConnState, LoneSynAckWithoutServerPortsThenAckIsS1) {
  SessionConfig cfg;
  cfg.likely_server_ports.reset();
  Conn k(cfg);
  k.s(S | A, 500, 101).c(A, 101, 501).c(P | A, 101, 501, 5);
  EXPECT_EQ(k.history(), "^hAD");
  EXPECT_EQ(k.state(), "S1");
}

TEST(ConnState, ShSynThenFinNoReply) {
  Conn k;
  k.c(S, 100).c(F | A, 101, 0);
  EXPECT_EQ(k.state(), "SH");
  EXPECT_TRUE(is_failed(conn_state(k.session())));
}

TEST(ConnState, ShrResponderFinWithoutSyn) {
  Conn k;
  k.s(F | A, 500, 101);
  EXPECT_EQ(k.history(), "^f");
  EXPECT_EQ(k.state(), "SHR");
}

TEST(ConnState, SynFinIsMultiFlagLetter) {
  Conn k;
  k.c(S | F, 100);
  EXPECT_EQ(k.history(), "Q");
}

TEST(ConnState, RstAfterFinExchangeStaysSf) {
  Conn k = handshake();
  k.c(F | A, 101, 501).s(F | A, 501, 102).c(R, 102);
  EXPECT_EQ(k.state(), "SF");
}

TEST(ConnState, FinThenRstFromSameSideIsRsto) {
  Conn k = handshake();
  k.c(F | A, 101, 501).c(R, 102);
  EXPECT_EQ(k.state(), "RSTO");
}

TEST(ConnState, SimultaneousOpen) {
  // S and H share one "SYN seen" bit per side and repeat only for a new sequence number, so the
  // responder's SYN-ACK (same seq as its SYN) adds no 'h'. (Through the engine, Zeek's reuse rule would
  // also split the responder's SYN off as a new connection; here we drive one Session directly.)
  Conn k;
  k.c(S, 100).s(S, 500).s(S | A, 500, 101).c(A, 101, 501);
  EXPECT_EQ(k.state(), "S1");
  EXPECT_EQ(k.history(), "SsA");
}

TEST(ConnState, HandshakeReorderFlips) {
  // Zeek's handshake-reorder trace: SYN-ACK seen before the SYN.
  SessionConfig cfg;
  cfg.likely_server_ports.reset();
  Conn k(cfg);
  k.s(S | A, 500, 101).c(S, 100).c(A, 101, 501);
  EXPECT_EQ(k.history(), "Hs^A");
  EXPECT_EQ(k.state(), "S1");
}

TEST(ConnState, DataBeforeHandshakeStaysS0) {
  // Orig data while still SYN_SENT does not leave SYN_SENT: Zeek's "SAD" is S0.
  Conn k;
  k.c(S, 100).c(A, 101, 0).c(P | A, 101, 0, 50);
  EXPECT_EQ(k.history(), "SAD");
  EXPECT_EQ(k.state(), "S0");
}

TEST(ConnState, MidstreamBothFinsIsSf) {
  Conn k;
  k.c(P | A, 1000, 2000, 10).s(P | A, 2000, 1010, 10).c(F | A, 1010, 2010).s(F | A, 2010, 1011);
  EXPECT_EQ(k.state(), "SF");
  EXPECT_EQ(k.history(), "DdFf");
}

TEST(History, RetransmittedDataRecordsT) {
  Conn k = handshake();
  k.c(P | A, 101, 501, 10).c(P | A, 101, 501, 10);
  EXPECT_EQ(k.history(), "ShADT");
}

TEST(History, ZeroWindowRecordsWLogarithmically) {
  Conn k = handshake();
  k.s(A, 501, 101);  // window 1000: just the ACK letter
  EXPECT_EQ(k.history(), "ShAa");
  k.zero_window().s(A, 501, 101);  // 1st zero window: 'w'
  EXPECT_EQ(k.history(), "ShAaw");
  for (int i = 0; i < 8; ++i) k.zero_window().s(A, 501, 101);  // 2nd..9th: nothing new
  EXPECT_EQ(k.history(), "ShAaw");
  k.zero_window().s(A, 501, 101);  // 10th: 'w' again
  EXPECT_EQ(k.history(), "ShAaww");
}

// Zeek's uint32 threshold goes 1, 10, ..., 10^9, then 10^9 * 10 wraps to 1410065408 (still larger, so it is
// taken), and the next product wraps below that, so the threshold stays there. Counters are preset: a
// billion packets would take too long.
TEST(History, ScaledLettersFollowZeeksWrappingThresholds) {
  Conn k = handshake();
  EndpointMarks& server = k.session().marks[1];
  server.win0_cnt = 999'999'999;
  k.session().levels[1].win0 = 9;
  k.zero_window().s(A, 501, 101);  // 10^9th zero window (the server's first packet: 'a' too)
  EXPECT_EQ(k.history(), "ShAaw");
  server.win0_cnt = 1'410'065'406;
  k.zero_window().s(A, 501, 101);  // one short of the wrapped threshold: nothing
  EXPECT_EQ(k.history(), "ShAaw");
  k.zero_window().s(A, 501, 101);  // 1410065408th
  EXPECT_EQ(k.history(), "ShAaww");
  server.win0_cnt = 1'215'752'191;  // the next product (wrapped below): never a threshold
  k.zero_window().s(A, 501, 101);
  EXPECT_EQ(k.history(), "ShAaww");
  server.win0_cnt = 1'410'065'407;  // the threshold stayed where it was
  k.zero_window().s(A, 501, 101);
  EXPECT_EQ(k.history(), "ShAawww");
}

TEST(Reuse, NewSynSequenceOnClosedConnectionIsReuse) {
  Conn k = handshake();
  k.c(F | A, 101, 501).s(F | A, 501, 102);
  packet::PacketMeta syn;
  syn.flags = S;
  syn.seq = 9999;
  EXPECT_TRUE(is_reuse(k.session(), syn));
  syn.seq = 100;
  EXPECT_TRUE(is_reuse(k.session(), syn));  // any SYN after a close
}

TEST(Reuse, RetransmittedSynIsNotReuse) {
  Conn k;
  k.c(S, 100);
  packet::PacketMeta syn;
  syn.flags = S;
  syn.seq = 100;
  EXPECT_FALSE(is_reuse(k.session(), syn));
  syn.seq = 7;
  EXPECT_TRUE(is_reuse(k.session(), syn));  // SYN_seq_jump starts a new attempt
}

TEST(Timers, AttemptExpiresAfterFiveSeconds) {
  Conn k;
  k.c(S, 100);
  const uint64_t t = k.session().first_ns;
  SessionConfig cfg;
  EXPECT_FALSE(expired(k.session(), t + 4'000'000'000, cfg, 40000, 80));
  EXPECT_TRUE(expired(k.session(), t + 6'000'000'000, cfg, 40000, 80));
}

TEST(Timers, ClosedConnectionKeptForCloseDelay) {
  Conn k = handshake();
  k.c(F | A, 101, 501).s(F | A, 501, 102);
  SessionConfig cfg;
  const uint64_t last = k.session().last_ns;
  EXPECT_FALSE(expired(k.session(), last + 4'000'000'000, cfg, 40000, 80));
  EXPECT_TRUE(expired(k.session(), last + 5'000'000'000, cfg, 40000, 80));
}

TEST(Timers, EstablishedIdleUsesInactivityTimeout) {
  Conn k = handshake();
  SessionConfig cfg;
  const uint64_t last = k.session().last_ns;
  EXPECT_FALSE(expired(k.session(), last + 299'000'000'000, cfg, 40000, 80));
  EXPECT_TRUE(expired(k.session(), last + 300'000'000'000, cfg, 40000, 80));
  EXPECT_FALSE(expired(k.session(), last + 300'000'000'000, cfg, 40000, 22));  // ssh: one hour
}

TEST(Verdict, FailedStatesAreTheOneList) {
  std::vector<ConnState> failed;
  for (size_t i = 0; i < kConnStateCount; ++i) {
    const auto st = static_cast<ConnState>(i);
    EXPECT_EQ(is_failed(st), !failure_reason(st).empty()) << conn_state_name(st);
    if (is_failed(st)) failed.push_back(st);
  }
  ASSERT_EQ(failed.size(), kFailedStates.size());
  for (const FailedState& f : kFailedStates) {
    EXPECT_TRUE(is_failed(f.state));
    EXPECT_EQ(failure_reason(f.state), f.reason);
  }
  // The order bucket lines and summaries show them in.
  std::string names;
  for (const FailedState& f : kFailedStates) names += std::string(conn_state_name(f.state)) + " ";
  EXPECT_EQ(names, "S0 REJ RSTOS0 RSTRH SH SHR ");
  EXPECT_FALSE(is_failed(ConnState::kCount));
  EXPECT_EQ(failure_reason(ConnState::kCount), "");
}

}  // namespace
}  // namespace synscope::tcp_session
