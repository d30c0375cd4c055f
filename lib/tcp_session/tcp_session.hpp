// tcp_session: the per-connection TCP state machine that yields Zeek's conn_state and history.
//
// A Session is plain data that lives inside one RX core's FlowTable; only that core touches it, so nothing
// here is thread-safe and nothing needs to be. The rules follow Zeek's TCPSessionAdapter (endpoint states,
// history letters and their repeat rules, connection reuse, the SYN/SYN-ACK reversal flip) and Zeek's
// `conn_state` script function; docs/verdicts.md lists each rule and where it comes from.
//
// Timers are lazy: instead of a timer queue, `expired()` answers "would Zeek have removed this connection
// by time `now`?" from timestamps kept in the session. The flow table asks it when a packet arrives for an
// existing session and when it sweeps a slice of the table, so verdicts do not depend on sweep timing.
#pragma once

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "packet/packet.hpp"
#include "tcp_session/content.hpp"

namespace synscope::tcp_session {

/// One TCP endpoint's state, as Zeek's TCP_Endpoint tracks it.
enum class EndpointState : uint8_t { kInactive, kSynSent, kSynAckSent, kPartial, kEstablished, kClosed, kReset };

/// Zeek's conn_state values.
enum class ConnState : uint8_t {
  kS0,
  kS1,
  kSF,
  kREJ,
  kS2,
  kS3,
  kRSTO,
  kRSTR,
  kRSTOS0,
  kRSTRH,
  kSH,
  kSHR,
  kOTH,
  kCount
};
inline constexpr size_t kConnStateCount = static_cast<size_t>(ConnState::kCount);

/// Zeek's spelling of a conn_state ("S0", "REJ", ...).
[[nodiscard]] std::string_view conn_state_name(ConnState s) noexcept;

/// A failed conn_state and why it failed, in words an operator reads.
struct FailedState {
  ConnState state;
  std::string_view reason;
};

/// The failed states: an attempt whose handshake never completed. The one list of them; outputs that show
/// failed sessions by state show them in this order.
inline constexpr std::array<FailedState, 6> kFailedStates = {{
    {ConnState::kS0, "no_reply"},                // SYN never answered (filtered, host down)
    {ConnState::kREJ, "rejected"},               // SYN answered by RST (port closed)
    {ConnState::kRSTOS0, "client_abort"},        // client gave up with a RST before any reply
    {ConnState::kRSTRH, "server_reset_no_syn"},  // server reset, client's SYN never seen
    {ConnState::kSH, "client_fin_no_reply"},     // client closed without any server reply
    {ConnState::kSHR, "server_fin_no_syn"},      // server closed, client's SYN never seen
}};

/// True when `s` is one of kFailedStates.
[[nodiscard]] bool is_failed(ConnState s) noexcept;

/// The reason kFailedStates gives for `s` ("no_reply", "rejected", ...); "" when `s` is not a failed state.
[[nodiscard]] std::string_view failure_reason(ConnState s) noexcept;

/// Timeouts and role heuristics; defaults are Zeek's (init-bare.zeek).
struct SessionConfig {
  uint64_t attempt_delay_ns = 5'000'000'000;  ///< tcp_attempt_delay: SYN with no reply
  /// tcp_close_delay: after a complete close or reset. At most inactivity_ns and long_inactivity_ns: a
  /// session keeps one last-packet time, which stops at the close (Zeek's last_time), and the inactivity
  /// timer can use it only because the delete timer fires first.
  uint64_t close_delay_ns = 5'000'000'000;
  uint64_t connection_linger_ns = 5'000'000'000;    ///< tcp_connection_linger: idle half-closed
  uint64_t session_timer_ns = 6'000'000'000;        ///< tcp_session_timer: re-check period
  uint64_t syn_timeout_ns = 5'000'000'000;          ///< tcp_SYN_timeout: first re-check
  uint64_t inactivity_ns = 300'000'000'000;         ///< tcp_inactivity_timeout
  uint64_t long_inactivity_ns = 3'600'000'000'000;  ///< for established sessions on `long_lived_ports`
  std::bitset<65536> likely_server_ports;           ///< decides the originator when the SYN was not seen
  std::bitset<65536> long_lived_ports;              ///< Conn::port_inactivity_timeouts (21, 22, 23, 513)

