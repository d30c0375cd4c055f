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

// Sets an endpoint's start sequence number (and its ack_seq with it). Zeek's reassembler keeps its own
// relative numbers when the start moves, so the inline delivered edge keeps its distance from the start (1,
// the first data octet, for an endpoint never numbered).
void set_start(Endpoint& e, uint32_t start) noexcept {
  uint32_t delivered = e.content_end - e.start_seq;
  if (delivered == 0) delivered = 1;
  e.start_seq = e.ack_seq = start;
  e.content_end = start + delivered;
}

void init_endpoint(Endpoint& e, uint8_t flags, uint32_t first_seq, uint32_t last_seq) noexcept {
  const bool syn = flags & tf::kSyn;
  switch (e.state) {
    case ES::kInactive:
      if (syn) {
        set_start(e, first_seq);
      } else {
        // Partial connection: number bytes as though a SYN had been seen.
        set_start(e, first_seq - 1);
        last_seq = first_seq;
      }
      e.last_seq = last_seq;
      break;
    case ES::kSynSent:
    case ES::kSynAckSent:
      if (syn && first_seq != e.start_seq) {
        set_start(e, first_seq);
        e.last_seq = last_seq;
      }
      break;
    case ES::kEstablished:
    case ES::kPartial:
      if (syn) {
        set_start(e, first_seq);
        e.last_seq = last_seq;
      }
      break;
    case ES::kReset:
      if (syn && e.prev_state == ES::kInactive) {
        set_start(e, first_seq);
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

// The ACK number advances the peer's acknowledged sequence (or numbers a peer not seen yet). Returns how
// far it advanced an active peer's (0: not at all).
inline uint32_t apply_ack(Session& s, bool is_orig, const PacketMeta& pkt) noexcept {
  if (!(pkt.flags & tf::kAck)) return 0;
  Endpoint& pe = s.ep[is_orig ? 1 : 0];
  if (pe.state == ES::kInactive) {
    set_start(pe, pkt.ack - 1);
    pe.last_seq = pkt.ack - 1;
  } else if (seq_delta(pkt.ack, pe.start_seq) >= 0 && !(pkt.flags & tf::kRst)) {
    const int32_t delta_ack = seq_delta(pkt.ack, pe.ack_seq);
    if (!(pkt.ack == 0 && delta_ack > kTooLargeSeqDelta) && delta_ack > 0) {
      pe.ack_seq = pkt.ack;
      return static_cast<uint32_t>(delta_ack);
    }
  }
  return 0;
}

// Sequence tracking after the ACK, then the packet and byte counters.
inline void finish_segment(Session& s, bool is_orig, const PacketMeta& pkt, uint32_t seq_one_past) noexcept {
  update_last_seq(s, is_orig, seq_one_past, pkt.flags, pkt.payload_len);
  Endpoint& e = s.ep[is_orig ? 0 : 1];
  ++e.pkts;
  e.ip_bytes += pkt.ip_len;
}

// Content gaps (content.hpp). The packet's sender is `x`, its peer (whose data an ACK acknowledges) `y`;
// both are indexes into s.ep, taken after any role flip. Zeek acts on the ACK after the state machine and
// on the data after the ACK: so does track_content(), called last.

bool is_clean(const Endpoint& e) noexcept {
  return e.state == ES::kEstablished || (e.state == ES::kClosed && e.prev_state == ES::kEstablished);
}

ContentContext content_context(const Session& s, size_t x) noexcept {
  const Endpoint& e = s.ep[x];
  const Endpoint& peer = s.ep[1 - x];
  ContentContext c;
  c.clean = is_clean(e) && is_clean(peer);
  c.active = e.state == ES::kEstablished && peer.state == ES::kEstablished;
  c.partial = s.syn_mark == 0 || s.synack_mark == 0;
  c.no_data_acked = e.ack_seq == e.start_seq || e.ack_seq == e.start_seq + 1;
  c.size = payload_bytes(s, x);
  return c;
}

// The session's slot, taking one on first need: the inline state (each side's delivered edge, trim point
// and FIN) becomes the slot's. `y` and `y_ack_before` give the acknowledged side's ACK from before this
// packet (apply_ack has moved it already; Zeek's trim point moves only when the ACK is processed).
SessionContent* content_slot(Session& s, ContentPool& pool, size_t y, uint32_t y_ack_before) noexcept {
  const uint32_t held = s.content_slot_number();
  if (held == ContentPool::kUntracked) return nullptr;
  if (held != 0) return &pool.at(held);
  const uint32_t n = pool.acquire();
  if (n == 0) {
    s.set_content_slot(ContentPool::kUntracked);
    return nullptr;
  }
  s.set_content_slot(n);
  SessionContent& slot = pool.at(n);
  for (size_t i = 0; i < 2; ++i) {
    const Endpoint& e = s.ep[i];
    DirectionContent& d = slot.side[e.is_lo ? 0 : 1];
    const uint32_t delivered = e.content_end - e.start_seq;
    d.last_reassem = delivered == 0 ? 1 : delivered;
    const int32_t acked = seq_delta(i == y ? y_ack_before : e.ack_seq, e.start_seq);
    const uint64_t trim = acked > 1 ? static_cast<uint64_t>(acked) : 1;
    d.trim = trim < d.last_reassem ? trim : d.last_reassem;
    if (s.marks[i].fin > 0) d.fin_seq = d.last_reassem + 1;  // inline, a FIN always ended the data
  }
  return &slot;
}

inline DirectionContent& side_of(SessionContent& slot, const Endpoint& e) noexcept {
  return slot.side[e.is_lo ? 0 : 1];
}

// The ACK of a segment from x, for y's data: Zeek's AckReceived.
void content_ack_of(Session& s, size_t x, const PacketMeta& pkt, uint32_t y_ack_before, ContentPool& pool) noexcept {
  const size_t y = 1 - x;
  Endpoint& ye = s.ep[y];
  const int32_t rel = seq_delta(pkt.ack, ye.start_seq);
  if (rel < 0) return;  // before the numbering's start: Zeek takes it as 0, which acknowledges nothing
  uint32_t ack = pkt.ack;
  if (!ContentPool::is_slot(s.content_slot_number())) {
    // Inline, a FIN ends the delivered data: its ACK (and anything past it) stops there. Past the data without
    // a FIN, the ACK reveals a gap and the session takes a slot; one left untracked stops at the edge.
    if (seq_delta(ack, ye.content_end) > 0 &&
        (s.marks[y].fin > 0 || content_slot(s, pool, y, y_ack_before) == nullptr)) {
      ack = ye.content_end;
    }
    if (!ContentPool::is_slot(s.content_slot_number())) {
      const int32_t advanced = seq_delta(ack, y_ack_before);
      if (advanced > 0 && ye.state == ES::kEstablished && s.ep[x].state == ES::kEstablished) {
        pool.count_ack(static_cast<uint32_t>(advanced));
      }
      return;
    }
  }
  DirectionContent& d = side_of(pool.at(s.content_slot_number()), ye);
  uint64_t seq = unwrap_relative(d.last_reassem, static_cast<uint32_t>(rel));
  if (d.fin_seq != 0 && seq >= d.fin_seq) seq = d.fin_seq - 1;
  const uint32_t gaps = content_ack(d, seq, content_context(s, y), pool);
  for (uint32_t i = 0; i < gaps; ++i) scaled_history(s, y == 0, d.gap_cnt, d.gap_level, 'G');
}

// The payload and FIN of a segment from x: Zeek's DataSent and FIN_seq.
void content_data_of(Session& s, size_t x, const PacketMeta& pkt, ContentPool& pool) noexcept {
  Endpoint& e = s.ep[x];
  const uint8_t f = pkt.flags;
  const uint32_t syn = (f & tf::kSyn) ? 1 : 0;
  const bool data = pkt.payload_len > 0 && !(f & tf::kRst) && !(pkt.partial & packet::segment_part::kPayloadCut) &&
                    seq_delta(pkt.seq, e.start_seq) >= 0;  // Zeek delivers no payload numbered before the start
  const uint32_t data_seq = pkt.seq + syn;
  uint32_t slot = s.content_slot_number();
  if (data && !ContentPool::is_slot(slot)) {
    if (seq_delta(data_seq, e.content_end) <= 0) {
      const uint32_t end = data_seq + pkt.payload_len;
      if (seq_delta(end, e.content_end) > 0) e.content_end = end;
      if (slot == 0 && seq_delta(e.content_end, e.ack_seq) > static_cast<int32_t>(kExcessiveDataWithoutAcks)) {
        content_slot(s, pool, x, e.ack_seq);  // Zeek gives up on this direction: the slot says so
      }
    } else if (slot == 0) {
      content_slot(s, pool, x, e.ack_seq);  // a hole opens
    }
    slot = s.content_slot_number();
  }
  if (f & tf::kFin) {
    uint32_t seg_len = pkt.payload_len + syn + 1;
    if (f & tf::kRst) seg_len -= pkt.payload_len;
    const uint32_t fin_seq = pkt.seq + seg_len;
    if (slot == 0 && fin_seq - 1 != e.content_end) {
      content_slot(s, pool, x, e.ack_seq);  // the FIN does not end the data seen: its ACK must not hide a gap
      slot = s.content_slot_number();
    }
    if (ContentPool::is_slot(slot)) {
      DirectionContent& d = side_of(pool.at(slot), e);
      d.fin_seq = unwrap_relative(d.last_reassem, fin_seq - e.start_seq);
    }
  }
  if (data && ContentPool::is_slot(slot)) {
    DirectionContent& d = side_of(pool.at(slot), e);
    const uint64_t seq = unwrap_relative(d.last_reassem, data_seq - e.start_seq);
    const uint64_t ack = unwrap_relative(d.last_reassem, e.ack_seq - e.start_seq);
    content_data(d, seq, pkt.payload_len, ack, content_context(s, x), pool.stats());
  }
}

void track_content(Session& s, bool from_lo, const PacketMeta& pkt, bool y_was_inactive, uint32_t y_ack_before,
                   ContentPool& pool) noexcept {
  const size_t x = s.ep[0].is_lo == from_lo ? 0 : 1;
  if (pkt.partial & packet::segment_part::kFragment) [[unlikely]] {
    // Zeek reassembles the datagram; its length here is one fragment's, so the data would leave a false hole.
    // The session's content is no longer followed: no gap is reported rather than a wrong one.
    const uint32_t held = s.content_slot_number();
    if (ContentPool::is_slot(held)) {
      for (DirectionContent& d : pool.at(held).side) d.skip = true;
    } else {
      s.set_content_slot(ContentPool::kUntracked);
    }
    return;
  }
  // An ACK for a side not seen yet numbers it (relative 1): nothing to acknowledge.
  if ((pkt.flags & tf::kAck) && !y_was_inactive) content_ack_of(s, x, pkt, y_ack_before, pool);
  content_data_of(s, x, pkt, pool);
}

// A segment without SYN, FIN or RST from an endpoint already past kInactive: no role flip, no handshake
// time but the third step's, no start sequence to set and no state change. Most segments of a connection
// are these (more so on bulk transfers), so they skip the control path.
bool update_plain(Session& s, bool is_orig, const PacketMeta& pkt, uint64_t now_ns, ContentPool* content) noexcept {
  const bool completed_handshake = note_handshake_ack(s, is_orig, pkt.flags, now_ns);
  update_plain_history(s, is_orig, pkt.flags, pkt.payload_len);
  note_window_and_time(s, is_orig, pkt, now_ns);
  Endpoint& e = s.ep[is_orig ? 0 : 1];
  Endpoint& peer = s.ep[is_orig ? 1 : 0];
  const uint32_t advanced = apply_ack(s, is_orig, pkt);
  finish_segment(s, is_orig, pkt, pkt.seq + pkt.payload_len);
  if (content == nullptr) return completed_handshake;
  // Content, inline while the session has no slot: in-order data moves the delivered edge, an ACK within the
  // data seen only counts (an ACK numbering a peer not seen yet leaves it at its edge).
  if (!s.has_content_slot() && pkt.partial == 0 &&
      !((pkt.flags & tf::kAck) && seq_delta(pkt.ack, peer.content_end) > 0) &&
      (pkt.payload_len == 0 || pkt.seq == e.content_end)) [[likely]] {
    e.content_end += pkt.payload_len;
    if (seq_delta(e.content_end, e.ack_seq) > static_cast<int32_t>(kExcessiveDataWithoutAcks)) [[unlikely]] {
      // Zeek gives up on this direction: the slot says so (its data path sees this payload delivered already).
      content_slot(s, *content, is_orig ? 0 : 1, e.ack_seq);
    } else {
      if (advanced != 0 && e.state == ES::kEstablished && peer.state == ES::kEstablished) content->count_ack(advanced);
      return completed_handshake;
    }
  }
  // A plain segment changes no state: the peer was inactive before the ACK if it is now.
  track_content(s, e.is_lo, pkt, peer.state == ES::kInactive, peer.ack_seq - advanced, *content);
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

bool update(Session& s, const PacketMeta& pkt, bool from_lo, uint64_t now_ns, const SessionConfig& cfg,
            ContentPool* content) noexcept {
  bool is_orig = from_lo == s.ep[0].is_lo;
  const uint8_t f = pkt.flags;
  const uint32_t len = pkt.payload_len;
  if (!(f & (tf::kSyn | tf::kFin | tf::kRst)) && s.ep[is_orig ? 0 : 1].state != ES::kInactive) [[likely]] {
    return update_plain(s, is_orig, pkt, now_ns, content);
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

  bool peer_inactive = false;
  uint32_t peer_ack = 0;
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
    peer_inactive = s.ep[is_orig ? 1 : 0].state == ES::kInactive;
    peer_ack = s.ep[is_orig ? 1 : 0].ack_seq;
    (void)apply_ack(s, is_orig, pkt);
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
  if (content != nullptr) track_content(s, from_lo, pkt, peer_inactive, peer_ack, *content);
  return completed_handshake;
}

uint64_t missed_bytes(const Session& s, const ContentPool& content) noexcept {
  const uint32_t n = s.content_slot_number();
  if (!ContentPool::is_slot(n)) return 0;
  const SessionContent& slot = content.at(n);
  return slot.side[0].missed_bytes + slot.side[1].missed_bytes;
}

void release_content(Session& s, ContentPool& content) noexcept {
  const uint32_t n = s.content_slot_number();
  if (ContentPool::is_slot(n)) content.release(n);
  s.set_content_slot(0);
}

}  // namespace synscope::tcp_session
