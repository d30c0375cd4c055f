// flow_record: see flow_record.hpp.
#include "ipfix/flow_record.hpp"

#include "engine/uid_text.hpp"

namespace synscope::ipfix {

FlowEndReason flow_end_reason(engine::SessionEnd end) noexcept {
  switch (end) {
    case engine::SessionEnd::kFin:
    case engine::SessionEnd::kRstOrig:
    case engine::SessionEnd::kRstResp:
    case engine::SessionEnd::kReused: return FlowEndReason::kEndOfFlow;
    case engine::SessionEnd::kIdle: return FlowEndReason::kIdleTimeout;
    case engine::SessionEnd::kEvicted: return FlowEndReason::kLackOfResources;
    case engine::SessionEnd::kEndOfInput:
    case engine::SessionEnd::kShutdown: return FlowEndReason::kForcedEnd;
  }
  return FlowEndReason::kForcedEnd;
}

uint16_t tcp_control_bits(const tcp_session::EndpointMarks& marks, std::string_view history, bool orig) noexcept {
  uint16_t bits = 0;
  if (marks.syn != 0) bits |= kTcpSyn;
  if (marks.fin != 0) bits |= kTcpFin;
  if (marks.rst != 0) bits |= kTcpRst;
  // Zeek's letters: 'h' is a SYN-ACK, 'a' a pure ACK; the originator's are upper case. A data ('d'), FIN or
  // RST letter does not say whether ACK was set, so only these two count.
  const char syn_ack = orig ? 'H' : 'h', ack = orig ? 'A' : 'a';
  for (char c : history) {
    if (c == syn_ack || c == ack) {
      bits |= kTcpAck;
      break;
    }
  }
  return bits;
}

void make_flow_record(const engine::SessionRecord& r, FlowRecord& out) noexcept {
  const tcp_session::Session& s = *r.session;
  out.orig_h = r.orig_h;
  out.resp_h = r.resp_h;
  out.orig_p = r.orig_p;
  out.resp_p = r.resp_p;
  out.ip_version = r.ip_version;
  const engine::SessionEnd end = engine::session_end(r);
  out.end_reason = static_cast<uint8_t>(flow_end_reason(end));
  out.start_ms = s.first_ns / 1'000'000;
  out.end_ms = (s.last_ns >= s.first_ns ? s.last_ns : s.first_ns) / 1'000'000;
  const std::string_view history = s.history_view();
  for (size_t i = 0; i < 2; ++i) {
    FlowDirection& d = out.dir[i];
    d.packets = s.ep[i].pkts;
    d.octets = s.ep[i].ip_bytes;
    d.syn = s.marks[i].syn;
    d.fin = s.marks[i].fin;
    d.rst = s.marks[i].rst;
    d.flags = tcp_control_bits(s.marks[i], history, i == 0);
  }
  out.conn_state.set(tcp_session::conn_state_name(r.state));
  out.history.set(history);
  out.failure_reason.set(tcp_session::failure_reason(r.state));
  out.perspective.set(buckets::perspective_name(r.perspective));
  char uid[16];
  out.uid.set(std::string_view(uid, engine::format_uid(r.uid, uid)));
  out.end.set(engine::session_end_name(end));
  out.removed.set(engine::end_reason_name(r.end));
  out.missed_bytes = r.missed_bytes;
}

}  // namespace synscope::ipfix
