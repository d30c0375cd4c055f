// flow_record: a finished session as the IPFIX exporter needs it, copied out of the engine's record.
//
// make_flow_record() runs on the consumer thread (the replay reader, the live stats core) once per
// session; the FlowRecord it fills is plain data with no pointers, so it can cross the SP/SC ring to the
// exporter thread (ipfix::Exporter) and the engine's Session can be reused at once. Pure functions, no
// allocation, thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "engine/engine.hpp"
#include "tcp_session/tcp_session.hpp"

namespace synscope::ipfix {

/// Our enterprise elements' Private Enterprise Number: 32473, the number RFC 5612 reserves for
/// documentation and examples. synscope has no PEN of its own; a site that has one can change this one
/// constant (collectors key the elements on PEN and id, docs/outputs.md lists them).
inline constexpr uint32_t kSynscopePen = 32473;

/// IANA flowEndReason (element 136) values.
enum class FlowEndReason : uint8_t {
  kIdleTimeout = 0x01,
  kActiveTimeout = 0x02,
  kEndOfFlow = 0x03,
  kForcedEnd = 0x04,
  kLackOfResources = 0x05,
};

/// flowEndReason of how a session ended (engine::session_end): a FIN pair, a RST or a new connection on
/// the 5-tuple is the end of the flow seen on the wire (0x03); a timer is an idle timeout (0x01); eviction
/// from a full table is lack of resources (0x05); the end of a capture or a shutdown is a forced end (0x04).
[[nodiscard]] FlowEndReason flow_end_reason(engine::SessionEnd end) noexcept;

/// tcpControlBits (RFC 9565 / element 6) bits we can say something about.
inline constexpr uint16_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;

/// One side's tcpControlBits, derived: the engine keeps SYN/FIN/RST counts per side (EndpointMarks) but no
/// union of the flags, so SYN, FIN and RST come from the counts and ACK from the history letters of that
/// side ('h' SYN-ACK, 'a' pure ACK; upper case for the originator, `orig`). PSH, URG, ECE and CWR are never
/// set: nothing kept says whether they were seen.
[[nodiscard]] uint16_t tcp_control_bits(const tcp_session::EndpointMarks& marks, std::string_view history,
                                        bool orig) noexcept;

/// A short string kept inline (no pointer): at most N - 1 bytes, cut if longer.
template <size_t N>
struct InlineText {
  char text[N] = {};
  uint8_t len = 0;
  void set(std::string_view s) noexcept {
    len = static_cast<uint8_t>(s.size() < N ? s.size() : N - 1);
    if (len != 0) std::memcpy(text, s.data(), len);  // an empty view may have no data pointer at all
  }
  [[nodiscard]] std::string_view view() const noexcept { return {text, len}; }
};

/// One direction's counters: packets and IP bytes (Zeek's *_pkts, *_ip_bytes), flag counts, flags.
struct FlowDirection {
  uint64_t packets = 0;
  uint64_t octets = 0;
  uint64_t syn = 0, fin = 0, rst = 0;
  uint16_t flags = 0;  ///< tcp_control_bits()
};

/// What the IPFIX templates carry for one session, in Zeek's orientation: dir[0] originator -> responder,
/// dir[1] the reverse. Trivially copyable, no pointers (it crosses threads by value).
struct FlowRecord {
  packet::IpAddr orig_h, resp_h;  ///< IPv4 in the first 4 bytes, network order
  uint16_t orig_p = 0, resp_p = 0;
  uint8_t ip_version = 4;
  uint8_t end_reason = 0;     ///< FlowEndReason
  uint64_t start_ms = 0;      ///< first packet, ms since the epoch
  uint64_t end_ms = 0;        ///< last packet
  uint64_t missed_bytes = 0;  ///< engine::SessionRecord::missed_bytes
  FlowDirection dir[2];
  InlineText<8> conn_state;
  InlineText<tcp_session::kHistoryMax + 1> history;
  InlineText<24> failure_reason;  ///< empty when the session did not fail
  InlineText<12> perspective;
  InlineText<16> uid;
  InlineText<16> end;      ///< engine::session_end_name
  InlineText<16> removed;  ///< engine::end_reason_name
};

/// Fills `out` from a finished session (record.session must be valid, as in SessionSink::on_session).
void make_flow_record(const engine::SessionRecord& record, FlowRecord& out) noexcept;

}  // namespace synscope::ipfix
