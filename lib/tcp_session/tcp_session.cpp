// tcp_session: Zeek-exact TCP endpoint state machine. See tcp_session.hpp and docs/verdicts.md.
#include "tcp_session/tcp_session.hpp"

#include <array>
#include <utility>

namespace synscope::tcp_session {
namespace {

using packet::PacketMeta;
namespace tf = packet::tcp_flag;
using ES = EndpointState;

// Letters recorded once per role (Zeek's HIST_* masks); the responder's copy is shifted left by 16.
enum HistBit : uint32_t {
  kHistSyn = 1u << 0,
  kHistFin = 1u << 1,
  kHistRst = 1u << 2,
  kHistFinRst = 1u << 3,
  kHistData = 1u << 4,
  kHistAck = 1u << 5,
  kHistMulti = 1u << 6,
};

constexpr int32_t kTooLargeSeqDelta = 1048576;

inline int32_t seq_delta(uint32_t a, uint32_t b) noexcept { return static_cast<int32_t>(a - b); }

inline void set_state(Endpoint& e, ES s) noexcept {
  e.prev_state = e.state;
  e.state = s;
}

void add_history(Session& s, char c) noexcept {
  if (s.history_len < kHistoryMax) {
    s.history[s.history_len++] = c;
  } else {
    s.history_truncated = true;
  }
}

inline char role_case(char c, bool is_orig) noexcept {
  return is_orig ? c : static_cast<char>(c - 'A' + 'a');
}

// Zeek's Connection::CheckHistory: records `code` the first time this role sees `bit`; returns whether
// the bit had been seen before.
bool check_history(Session& s, bool is_orig, uint32_t bit, char code) noexcept {
  const uint32_t mask = is_orig ? bit : bit << 16;
  if (s.hist_seen & mask) return true;
  s.hist_seen |= mask;
  add_history(s, role_case(code, is_orig));
  return false;
}

// Zeek's ScaledHistoryEntry records the letter on the 1st, 10th, 100th, ... occurrence: its uint32 threshold
// starts at 1 and is multiplied by 10 after each letter unless that would not grow it. The sequence has 11
// values (10^9 * 10 wraps to 1410065408, and the next product wraps below it), so an endpoint keeps the
// number of letters recorded (one byte) instead of the threshold.
constexpr std::array<uint32_t, 11> kScaledThresholds = {
    1, 10, 100, 1'000, 10'000, 100'000, 1'000'000, 10'000'000, 100'000'000, 1'000'000'000, 1'410'065'408};

void scaled_history(Session& s, bool is_orig, uint32_t& counter, uint8_t& level, char code) noexcept {
  if (++counter == kScaledThresholds[level]) {
    add_history(s, role_case(code, is_orig));
    if (level + 1u < kScaledThresholds.size()) ++level;
  }
}

void flip_roles(Session& s) noexcept {
  std::swap(s.ep[0], s.ep[1]);
  add_history(s, '^');
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
    case ES::kClosed:
      break;
  }
}

// The letters of a segment without SYN, FIN or RST: data, else a pure ACK.
inline void update_plain_history(Session& s, bool is_orig, uint8_t flags, uint32_t len) noexcept {
  if (len > 0) {
    check_history(s, is_orig, kHistData, 'D');
  } else if (flags & tf::kAck) {
    check_history(s, is_orig, kHistAck, 'A');
  }
}

void update_history(Session& s, bool is_orig, uint8_t flags, int32_t rel_seq, uint32_t len) noexcept {
  Endpoint& e = s.ep[is_orig ? 0 : 1];
  const bool syn = flags & tf::kSyn, fin = flags & tf::kFin, rst = flags & tf::kRst;
  const int bits = int{syn} + int{fin} + int{rst};
  if (bits > 1) {
    if (fin && rst) {
      check_history(s, is_orig, kHistFinRst, 'I');
    } else {
      check_history(s, is_orig, kHistMulti, 'Q');
    }
  } else if (bits == 1) {
    if (syn) {
      const char code = (flags & tf::kAck) ? 'H' : 'S';
      if (check_history(s, is_orig, kHistSyn, code) && rel_seq != e.hist_last_syn) {
        add_history(s, role_case(code, is_orig));
      }
      e.hist_last_syn = rel_seq;
    }
    if (fin) {
      // A FIN's sequence number counts from the end of the data it carries.
      const int64_t fin_seq = int64_t{rel_seq} + len;
      if (check_history(s, is_orig, kHistFin, 'F') && fin_seq != e.hist_last_fin) {
        add_history(s, role_case('F', is_orig));
      }
      e.hist_last_fin = fin_seq;
    }
    if (rst) {
      if (check_history(s, is_orig, kHistRst, 'R') && rel_seq != e.hist_last_rst) {
        add_history(s, role_case('R', is_orig));
      }
      e.hist_last_rst = rel_seq;
    }
  } else {
    update_plain_history(s, is_orig, flags, len);
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
    scaled_history(s, is_orig, e.rxmt_cnt, e.rxmt_level, 'T');
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
      if (cfg.attempt_delay_ns != 0 && !s.timers_cancelled) s.attempt_at_ns = now + cfg.attempt_delay_ns;
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
    s.attempt_at_ns = 0;
    s.delete_at_ns = s.last_ns + cfg.close_delay_ns;
  }
}

// The per-segment bookkeeping both update() paths share, in Zeek's order.

// Marks the originator's first ACK after the SYN-ACK (the handshake's third step); true when that
// completed the handshake.
inline bool note_handshake_ack(Session& s, bool is_orig, uint8_t f, uint64_t now_ns) noexcept {
  if (!(f & (tf::kSyn | tf::kRst)) && (f & tf::kAck) && s.synack_ns != 0 && s.handshake_ack_ns == 0 &&
      now_ns >= s.synack_ns && is_orig) {
    s.handshake_ack_ns = now_ns;
    return handshake_completed(s);
  }
  return false;
}

// The zero-window letter, and Zeek's last_time (which stops once both sides closed).
inline void note_window_and_time(Session& s, bool is_orig, const PacketMeta& pkt, uint64_t now_ns) noexcept {
  Endpoint& e = s.ep[is_orig ? 0 : 1];
  const Endpoint& peer = s.ep[is_orig ? 1 : 0];
  if (pkt.window == 0 && !(pkt.flags & tf::kRst) && peer.state != ES::kClosed && e.state != ES::kReset) {
    scaled_history(s, is_orig, e.win0_cnt, e.win0_level, 'W');
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
// are these (57% of a short-session capture's, more on bulk transfers), so they skip the control path.
bool update_plain(Session& s, bool is_orig, const PacketMeta& pkt, uint64_t now_ns) noexcept {
  const bool completed_handshake = note_handshake_ack(s, is_orig, pkt.flags, now_ns);
  update_plain_history(s, is_orig, pkt.flags, pkt.payload_len);
  note_window_and_time(s, is_orig, pkt, now_ns);
  apply_ack(s, is_orig, pkt);
  finish_segment(s, is_orig, pkt, pkt.seq + pkt.payload_len);
  return completed_handshake;
}

}  // namespace

SessionConfig::SessionConfig() noexcept : likely_server_ports(zeek_full_server_ports()) {
  for (uint16_t port : {21, 22, 23, 513}) long_lived_ports.set(port);
}

std::bitset<65536> SessionConfig::zeek_full_server_ports() noexcept {
  std::bitset<65536> ports;
  for (uint16_t port : {21,  22,  25,  53,  79,  80,  81,  88,  135,  139,  143,  389,  443,  445,  465,
                        502, 514, 563, 585, 587, 614, 631, 636, 989,  990,  992,  993,  995,  1080, 1434,
                        1883, 2811, 3128, 3268, 3306, 3389, 5222, 5223, 5269, 5432, 6379, 6666, 6667, 6668,
                        6669, 8000, 8080, 8888, 20000}) {
    ports.set(port);
  }
  return ports;
}

void start(Session& s, const PacketMeta& pkt, bool from_lo, uint64_t now_ns, const SessionConfig& cfg) noexcept {
  s = Session{};
  s.first_ns = s.last_ns = s.last_packet_ns = now_ns;
  bool flip = false;
  const bool pure_syn = (pkt.flags & tf::kSyn) && !(pkt.flags & tf::kAck);
  if (!pure_syn && cfg.likely_server_ports.test(pkt.src_port)) {
    flip = cfg.likely_server_ports.test(pkt.dst_port)
               ? !(pkt.flags & tf::kSyn) && pkt.src_port < pkt.dst_port
               : true;
  }
  s.ep[0].is_lo = flip ? !from_lo : from_lo;
  s.ep[1].is_lo = !s.ep[0].is_lo;
  if (flip) add_history(s, '^');
}

void record_bad_checksum(Session& s, bool from_lo) noexcept {
  const bool is_orig = from_lo == s.ep[0].is_lo;
  Endpoint& e = s.ep[is_orig ? 0 : 1];
  scaled_history(s, is_orig, e.chk_cnt, e.chk_level, 'C');
}

bool update(Session& s, const PacketMeta& pkt, bool from_lo, uint64_t now_ns, const SessionConfig& cfg) noexcept {
  bool is_orig = from_lo == s.ep[0].is_lo;
  const uint8_t f = pkt.flags;
  const uint32_t len = pkt.payload_len;
  s.last_packet_ns = now_ns;
  if (!(f & (tf::kSyn | tf::kFin | tf::kRst)) && s.ep[is_orig ? 0 : 1].state != ES::kInactive) [[likely]] {
    return update_plain(s, is_orig, pkt, now_ns);
  }

  // A connection whose only packet so far was a SYN-ACK, answered by the other side's ACK or data:
  // Zeek concludes it had the roles backwards, flips them and rewrites the history to "^h".
  if (!is_orig && s.history_len == 1 && s.history[0] == 'H' && (f & tf::kAck) &&
      !(f & (tf::kSyn | tf::kFin | tf::kRst)) && s.ep[0].state == ES::kSynAckSent &&
      s.ep[1].state == ES::kInactive) {
    std::swap(s.ep[0], s.ep[1]);
    s.hist_seen = (s.hist_seen >> 16) | (s.hist_seen << 16);
    s.history[0] = '^';
    s.history[1] = 'h';
    s.history_len = 2;
    set_state(s.ep[1], ES::kEstablished);
    s.attempt_at_ns = 0;
    is_orig = true;
  }

  // Each handshake time is set once, and the handshake can only complete when one of them is set.
  bool completed_handshake = false;
  if ((f & tf::kSyn) && !(f & tf::kAck) && s.syn_ns == 0) {
    s.syn_ns = now_ns;
    completed_handshake = handshake_completed(s);
  } else if ((f & tf::kSyn) && (f & tf::kAck) && s.synack_ns == 0) {
    s.synack_ns = now_ns;
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
    if (f & tf::kSyn) ++e.syn;
    if (f & tf::kFin) ++e.fin;
    if (f & tf::kRst) ++e.rst;
    apply_ack(s, is_orig, pkt);
    finish_segment(s, is_orig, pkt, seq_one_past);
  }

  CloseOutcome out;
  bool still_active = true;  // Zeek's is_active: cleared when the connection finishes or is reset
  switch (s.ep[is_orig ? 0 : 1].state) {
    case ES::kInactive:
      is_orig = update_inactive(s, is_orig, pkt, now_ns, cfg, out);
      break;
    case ES::kSynSent:
    case ES::kSynAckSent:
      update_syn_sent(s, is_orig, f, out, still_active);
      break;
    case ES::kEstablished:
    case ES::kPartial:
      update_established(s, is_orig, f, out, still_active);
      break;
    case ES::kClosed:
      update_closed(s, is_orig, f, now_ns, cfg, out);
      break;
    case ES::kReset:
      break;
  }
  if (out.do_close) connection_closed(s, is_orig, out.gen_event, cfg, still_active);
  // An inactive connection ignores its attempt and expire timers (only the delete timer still runs).
  if (!still_active) {
    s.attempt_at_ns = 0;
    s.timers_cancelled = true;
  }
  return completed_handshake;
}

bool is_reuse(const Session& s, const PacketMeta& pkt, bool from_lo) noexcept {
  (void)from_lo;
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
    if (s.attempt_at_ns != 0 && now >= s.attempt_at_ns && (o.state == ES::kSynSent || o.state == ES::kSynAckSent) &&
        r.state == ES::kInactive) {
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
  const bool long_lived = cfg.long_lived_ports.test(resp_port) && s.synack_ns != 0;
  const uint64_t idle_limit = long_lived ? cfg.long_inactivity_ns : cfg.inactivity_ns;
  return now >= s.last_packet_ns + idle_limit;
}

uint64_t payload_bytes(const Endpoint& e, const Endpoint& peer) noexcept {
  if (e.prev_state == ES::kSynSent && e.state == ES::kReset && peer.state == ES::kInactive &&
      (e.ack_seq == e.start_seq || e.ack_seq == e.start_seq + 1)) {
    return 0;  // a half-open connection discovered and aborted
  }
  const int32_t d_last = seq_delta(e.last_seq, e.start_seq);
  const int32_t d_ack = seq_delta(e.ack_seq, e.start_seq);
  int64_t size = d_last > d_ack ? d_last : d_ack;
  if (size < 0) size = 0;
  if (size > 0) --size;  // the SYN's sequence octet
  if (e.fin > 0 && size > 0) --size;
  return static_cast<uint64_t>(size);
}

ConnState conn_state(const Session& s) noexcept {
  const Endpoint& o = s.ep[0];
  const Endpoint& r = s.ep[1];
  const bool o_inactive = o.state == ES::kInactive || o.state == ES::kPartial;
  const bool r_inactive = r.state == ES::kInactive || r.state == ES::kPartial;
  if (r.state == ES::kReset) {
    if (o.state == ES::kSynSent || o.state == ES::kSynAckSent ||
        (o.state == ES::kReset && payload_bytes(o, r) == 0 && payload_bytes(r, o) == 0)) {
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

bool is_attempt(const Session& s) noexcept { return s.syn_ns != 0; }

bool handshake_completed(const Session& s) noexcept {
  return s.syn_ns != 0 && s.synack_ns != 0 && s.handshake_ack_ns != 0;
}

std::string_view conn_state_name(ConnState s) noexcept {
  static constexpr std::string_view kNames[] = {"S0",   "S1",   "SF",     "REJ",   "S2", "S3", "RSTO",
                                                "RSTR", "RSTOS0", "RSTRH", "SH",  "SHR", "OTH"};
  const auto i = static_cast<size_t>(s);
  return i < kConnStateCount ? kNames[i] : "OTH";
}

bool is_failed(ConnState s) noexcept {
  switch (s) {
    case ConnState::kS0:
    case ConnState::kREJ:
    case ConnState::kRSTOS0:
    case ConnState::kRSTRH:
    case ConnState::kSH:
    case ConnState::kSHR:
      return true;
    default:
      return false;
  }
}

std::string_view failure_reason(ConnState s) noexcept {
  switch (s) {
    case ConnState::kS0: return "no_reply";                  // SYN never answered (filtered, host down)
    case ConnState::kREJ: return "rejected";                 // SYN answered by RST (port closed)
    case ConnState::kRSTOS0: return "client_abort";          // client gave up with a RST before any reply
    case ConnState::kRSTRH: return "server_reset_no_syn";    // server reset, client's SYN never seen
    case ConnState::kSH: return "client_fin_no_reply";       // client closed without any server reply
    case ConnState::kSHR: return "server_fin_no_syn";        // server closed, client's SYN never seen
    default: return "";
  }
}

}  // namespace synscope::tcp_session
