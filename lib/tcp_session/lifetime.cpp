// lifetime: when a session ends before its packets do: a SYN that Zeek takes as a new connection on the
// same 5-tuple (is_reuse), and Zeek's timers, evaluated lazily from the session's timestamps (expired_slow).
//
// Read-only functions over one Session, called by the RX core whose FlowTable holds it: not thread-safe,
// and no need to be.
#include "tcp_session/tcp_session.hpp"

namespace synscope::tcp_session {
namespace {

namespace tf = packet::tcp_flag;
using ES = EndpointState;

}  // namespace

bool is_reuse(const Session& s, const packet::PacketMeta& pkt) noexcept {
  if (!(pkt.flags & tf::kSyn)) return false;
  const Endpoint* conn_orig = &s.ep[0];
  if (pkt.flags & tf::kAck) {
    if (s.ep[0].state != ES::kInactive) return false;  // not a half connection
    conn_orig = &s.ep[1];
  }
  const bool closed = s.ep[0].did_close || s.ep[1].did_close;
  if (!closed) {
    if (pkt.seq == conn_orig->start_seq) return false;
    if (!(pkt.flags & tf::kAck) && conn_orig->state == ES::kSynAckSent && s.ep[1].state == ES::kInactive &&
        pkt.seq == s.ep[1].start_seq) {
      return false;  // SYN/SYN-ACK reversal, handled by update()
    }
  }
  return true;
}

bool expired_slow(const Session& s, uint64_t now, const SessionConfig& cfg, uint16_t port_lo,
                  uint16_t port_hi) noexcept {
  if (s.delete_at_ns != 0 && now >= s.delete_at_ns) return true;
  const Endpoint& o = s.ep[0];
  const Endpoint& r = s.ep[1];
  if (!s.timers_cancelled) {
    if (s.attempt_mark != 0 && now >= mark_ns(s.first_ns, s.attempt_mark) &&
        (o.state == ES::kSynSent || o.state == ES::kSynAckSent) && r.state == ES::kInactive) {
      return true;
    }
    // ExpireTimer fires at first + SYN_timeout + k * session_timer; removal needs the connection idle for
    // longer than the linger time at a firing, and either a close/reset or a silent side.
    const uint64_t first_fire = s.first_ns + cfg.syn_timeout_ns;
    if (now >= first_fire && cfg.session_timer_ns != 0) {
      const uint64_t fire = first_fire + (now - first_fire) / cfg.session_timer_ns * cfg.session_timer_ns;
      if (s.last_ns + cfg.connection_linger_ns < fire) {
        const bool any_closed = o.did_close || r.did_close;
        if (any_closed && ((o.did_close && r.did_close) || o.state == ES::kReset || r.state == ES::kReset ||
                           o.state == ES::kInactive || r.state == ES::kInactive)) {
          return true;
        }
        if (o.state == ES::kInactive && r.state == ES::kInactive) return true;
      }
    }
  }
  const uint16_t resp_port = r.is_lo ? port_lo : port_hi;
  const bool long_lived = cfg.long_lived_ports.test(resp_port) && s.synack_mark != 0;
  const uint64_t idle_limit = long_lived ? cfg.long_inactivity_ns : cfg.inactivity_ns;
  // Zeek's inactivity timer counts from the last packet; last_ns stops at the close of both sides, but by
  // then the delete timer (close_delay after it, never longer than the idle limits: SessionConfig) fires first.
  return now >= s.last_ns + idle_limit;
}

}  // namespace synscope::tcp_session