  /// Zeek's full-mode likely_server_ports (ports registered by its default protocol analyzers).
  static std::bitset<65536> zeek_full_server_ports() noexcept;
  SessionConfig() noexcept;
  /// The earliest any timer can fire after a session's first packet (attempt, first session-timer check,
  /// inactivity), when no close has set a delete timer.
  [[nodiscard]] uint64_t earliest_timer_ns() const noexcept {
    uint64_t t = attempt_delay_ns < syn_timeout_ns ? attempt_delay_ns : syn_timeout_ns;
    t = t < inactivity_ns ? t : inactivity_ns;
    return t < long_inactivity_ns ? t : long_inactivity_ns;
  }
};

/// Per-side state that every segment reads or writes: the endpoint's TCP state, its sequence numbers and
/// its packet and byte counts, and the end of its delivered data. `Session::ep[0]` is always the current
/// originator. 32 bytes, so both sides
/// fill the one cache line after a flow entry's key line. All-zero is the initial value (see Session).
struct Endpoint {
  uint64_t ip_bytes = 0;
  uint32_t start_seq = 0;
  uint32_t last_seq = 0;
  uint32_t ack_seq = 0;  ///< highest ack the peer sent for this side's data
  uint32_t pkts = 0;
  /// One past the last byte of this side's data that Zeek's reassembler delivered (its last_reassem_seq),
  /// while the session has no ContentPool slot (see content.hpp); absolute, moved with start_seq.
  uint32_t content_end = 0;
  EndpointState state = EndpointState::kInactive;
  EndpointState prev_state = EndpointState::kInactive;
  bool did_close = false;
  bool is_lo = false;  ///< this endpoint is the key's lo side (fixed, survives flips)
};
static_assert(sizeof(Endpoint) == 32);

/// Per-side state that only control segments (SYN, FIN, RST) and rare events (retransmitted payload, zero
/// windows, bad checksums) touch: the history letters' repeat rules, the flag counts and the logarithmic
/// letters' counters. 32 bytes: both sides fill a flow entry's last cache line, which a plain data segment
/// never reads. `Session::marks[0]` belongs to the current originator (swapped with ep on a flip).
struct EndpointMarks {
  int32_t hist_last_syn = 0;  ///< relative seq of the last SYN and RST, for letter repeats
  int32_t hist_last_rst = 0;
  int32_t hist_last_fin = 0;  ///< relative seq of the last FIN (its letter's repeat rule adds the data it carried)
  uint32_t chk_cnt = 0;       ///< bad checksums ('C', logarithmic: see scaled_history in history.hpp)
  uint32_t rxmt_cnt = 0;      ///< retransmitted payload ('T', logarithmic)
  uint32_t win0_cnt = 0;      ///< zero windows ('W', logarithmic)
  /// Payload the last FIN carried: a FIN's sequence number counts from the end of its data, which can pass
  /// 2^31 from the start; kept apart from hist_last_fin so the pair needs no 64-bit field.
  uint16_t hist_last_fin_len = 0;
  uint16_t syn = 0;  ///< SYN packets (with or without ACK); the flag counts stop at 65535
  uint16_t fin = 0;
  uint16_t rst = 0;
};
static_assert(sizeof(EndpointMarks) == 32);

/// How many times each logarithmic letter was recorded for one side (its next threshold).
struct ScaledLevels {
  uint8_t chk = 0;
  uint8_t rxmt = 0;
  uint8_t win0 = 0;
};

inline constexpr size_t kHistoryMax = 23;

/// A time within a session, kept as the microseconds from the session's first packet's microsecond, plus one
/// (0: not set). Zeek keeps times as double seconds since the epoch (about a quarter of a microsecond apart
/// today) and logs them to the microsecond, and a difference of two marks is the difference of the two
/// times as logged. A session's 32-bit marks reach 71 minutes; a later time is held at the limit (handshake
/// steps and the attempt timer come in a session's first seconds).
using SessionMark = uint32_t;
inline constexpr SessionMark kMarkMax = UINT32_MAX;

/// The mark of event time `t_ns` (at or after `first_ns`): its microsecond.
[[nodiscard]] inline SessionMark mark_at(uint64_t first_ns, uint64_t t_ns) noexcept {
  const uint64_t us = t_ns > first_ns ? t_ns / 1000 - first_ns / 1000 : 0;
  return us < kMarkMax - 1 ? static_cast<SessionMark>(us + 1) : kMarkMax;
}
/// The mark of deadline `t_ns`: rounded up to a microsecond, so a timer never fires before its time.
[[nodiscard]] inline SessionMark deadline_mark(uint64_t first_ns, uint64_t t_ns) noexcept {
  const uint64_t us = t_ns > first_ns ? (t_ns + 999) / 1000 - first_ns / 1000 : 0;
  return us < kMarkMax - 1 ? static_cast<SessionMark>(us + 1) : kMarkMax;
}
/// The time a mark stands for (only for a set mark).
[[nodiscard]] inline uint64_t mark_ns(uint64_t first_ns, SessionMark m) noexcept {
  return (first_ns / 1000 + (m - 1)) * 1000;
}

/// The state of one connection. Trivially copyable; lives in a FlowTable entry after its 40-byte key, laid
/// out by cache line so a lookup and a plain data segment read three lines of the entry and never the
/// fourth:
///   line 0 (24 bytes here, after the key): the timers' inline test (first_ns, delete_at_ns) and small flags;
///   line 1: both endpoints' per-segment state (ep);
///   line 2: Zeek's last_time, the log id, handshake and attempt marks, the history letters;
///   line 3: both endpoints' marks (control segments and rare events only).
/// Every member starts at zero, so `Session{}` compiles to plain zeroing stores (start() pays it once per
/// session).
struct Session {
  // Line 0. expired()'s inline test reads only first_ns and delete_at_ns, on every packet and every sweep
  // step, so the table entry keeps them in the cache line of its key.
  uint64_t first_ns = 0;      ///< first packet (Zeek's ts, start_time)
  uint64_t delete_at_ns = 0;  ///< delete timer deadline after a complete close (0 = none)
  uint16_t hist_seen = 0;     ///< letters recorded once per role: bit b (orig) and b+8 (resp)
  uint8_t history_len = 0;
  bool history_truncated = false;
  bool timers_cancelled = false;
  std::optional<ConnState> counted_as;  ///< verdict already counted by the engine (empty: not yet)
  /// Bits the session's owner keeps with it (the engine: which addresses are internal); start() keeps them.
  uint8_t owner_bits = 0;
  // Line 1.
  std::array<Endpoint, 2> ep;  ///< [0] originator, [1] responder (swapped when Zeek would flip roles)
  // Line 2.
  uint64_t last_ns = 0;                ///< Zeek's last_time: any packet, not advanced once both sides closed
  uint64_t uid = 0;                    ///< the session's log id, set by its owner after start()
  SessionMark syn_mark = 0;            ///< originator's first SYN
  SessionMark synack_mark = 0;         ///< responder's first SYN-ACK
  SessionMark handshake_ack_mark = 0;  ///< originator's first ACK after the SYN-ACK
  SessionMark attempt_mark = 0;        ///< attempt timer deadline (0 = none)
  std::array<ScaledLevels, 2> levels;  ///< as ep
  char history[kHistoryMax] = {};
  /// The session's ContentPool slot, 24 bits little-endian (0: none; its content is tracked inline).
  std::array<uint8_t, 3> content_slot{};
  // Line 3.
  std::array<EndpointMarks, 2> marks;  ///< as ep

