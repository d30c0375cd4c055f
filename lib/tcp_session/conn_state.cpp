// conn_state: a session's outcome in Zeek's terms: conn_state (Zeek's `conn_state` script function),
// payload bytes from sequence numbers, whether it was an attempt, completed its handshake, or failed, and
// the names of all of these.
//
// Read-only functions over one Session (owned by the RX core whose FlowTable holds it) or over constants:
// safe wherever the Session may be read.
#include "tcp_session/tcp_session.hpp"

namespace synscope::tcp_session {
namespace {

using ES = EndpointState;

}  // namespace

uint64_t payload_bytes(const Session& s, size_t side) noexcept {
  const Endpoint& e = s.ep[side];
  const Endpoint& peer = s.ep[1 - side];
  if (e.prev_state == ES::kSynSent && e.state == ES::kReset && peer.state == ES::kInactive &&
      (e.ack_seq == e.start_seq || e.ack_seq == e.start_seq + 1)) {
    return 0;  // a half-open connection discovered and aborted
  }
  const int32_t d_last = seq_delta(e.last_seq, e.start_seq);
  const int32_t d_ack = seq_delta(e.ack_seq, e.start_seq);
  int64_t size = d_last > d_ack ? d_last : d_ack;
  if (size < 0) size = 0;
  if (size > 0) --size;  // the SYN's sequence octet
  if (s.marks[side].fin > 0 && size > 0) --size;
  return static_cast<uint64_t>(size);
}

ConnState conn_state(const Session& s) noexcept {
  const Endpoint& o = s.ep[0];
  const Endpoint& r = s.ep[1];
  const bool o_inactive = o.state == ES::kInactive || o.state == ES::kPartial;
  const bool r_inactive = r.state == ES::kInactive || r.state == ES::kPartial;
  if (r.state == ES::kReset) {
    if (o.state == ES::kSynSent || o.state == ES::kSynAckSent ||
        (o.state == ES::kReset && payload_bytes(s, 0) == 0 && payload_bytes(s, 1) == 0)) {
      return ConnState::kREJ;
    }
    if (o_inactive) return ConnState::kRSTRH;
    return ConnState::kRSTR;
  }
  if (o.state == ES::kReset) {
    if (r_inactive) {
      // history matches ^\^?S[^HAFGIQ]*R.*$
      const std::string_view h = s.history_view();
      size_t i = (!h.empty() && h[0] == '^') ? 1 : 0;
      if (i < h.size() && h[i] == 'S') {
        for (size_t k = i + 1; k < h.size(); ++k) {
          const char c = h[k];
          if (c == 'R') return ConnState::kRSTOS0;
          if (c == 'H' || c == 'A' || c == 'F' || c == 'G' || c == 'I' || c == 'Q') break;
        }
      }
      return ConnState::kOTH;
    }
    return ConnState::kRSTO;
  }
  if (o.state == ES::kClosed && r.state == ES::kClosed) return ConnState::kSF;
  if (o.state == ES::kClosed) return r_inactive ? ConnState::kSH : ConnState::kS2;
  if (r.state == ES::kClosed) return o_inactive ? ConnState::kSHR : ConnState::kS3;
  if (o.state == ES::kSynSent && r.state == ES::kInactive) return ConnState::kS0;
  if (o.state == ES::kEstablished && r.state == ES::kEstablished) return ConnState::kS1;
  return ConnState::kOTH;
}

bool is_attempt(const Session& s) noexcept { return s.syn_mark != 0; }

bool handshake_completed(const Session& s) noexcept {
  return s.syn_mark != 0 && s.synack_mark != 0 && s.handshake_ack_mark != 0;
}

std::string_view conn_state_name(ConnState s) noexcept {
  static constexpr std::string_view kNames[] = {"S0",   "S1",     "SF",    "REJ", "S2",  "S3", "RSTO",
                                                "RSTR", "RSTOS0", "RSTRH", "SH",  "SHR", "OTH"};
  const auto i = static_cast<size_t>(s);
  return i < kConnStateCount ? kNames[i] : "OTH";
}

bool is_failed(ConnState s) noexcept {
  // kFailedStates as a bit set over ConnState: one test, as a switch over the six states compiles to.
  static constexpr uint32_t kFailedMask = [] {
    uint32_t mask = 0;
    for (const FailedState& f : kFailedStates) mask |= 1u << static_cast<unsigned>(f.state);
    return mask;
  }();
  static_assert(kConnStateCount <= 32);
  const auto i = static_cast<unsigned>(s);
  return i < kConnStateCount && ((kFailedMask >> i) & 1u) != 0;
}

std::string_view failure_reason(ConnState s) noexcept {
  // kFailedStates indexed by ConnState ("" for a state that is not failed).
  static constexpr auto kReasons = [] {
    std::array<std::string_view, kConnStateCount> reasons{};
    for (const FailedState& f : kFailedStates) reasons[static_cast<size_t>(f.state)] = f.reason;
    return reasons;
  }();
  const auto i = static_cast<size_t>(s);
  return i < kConnStateCount ? kReasons[i] : std::string_view();
}

}  // namespace synscope::tcp_session
