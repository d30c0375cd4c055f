// update: the per-connection TCP state machine, Zeek's TCPSessionAdapter: start() for a session's first
// packet, update() for each valid segment after it (endpoint states, role flips, handshake times, sequence
// tracking, close handling), record_bad_checksum() for the rest. The history letters it writes are in
// history.hpp.
//
// A Session belongs to the RX core whose FlowTable holds it; only that core calls these, so nothing here
// is thread-safe and nothing needs to be.
#include "tcp_session/tcp_session.hpp"

#include <utility>

#include "tcp_session/history.hpp"

namespace synscope::tcp_session {
namespace {

using packet::PacketMeta;
namespace tf = packet::tcp_flag;
using ES = EndpointState;

constexpr int32_t kTooLargeSeqDelta = 1048576;

// Flag counts stop at their type's maximum instead of wrapping.
inline void count_flag(uint16_t& count) noexcept { count = static_cast<uint16_t>(count + (count != UINT16_MAX)); }

inline void set_state(Endpoint& e, ES s) noexcept {
  e.prev_state = e.state;
  e.state = s;
}

void init_endpoint(Endpoint& e, uint8_t flags, uint32_t first_seq, uint32_t last_seq) noexcept {
  const bool syn = flags & tf::kSyn;
  switch (e.state) {
    case ES::kInactive:
      if (syn) {
        e.ack_seq = e.start_seq = first_seq;
      } else {
        // Partial connection: number bytes as though a SYN had been seen.
        e.ack_seq = e.start_seq = first_seq - 1;
        last_seq = first_seq;
      }
      e.last_seq = last_seq;
      break;
    case ES::kSynSent:
    case ES::kSynAckSent:
      if (syn && first_seq != e.start_seq) {
        e.start_seq = e.ack_seq = first_seq;
        e.last_seq = last_seq;
      }
      break;
    case ES::kEstablished:
    case ES::kPartial:
      if (syn) {
        e.start_seq = e.ack_seq = first_seq;
        e.last_seq = last_seq;
      }
      break;
    case ES::kReset:
      if (syn && e.prev_state == ES::kInactive) {
        e.start_seq = e.ack_seq = first_seq;
        e.last_seq = last_seq;
      }
      break;
    case ES::kClosed: break;
  }
}

int32_t update_last_seq(Session& s, bool is_orig, uint32_t last_seq, uint8_t flags, uint32_t len) noexcept {
  Endpoint& e = s.ep[is_orig ? 0 : 1];
  const int32_t delta = seq_delta(last_seq, e.last_seq);
  if ((flags & (tf::kSyn | tf::kRst)) && (delta > kTooLargeSeqDelta || delta < -kTooLargeSeqDelta)) {
    // implausible jump on a SYN/RST: keep the old value
  } else if ((flags & tf::kFin) && e.last_seq == e.start_seq + 1) {
    e.last_seq = last_seq;  // only SYN and FIN seen: trust the FIN even for > 2 GB transfers
  } else if (e.state == ES::kReset) {
    // nothing after a RST is trusted
  } else if (delta > 0) {
    e.last_seq = last_seq;
  } else if (len > 0) {
    const size_t side = is_orig ? 0 : 1;
    scaled_history(s, is_orig, s.marks[side].rxmt_cnt, s.levels[side].rxmt, 'T');
  }
  return delta;
}

struct CloseOutcome {
  bool do_close = false;
  bool gen_event = false;
};

// Zeek's UpdateInactiveState. May flip roles (SYN/SYN-ACK reversal); returns the packet's role afterwards.
bool update_inactive(Session& s, bool is_orig, const PacketMeta& p, uint64_t now, const SessionConfig& cfg,
                     CloseOutcome& out) noexcept {
  const uint8_t f = p.flags;
  if (f & tf::kSyn) {
    if (is_orig) {
      set_state(s.ep[0], (f & tf::kAck) ? ES::kSynAckSent : ES::kSynSent);
      if (cfg.attempt_delay_ns != 0 && !s.timers_cancelled) {
        s.attempt_mark = deadline_mark(s.first_ns, now + cfg.attempt_delay_ns);
      }
    } else {
      Endpoint* endpoint = &s.ep[1];
      Endpoint* peer = &s.ep[0];
      if (!(f & tf::kAck) && peer->state == ES::kSynAckSent && p.seq == endpoint->start_seq) {
        // SYN and SYN-ACK seen in reverse order: the SYN's sender is the real originator.
        flip_roles(s);
        endpoint = &s.ep[0];
        peer = &s.ep[1];
        is_orig = true;
        set_state(*peer, ES::kEstablished);
      }
      if (peer->state == ES::kSynSent) set_state(*peer, ES::kEstablished);
      set_state(*endpoint, ES::kEstablished);
    }
  }
  Endpoint& endpoint = s.ep[is_orig ? 0 : 1];
  Endpoint& peer = s.ep[is_orig ? 1 : 0];
  if (f & tf::kFin) {
    set_state(endpoint, ES::kClosed);
    out.do_close = out.gen_event = true;
  }
  if (f & tf::kRst) {
    set_state(endpoint, ES::kReset);
    bool is_reject;
    if (is_orig) {
      is_reject = peer.state == ES::kEstablished;  // SYN-ACK seen but no SYN: a reverse scan
    } else {
      is_reject = peer.state == ES::kSynSent || peer.state == ES::kSynAckSent;
    }
    out.do_close = true;
    out.gen_event = !is_reject;
  }
  if (endpoint.state == ES::kInactive) {
    if (!is_orig && p.payload_len == 0 && s.ep[0].state == ES::kSynSent) {
      // some stacks ACK a SYN before answering it: not a partial connection
    } else if ((f & tf::kAck) && peer.state == ES::kEstablished) {
      set_state(endpoint, ES::kEstablished);  // missed the SYN, saw SYN-ACK and now the ACK
    } else {
      set_state(endpoint, ES::kPartial);
    }
  }
  return is_orig;
}

void update_syn_sent(Session& s, bool is_orig, uint8_t f, CloseOutcome& out, bool& active) noexcept {
  Endpoint& endpoint = s.ep[is_orig ? 0 : 1];
  if (f & tf::kFin) {
    set_state(endpoint, ES::kClosed);
    out.do_close = out.gen_event = true;
  }
  if (f & tf::kRst) {
    set_state(endpoint, ES::kReset);
    active = false;  // ConnectionReset
    out.do_close = true;
  }
}

void update_established(Session& s, bool is_orig, uint8_t f, CloseOutcome& out, bool& active) noexcept {
  Endpoint& endpoint = s.ep[is_orig ? 0 : 1];
  Endpoint& peer = s.ep[is_orig ? 1 : 0];
  if ((f & tf::kSyn) && endpoint.state == ES::kPartial && peer.state == ES::kInactive && !(f & tf::kAck)) {
    set_state(endpoint, ES::kSynSent);  // SYN after partial
  }
  if ((f & tf::kFin) && !(f & tf::kRst)) {
    set_state(endpoint, ES::kClosed);
    if (peer.state == ES::kReset && peer.prev_state == ES::kClosed) {
      set_state(peer, ES::kClosed);  // FIN then RST from the peer was a normal close
    }
    out.do_close = out.gen_event = true;
  }
  if (f & tf::kRst) {
    set_state(endpoint, ES::kReset);
    out.do_close = true;
    if (peer.state != ES::kReset || peer.prev_state != ES::kEstablished) active = false;
  }
}

void update_closed(Session& s, bool is_orig, uint8_t f, uint64_t now, const SessionConfig& cfg,
                   CloseOutcome& out) noexcept {
  Endpoint& endpoint = s.ep[is_orig ? 0 : 1];
  Endpoint& peer = s.ep[is_orig ? 1 : 0];
  if ((f & tf::kRst) && peer.state != ES::kClosed) {
    set_state(endpoint, ES::kReset);
    if (!endpoint.did_close) out.do_close = true;
    const uint64_t reset_at = now + cfg.close_delay_ns;  // tcp_reset_delay
    if (s.delete_at_ns == 0 || reset_at < s.delete_at_ns) s.delete_at_ns = reset_at;
  }
}

// Zeek's ConnectionClosed (without data-pending deferral: we do not reassemble).
void connection_closed(Session& s, bool is_orig, bool gen_event, const SessionConfig& cfg, bool& active) noexcept {
  Endpoint& endpoint = s.ep[is_orig ? 0 : 1];
  Endpoint& peer = s.ep[is_orig ? 1 : 0];
  if (endpoint.did_close) return;
  endpoint.did_close = true;
  const bool close_complete = endpoint.state == ES::kReset || peer.did_close || peer.state == ES::kInactive;
  if (close_complete) {
    if ((endpoint.prev_state != ES::kInactive || peer.state != ES::kInactive) && gen_event) {
      active = false;  // ConnectionFinished
    }
    s.timers_cancelled = true;
    s.attempt_mark = 0;
    s.delete_at_ns = s.last_ns + cfg.close_delay_ns;
  }
}

// The per-segment bookkeeping both update() paths share, in Zeek's order.

// Marks the originator's first ACK after the SYN-ACK (the handshake's third step); true when that
// completed the handshake.
inline bool note_handshake_ack(Session& s, bool is_orig, uint8_t f, uint64_t now_ns) noexcept {
  if (!(f & (tf::kSyn | tf::kRst)) && (f & tf::kAck) && s.synack_mark != 0 && s.handshake_ack_mark == 0 && is_orig) {
    const SessionMark now = mark_at(s.first_ns, now_ns);
    if (now < s.synack_mark) return false;
    s.handshake_ack_mark = now;
    return handshake_completed(s);
  }
  return false;
}

// The zero-window letter, and Zeek's last_time (which stops once both sides closed).
inline void note_window_and_time(Session& s, bool is_orig, const PacketMeta& pkt, uint64_t now_ns) noexcept {
  Endpoint& e = s.ep[is_orig ? 0 : 1];
  const Endpoint& peer = s.ep[is_orig ? 1 : 0];
  if (pkt.window == 0 && !(pkt.flags & tf::kRst) && peer.state != ES::kClosed && e.state != ES::kReset) {
    const size_t side = is_orig ? 0 : 1;
    scaled_history(s, is_orig, s.marks[side].win0_cnt, s.levels[side].win0, 'W');
  }
  if (!s.ep[0].did_close || !s.ep[1].did_close) s.last_ns = now_ns;
}

// The ACK number advances the peer's acknowledged sequence (or numbers a peer not seen yet).
inline void apply_ack(Session& s, bool is_orig, const PacketMeta& pkt) noexcept {
  if (!(pkt.flags & tf::kAck)) return;
  Endpoint& pe = s.ep[is_orig ? 1 : 0];
  if (pe.state == ES::kInactive) {
    pe.start_seq = pe.ack_seq = pe.last_seq = pkt.ack - 1;
  } else if (seq_delta(pkt.ack, pe.start_seq) >= 0 && !(pkt.flags & tf::kRst)) {
    const int32_t delta_ack = seq_delta(pkt.ack, pe.ack_seq);
    if (!(pkt.ack == 0 && delta_ack > kTooLargeSeqDelta) && delta_ack > 0) pe.ack_seq = pkt.ack;
  }
}

// Sequence tracking after the ACK, then the packet and byte counters.
inline void finish_segment(Session& s, bool is_orig, const PacketMeta& pkt, uint32_t seq_one_past) noexcept {
  update_last_seq(s, is_orig, seq_one_past, pkt.flags, pkt.payload_len);
  Endpoint& e = s.ep[is_orig ? 0 : 1];
  ++e.pkts;
  e.ip_bytes += pkt.ip_len;
}

// A segment without SYN, FIN or RST from an endpoint already past kInactive: no role flip, no handshake
// time but the third step's, no start sequence to set and no state change. Most segments of a connection
// are these (more so on bulk transfers), so they skip the control path.
bool update_plain(Session& s, bool is_orig, const PacketMeta& pkt, uint64_t now_ns) noexcept {
  const bool completed_handshake = note_handshake_ack(s, is_orig, pkt.flags, now_ns);
  update_plain_history(s, is_orig, pkt.flags, pkt.payload_len);
  note_window_and_time(s, is_orig, pkt, now_ns);
  apply_ack(s, is_orig, pkt);
  finish_segment(s, is_orig, pkt, pkt.seq + pkt.payload_len);
  return completed_handshake;
}

}  // namespace

void start(Session& s, const PacketMeta& pkt, bool from_lo, uint64_t now_ns, const SessionConfig& cfg) noexcept {
  const uint8_t owner_bits = s.owner_bits;
  s = Session{};
  s.owner_bits = owner_bits;
  s.first_ns = s.last_ns = now_ns;
  bool flip = false;
  const bool pure_syn = (pkt.flags & tf::kSyn) && !(pkt.flags & tf::kAck);
  if (!pure_syn && cfg.likely_server_ports.test(pkt.src_port)) {
    flip = cfg.likely_server_ports.test(pkt.dst_port) ? !(pkt.flags & tf::kSyn) && pkt.src_port < pkt.dst_port : true;
  }
  s.ep[0].is_lo = flip ? !from_lo : from_lo;
  s.ep[1].is_lo = !s.ep[0].is_lo;
  if (flip) add_history(s, '^');
}

void record_bad_checksum(Session& s, bool from_lo) noexcept {
  const bool is_orig = from_lo == s.ep[0].is_lo;
  const size_t side = is_orig ? 0 : 1;
  scaled_history(s, is_orig, s.marks[side].chk_cnt, s.levels[side].chk, 'C');
}

bool update(Session& s, const PacketMeta& pkt, bool from_lo, uint64_t now_ns, const SessionConfig& cfg) noexcept {
  bool is_orig = from_lo == s.ep[0].is_lo;
  const uint8_t f = pkt.flags;
  const uint32_t len = pkt.payload_len;
  if (!(f & (tf::kSyn | tf::kFin | tf::kRst)) && s.ep[is_orig ? 0 : 1].state != ES::kInactive) [[likely]] {
    return update_plain(s, is_orig, pkt, now_ns);
  }

  // A connection whose only packet so far was a SYN-ACK, answered by the other side's ACK or data:
  // Zeek concludes it had the roles backwards, flips them and rewrites the history to "^h".
  if (!is_orig && s.history_len == 1 && s.history[0] == 'H' && (f & tf::kAck) &&
      !(f & (tf::kSyn | tf::kFin | tf::kRst)) && s.ep[0].state == ES::kSynAckSent && s.ep[1].state == ES::kInactive) {
    swap_sides(s);
    s.history[0] = '^';
    s.history[1] = 'h';
    s.history_len = 2;
    set_state(s.ep[1], ES::kEstablished);
    s.attempt_mark = 0;
    is_orig = true;
  }

  // Each handshake time is set once, and the handshake can only complete when one of them is set.
  bool completed_handshake = false;
  if ((f & tf::kSyn) && !(f & tf::kAck) && s.syn_mark == 0) {
    s.syn_mark = mark_at(s.first_ns, now_ns);
    completed_handshake = handshake_completed(s);
  } else if ((f & tf::kSyn) && (f & tf::kAck) && s.synack_mark == 0) {
    s.synack_mark = mark_at(s.first_ns, now_ns);
    completed_handshake = handshake_completed(s);
  } else {
    completed_handshake = note_handshake_ack(s, is_orig, f, now_ns);
  }

  {
    Endpoint& e = s.ep[is_orig ? 0 : 1];
    uint32_t seg_len = len;
    if (f & tf::kSyn) ++seg_len;
    if (f & tf::kFin) ++seg_len;
    if (f & tf::kRst) seg_len -= len;
    const uint32_t seq_one_past = pkt.seq + seg_len;
    init_endpoint(e, f, pkt.seq, seq_one_past);
    update_history(s, is_orig, f, seq_delta(pkt.seq, e.start_seq), len);
    note_window_and_time(s, is_orig, pkt, now_ns);
    EndpointMarks& m = s.marks[is_orig ? 0 : 1];
    if (f & tf::kSyn) count_flag(m.syn);
    if (f & tf::kFin) count_flag(m.fin);
    if (f & tf::kRst) count_flag(m.rst);
    apply_ack(s, is_orig, pkt);
    finish_segment(s, is_orig, pkt, seq_one_past);
  }

  CloseOutcome out;
  bool still_active = true;  // Zeek's is_active: cleared when the connection finishes or is reset
  switch (s.ep[is_orig ? 0 : 1].state) {
    case ES::kInactive: is_orig = update_inactive(s, is_orig, pkt, now_ns, cfg, out); break;
    case ES::kSynSent:
    case ES::kSynAckSent: update_syn_sent(s, is_orig, f, out, still_active); break;
    case ES::kEstablished:
    case ES::kPartial: update_established(s, is_orig, f, out, still_active); break;
    case ES::kClosed: update_closed(s, is_orig, f, now_ns, cfg, out); break;
    case ES::kReset: break;
  }
  if (out.do_close) connection_closed(s, is_orig, out.gen_event, cfg, still_active);
  // An inactive connection ignores its attempt and expire timers (only the delete timer still runs).
  if (!still_active) {
    s.attempt_mark = 0;
    s.timers_cancelled = true;
  }
  return completed_handshake;
}

}  // namespace synscope::tcp_session