  [[nodiscard]] std::string_view history_view() const noexcept { return {history, history_len}; }
  /// content_slot_number() != 0, in fewer instructions (the plain segment path asks on every packet).
  [[nodiscard]] bool has_content_slot() const noexcept {
    return (content_slot[0] | content_slot[1] | content_slot[2]) != 0;
  }
  [[nodiscard]] uint32_t content_slot_number() const noexcept {
    return content_slot[0] | (uint32_t{content_slot[1]} << 8) | (uint32_t{content_slot[2]} << 16);
  }
  void set_content_slot(uint32_t n) noexcept {
    content_slot = {static_cast<uint8_t>(n), static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n >> 16)};
  }
};
static_assert(sizeof(Session) == 216 && offsetof(Session, ep) == 24 && offsetof(Session, last_ns) == 88 &&
                  offsetof(Session, marks) == 152,
              "after a 40-byte key, ep, last_ns and marks must each start a cache line");

/// Starts a session for its first packet. `from_lo` says whether the packet's sender is the key's lo side.
/// Chooses the originator as Zeek does: the sender, unless the packet is not a pure SYN and its source
/// port is a likely server port (then the receiver).
void start(Session& s, const packet::PacketMeta& pkt, bool from_lo, uint64_t now_ns, const SessionConfig& cfg) noexcept;

/// Applies one valid TCP segment. `from_lo` as in start(). Returns true when this segment completed the
/// three-way handshake (handshake_completed() became true), so a caller need not test it before and after.
/// With a `content` pool, content gaps are tracked as Zeek's reassembler finds them (missed_bytes, 'G'/'g',
/// the pool's ContentStats); without one they are not, and the history never has those letters.
bool update(Session& s, const packet::PacketMeta& pkt, bool from_lo, uint64_t now_ns, const SessionConfig& cfg,
            ContentPool* content = nullptr) noexcept;

/// Bytes of the content gaps Zeek would report for the session (conn.log's missed_bytes).
[[nodiscard]] uint64_t missed_bytes(const Session& s, const ContentPool& content) noexcept;

/// Gives the session's slot back to `content` (when it has one); call when the session ends.
void release_content(Session& s, ContentPool& content) noexcept;

/// Records a segment that failed its checksum: Zeek ignores it except for the 'C' history letter.
void record_bad_checksum(Session& s, bool from_lo) noexcept;

/// True when Zeek would treat this packet as the start of a new connection on the same 5-tuple (Zeek's
/// TCPSessionAdapter::IsReuse): a SYN whose sequence number is not the originator's start, a SYN-ACK on a
/// half connection (no originator seen) not matching the responder's start, or any SYN once a side has
/// closed. Zeek does not ask which side sent it: a SYN's role is judged against the session's originator
/// (a SYN-ACK's against its responder), whoever the sender, with the SYN/SYN-ACK reversal left to update().
[[nodiscard]] bool is_reuse(const Session& s, const packet::PacketMeta& pkt) noexcept;

/// True when Zeek's timers would have removed the session by `now_ns`. Checked on every packet, so the
/// common answer (a young session, nothing scheduled yet) is decided inline; expired_slow() has the rules.
/// `port_lo`/`port_hi` are the flow key's ports: the responder's port (long-lived services) is looked up
/// only when a timer may have fired, so the common answer reads nothing beyond first_ns and delete_at_ns.
[[nodiscard]] bool expired_slow(const Session& s, uint64_t now_ns, const SessionConfig& cfg, uint16_t port_lo,
                                uint16_t port_hi) noexcept;
[[nodiscard]] inline bool expired(const Session& s, uint64_t now_ns, const SessionConfig& cfg, uint16_t port_lo,
                                  uint16_t port_hi) noexcept {
  if (now_ns < s.first_ns + cfg.earliest_timer_ns() && (s.delete_at_ns == 0 || now_ns < s.delete_at_ns)) {
    return false;
  }
  return expired_slow(s, now_ns, cfg, port_lo, port_hi);
}

/// Zeek's conn_state for the session as it is now.
[[nodiscard]] ConnState conn_state(const Session& s) noexcept;

/// Signed distance from sequence number `b` to `a`, modulo 2^32.
[[nodiscard]] inline int32_t seq_delta(uint32_t a, uint32_t b) noexcept { return static_cast<int32_t>(a - b); }

/// Payload bytes sent by side `side` (0 originator, 1 responder), from sequence numbers (Zeek's
/// orig_bytes/resp_bytes).
[[nodiscard]] uint64_t payload_bytes(const Session& s, size_t side) noexcept;

/// True when the originator sent a SYN (the session is a connection attempt).
[[nodiscard]] bool is_attempt(const Session& s) noexcept;

/// True when the three-way handshake completed (SYN, SYN-ACK, and the originator's ACK).
[[nodiscard]] bool handshake_completed(const Session& s) noexcept;

/// True once the connection is over on the wire: a side reset, or both sides closed. Zeek still keeps it
/// for tcp_close_delay, but its conn_state is settled (live counters count it at this moment).
[[nodiscard]] inline bool is_closed(const Session& s) noexcept {
  using enum EndpointState;
  return s.ep[0].state == kReset || s.ep[1].state == kReset || (s.ep[0].state == kClosed && s.ep[1].state == kClosed);
}

}  // namespace synscope::tcp_session
