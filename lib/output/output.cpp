// output: see output.hpp.
#include "output/output.hpp"

#include "community_id/community_id.hpp"
#include "engine/uid_text.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

namespace synscope::output {

using tcp_session::ConnState;

void LineBuffer::str(std::string_view s) noexcept {
  raw("\"");
  bool plain = true;  // the usual case (a history string): nothing to escape, one copy
  for (char c : s) plain &= c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20;
  if (plain) {
    raw(s);
    raw("\"");
    return;
  }
  for (char c : s) {
    if (c == '"' || c == '\\') {
      const char esc[2] = {'\\', c};
      raw(std::string_view(esc, 2));
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char esc[8];
      const int n = std::snprintf(esc, sizeof(esc), "\\u%04x", static_cast<unsigned>(c));
      raw(std::string_view(esc, static_cast<size_t>(n)));
    } else {
      raw(std::string_view(&c, 1));
    }
  }
  raw("\"");
}

namespace {

/// The record's Community ID (always TCP, orig -> resp; either order gives the same ID).
char* put_community_id(char* w, const engine::SessionRecord& r, uint16_t seed) noexcept {
  community_id::FlowTuple flow;
  flow.src = r.orig_h;
  flow.dst = r.resp_h;
  flow.ip_version = r.ip_version;
  flow.proto = community_id::kTcp;
  flow.src_port = r.orig_p;
  flow.dst_port = r.resp_p;
  return w + community_id::format(flow, seed, w);
}

/// ECS network.direction from the record's perspective (the side of --internal-nets each end is on).
std::string_view ecs_direction(buckets::Perspective p) noexcept {
  switch (p) {
    case buckets::Perspective::kInbound: return "inbound";
    case buckets::Perspective::kOutbound: return "outbound";
    case buckets::Perspective::kPrivate: return "internal";
    case buckets::Perspective::kEdge:
    case buckets::Perspective::kCount: break;
  }
  return "external";
}

/// synscope's own fields, the same in both flavours (top level in Zeek's, under `synscope` in ECS): from
/// `"failed":` to the `removed` value's closing quote and `history_truncated` when set.
char* put_synscope_fields(char* w, const engine::SessionRecord& r) noexcept {
  const tcp_session::Session& s = *r.session;
  const auto number = [&w](std::string_view key, uint64_t value) __attribute__((always_inline)) {
    w = put::u64(put::text(w, key), value);
  };
  const auto seconds = [&w](std::string_view key, uint64_t ns) __attribute__((always_inline)) {
    w = put::seconds(put::text(w, key), ns);
  };
  const bool failed = tcp_session::is_failed(r.state);
  w = put::text(w, failed ? "\"failed\":true,\"reason\":\"" : "\"failed\":false,\"reason\":null");
  if (failed) {
    w = put::text(w, tcp_session::failure_reason(r.state));
    w = put::text(w, "\"");
  }
  w = put::text(w, ",\"perspective\":\"");
  w = put::text(w, buckets::perspective_name(r.perspective));
  const tcp_session::EndpointMarks& om = s.marks[0];
  const tcp_session::EndpointMarks& pm = s.marks[1];
  number("\",\"orig_syn\":", om.syn);
  number(",\"orig_fin\":", om.fin);
  number(",\"orig_rst\":", om.rst);
  number(",\"resp_syn\":", pm.syn);
  number(",\"resp_fin\":", pm.fin);
  number(",\"resp_rst\":", pm.rst);
  // Handshake marks are microseconds (tcp_session::SessionMark).
  if (s.syn_mark != 0 && s.synack_mark >= s.syn_mark) {
    seconds(",\"rtt_syn_synack\":", uint64_t{s.synack_mark - s.syn_mark} * 1000);
  }
  if (tcp_session::handshake_completed(s) && s.handshake_ack_mark >= s.synack_mark) {
    seconds(",\"rtt_synack_ack\":", uint64_t{s.handshake_ack_mark - s.synack_mark} * 1000);
  }
  w = put::text(w, ",\"end\":\"");
  w = put::text(w, engine::session_end_name(engine::session_end(r)));
  w = put::text(w, "\",\"removed\":\"");
  w = put::text(w, engine::end_reason_name(r.end));
  return put::text(w, s.history_truncated ? "\",\"history_truncated\":true" : "\"");
}

}  // namespace

std::string_view session_flavour_name(SessionFlavour f) noexcept { return f == SessionFlavour::kEcs ? "ecs" : "zeek"; }

void SessionJsonWriter::format(const engine::SessionRecord& r, LineBuffer& line,
                               const SessionLineFormat& format) noexcept {
  if (format.flavour == SessionFlavour::kEcs) {
    format_ecs(r, line, format.community_id_seed, format.sensor);
  } else {
    format_zeek(r, line, format.community_id_seed, format.sensor);
  }
}

void SessionJsonWriter::format_zeek(const engine::SessionRecord& r, LineBuffer& line, uint16_t community_id_seed,
                                    std::string_view sensor) noexcept {
  const tcp_session::Session& s = *r.session;
  const tcp_session::Endpoint& o = s.ep[0];
  const tcp_session::Endpoint& p = s.ep[1];
  line.clear();
  // One room check for the whole line, then a local cursor: through LineBuffer's checked calls each character
  // stored through its char* buffer may alias the LineBuffer itself, so its pointer and length would be
  // reloaded and stored back around every call.
  char* w = line.room(kMaxSessionLine);
  if (w == nullptr) return;
  // Inlined: as calls (16 per line) they would keep `w` in memory.
  const auto number = [&w](std::string_view key, uint64_t value) __attribute__((always_inline)) {
    w = put::u64(put::text(w, key), value);
  };
  const auto seconds = [&w](std::string_view key, uint64_t ns) __attribute__((always_inline)) {
    w = put::seconds(put::text(w, key), ns);
  };
  seconds("{\"ts\":", s.first_ns);
  w = put::text(w, ",\"uid\":\"");
  w += engine::format_uid(r.uid, w);
  w = put::text(w, "\",\"id.orig_h\":\"");
  w += packet::format_ip(r.orig_h, r.ip_version, w, 46);
  number("\",\"id.orig_p\":", r.orig_p);
  w = put::text(w, ",\"id.resp_h\":\"");
  w += packet::format_ip(r.resp_h, r.ip_version, w, 46);
  number("\",\"id.resp_p\":", r.resp_p);
  seconds(",\"proto\":\"tcp\",\"duration\":", s.last_ns >= s.first_ns ? s.last_ns - s.first_ns : 0);
  number(",\"orig_bytes\":", tcp_session::payload_bytes(s, 0));
  number(",\"resp_bytes\":", tcp_session::payload_bytes(s, 1));
  w = put::text(w, ",\"conn_state\":\"");
  w = put::text(w, tcp_session::conn_state_name(r.state));
  number("\",\"missed_bytes\":", r.missed_bytes);
  // History is Zeek's letters and '^' only (tcp_session), never anything JSON must escape: no str() scan.
  w = put::text(w, ",\"history\":\"");
  w = put::text(w, s.history_view());
  number("\",\"orig_pkts\":", o.pkts);
  number(",\"resp_pkts\":", p.pkts);
  number(",\"orig_ip_bytes\":", o.ip_bytes);
  number(",\"resp_ip_bytes\":", p.ip_bytes);
  w = put_community_id(put::text(w, ",\"community_id\":\""), r, community_id_seed);
  w = put_synscope_fields(put::text(w, "\","), r);
  if (!sensor.empty()) {
    w = put::text(w, ",\"sensor\":\"");
    w = put::text(w, sensor.substr(0, kMaxSensorName));
    w = put::text(w, "\"");
  }
  w = put::text(w, "}\n");
  line.grow_to(w);
}

void SessionJsonWriter::format_ecs(const engine::SessionRecord& r, LineBuffer& line, uint16_t community_id_seed,
                                   std::string_view sensor) noexcept {
  const tcp_session::Session& s = *r.session;
  const tcp_session::Endpoint& o = s.ep[0];
  const tcp_session::Endpoint& p = s.ep[1];
  line.clear();
  // One room check and a local cursor, as format_zeek() (the same reasons).
  char* w = line.room(kMaxEcsSessionLine);
  if (w == nullptr) return;
  const auto number = [&w](std::string_view key, uint64_t value) __attribute__((always_inline)) {
    w = put::u64(put::text(w, key), value);
  };
  const auto date = [&w](std::string_view key, uint64_t ns) __attribute__((always_inline)) {
    w = put::iso8601(put::text(w, key), ns);
  };
  const bool failed = tcp_session::is_failed(r.state);
  // @timestamp is the session's start, as Filebeat's Zeek module sets it from conn.log's ts: the two
  // flavours of one session carry the same time.
  date("{\"@timestamp\":\"", s.first_ns);
  date("\",\"event\":{\"kind\":\"event\",\"category\":[\"network\"],\"type\":[\"connection\",\"end\"],\"start\":\"",
       s.first_ns);
  date("\",\"end\":\"", s.last_ns >= s.first_ns ? s.last_ns : s.first_ns);
  number("\",\"duration\":", s.last_ns >= s.first_ns ? s.last_ns - s.first_ns : 0);  // ECS: nanoseconds
  if (failed) {
    w = put::text(w, ",\"outcome\":\"failure\",\"reason\":\"");
    w = put::text(w, tcp_session::failure_reason(r.state));
    w = put::text(w, "\"}");
  } else {
    w = put::text(w, ",\"outcome\":\"success\"}");
  }
  w = put::text(w, ",\"source\":{\"ip\":\"");
  w += packet::format_ip(r.orig_h, r.ip_version, w, 46);
  number("\",\"port\":", r.orig_p);
  number(",\"packets\":", o.pkts);
  number(",\"bytes\":", o.ip_bytes);
  w = put::text(w, "},\"destination\":{\"ip\":\"");
  w += packet::format_ip(r.resp_h, r.ip_version, w, 46);
  number("\",\"port\":", r.resp_p);
  number(",\"packets\":", p.pkts);
  number(",\"bytes\":", p.ip_bytes);
  w = put::text(w, r.ip_version == 6 ? "},\"network\":{\"transport\":\"tcp\",\"type\":\"ipv6\""
                                     : "},\"network\":{\"transport\":\"tcp\",\"type\":\"ipv4\"");
  w = put_community_id(put::text(w, ",\"iana_number\":\"6\",\"community_id\":\""), r, community_id_seed);
  w = put::text(w, "\",\"direction\":\"");
  w = put::text(w, ecs_direction(r.perspective));
  number("\",\"packets\":", uint64_t{o.pkts} + p.pkts);
  // Two ip_bytes of at most 2^64 - 1 each: the sum wraps only past 16 EiB of one session, never seen.
  number(",\"bytes\":", o.ip_bytes + p.ip_bytes);
  // Filebeat's Zeek module: zeek.session_id is the uid, zeek.connection.* the conn.log verdict.
  w = put::text(w, "},\"zeek\":{\"session_id\":\"");
  w += engine::format_uid(r.uid, w);
  w = put::text(w, "\",\"connection\":{\"state\":\"");
  w = put::text(w, tcp_session::conn_state_name(r.state));
  number("\",\"missed_bytes\":", r.missed_bytes);
  w = put::text(w, ",\"history\":\"");
  w = put::text(w, s.history_view());  // letters and '^' only (format_zeek)
  // synscope.*: the Zeek flavour's own fields, same names and units.
  w = put::text(put_synscope_fields(put::text(w, "\"}},\"synscope\":{"), r), "}");
  if (!sensor.empty()) {  // ECS: the observer is the sensor that saw the session
    w = put::text(w, ",\"observer\":{\"name\":\"");
    w = put::text(w, sensor.substr(0, kMaxSensorName));
    w = put::text(w, "\",\"product\":\"synscope\",\"type\":\"sensor\"}");
  }
  w = put::text(w, "}\n");
  line.grow_to(w);
}

void SessionJsonWriter::on_session(const engine::SessionRecord& r) {
  LineBuffer line(out_.reserve(kMaxLine), kMaxLine);
  format(r, line, format_);
  out_.commit(line.size());
}

size_t SessionJsonWriter::render(const engine::SessionRecord& r, const SessionLineFormat& format, char* buf,
                                 size_t capacity) noexcept {
  LineBuffer line(buf, capacity);
  SessionJsonWriter::format(r, line, format);
  return line.overflowed() ? 0 : line.size();
}

void BucketJsonWriter::on_bucket(const buckets::Bucket& b) {
  for (size_t pi = 0; pi < buckets::kPerspectiveCount; ++pi) {
    const buckets::BucketCounters& c = b.by_perspective[pi];
    LineBuffer l(out_.reserve(kMaxLine), kMaxLine);
    l.raw("{\"ts\":");
    if (b.start_ns % 1'000'000'000ULL == 0) {
      l.u64(b.start_ns / 1'000'000'000ULL);
    } else {
      l.seconds(b.start_ns);
    }
    l.raw(",\"span\":");
    if (b.span_ns % 1'000'000'000ULL == 0) {
      l.u64(b.span_ns / 1'000'000'000ULL);
    } else {
      l.seconds(b.span_ns);
    }
    l.raw(",\"perspective\":\"");
    l.raw(buckets::perspective_name(static_cast<buckets::Perspective>(pi)));
    l.raw("\",\"sessions\":");
    l.u64(c.sessions);
    l.raw(",\"attempts\":");
    l.u64(c.attempts);
    l.raw(",\"established\":");
    l.u64(c.established);
    l.raw(",\"failed\":");
    l.u64(c.failed);
    l.raw(",\"failed_by_state\":{");
    bool first = true;
    for (const tcp_session::FailedState& f : tcp_session::kFailedStates) {
      if (!first) l.raw(",");
      first = false;
      l.raw("\"");
      l.raw(tcp_session::conn_state_name(f.state));
      l.raw("\":");
      l.u64(c.by_state[static_cast<size_t>(f.state)]);
    }
    l.raw("},\"rst_orig\":");
    l.u64(c.rst_orig);
    l.raw(",\"rst_resp\":");
    l.u64(c.rst_resp);
    l.raw(",\"fin_orig\":");
    l.u64(c.fin_orig);
    l.raw(",\"fin_resp\":");
    l.u64(c.fin_resp);
    l.raw(",\"late\":");
    l.u64(c.late);
    l.raw("}\n");
    out_.commit(l.size());
  }
}

std::string format_summary(const engine::EngineCounters& c, uint64_t late_sessions) {
  std::string s;
  char line[256];
  auto add = [&](const char* fmt, auto... args) {
    std::snprintf(line, sizeof(line), fmt, args...);
    s += line;
  };
  uint64_t by_class[4] = {};  // tcp, not_tcp, fragment, malformed
  for (size_t i = 0; i < packet::kFrameClassCount; ++i) {
    const auto cls = packet::frame_category(static_cast<packet::FrameClass>(i));
    const size_t k = cls == "tcp" ? 0 : cls == "not_tcp" ? 1 : cls == "fragment" ? 2 : 3;
    by_class[k] += c.by_frame_class[i];
  }
  add("frames: %llu received = %llu tcp + %llu not_tcp + %llu fragment + %llu malformed + %llu dropped\n",
      (unsigned long long)c.received, (unsigned long long)by_class[0], (unsigned long long)by_class[1],
      (unsigned long long)by_class[2], (unsigned long long)by_class[3],
      (unsigned long long)(c.dropped_table_full + c.dropped_implausible_time));
  for (size_t i = 1; i < packet::kFrameClassCount; ++i) {
    if (c.by_frame_class[i] == 0) continue;
    const auto v = static_cast<packet::FrameClass>(i);
    add("  %-10s %-20s %llu\n", std::string(packet::frame_category(v)).c_str(),
        std::string(packet::frame_class_name(v)).c_str(), (unsigned long long)c.by_frame_class[i]);
  }
  bool any_encapsulation = false;
  for (size_t e = 0; e < packet::kEncapsulationCount; ++e) {
    if (c.by_encapsulation[e] == 0) continue;
    add("%s %s=%llu", any_encapsulation ? "" : "encapsulated frames:",
        std::string(packet::encapsulation_name(static_cast<packet::Encapsulation>(e))).c_str(),
        (unsigned long long)c.by_encapsulation[e]);
    any_encapsulation = true;
  }
  if (any_encapsulation) s += "\n";
  add("sessions: %llu", (unsigned long long)c.sessions);
  for (size_t st = 0; st < tcp_session::kConnStateCount; ++st) {
    uint64_t n = 0;
    for (uint64_t v : c.by_state[st]) n += v;
    if (n != 0)
      add(" %s=%llu", std::string(tcp_session::conn_state_name(static_cast<ConnState>(st))).c_str(),
          (unsigned long long)n);
  }
  s += "\n";
  uint64_t failed = 0;
  for (uint64_t v : c.failed) failed += v;
  add("failed sessions: %llu (", (unsigned long long)failed);
  for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) {
    add("%s%s=%llu", p ? " " : "", std::string(buckets::perspective_name(static_cast<buckets::Perspective>(p))).c_str(),
        (unsigned long long)c.failed[p]);
  }
  s += ")\n";
  if (c.content.ack_events != 0) {
    // Zeek's capture-loss measure: the share of ACKs (advancing an established connection) that acknowledged
    // bytes the capture never carried.
    add("capture loss: %.3f%% (%llu of %llu ACKs acknowledged data never seen, %llu bytes); missed_bytes %llu\n",
        100.0 * static_cast<double>(c.content.gap_events) / static_cast<double>(c.content.ack_events),
        (unsigned long long)c.content.gap_events, (unsigned long long)c.content.ack_events,
        (unsigned long long)c.content.gap_bytes, (unsigned long long)c.missed_bytes);
  }
  add("flow table: %llu evicted (syn-only %llu, other %llu), %llu segments dropped (table full)\n",
      (unsigned long long)(c.evicted_syn_only + c.evicted_other), (unsigned long long)c.evicted_syn_only,
      (unsigned long long)c.evicted_other, (unsigned long long)c.dropped_table_full);
  if (c.handshakes != 0) {
    add("handshakes: %llu, mean SYN->ACK time %.3f ms; SYN retransmissions %llu; RST without connection %llu\n",
        (unsigned long long)c.handshakes, static_cast<double>(c.handshake_rtt_ns_sum) / c.handshakes / 1e6,
        (unsigned long long)c.syn_retransmits, (unsigned long long)c.rst_without_connection);
  }
  if (c.verdict_changed_after_close != 0) {
    add("verdicts changed after the close was counted: %llu\n", (unsigned long long)c.verdict_changed_after_close);
  }
  if (c.dropped_implausible_time != 0 || c.time_jumps != 0 || c.time_jump_unconfirmed_at_end != 0) {
    add("time jumps beyond --max-time-jump: %llu confirmed, %llu frames dropped (stray time), %llu frames held "
        "unconfirmed at the end\n",
        (unsigned long long)c.time_jumps, (unsigned long long)c.dropped_implausible_time,
        (unsigned long long)c.time_jump_unconfirmed_at_end);
  }
  if (late_sessions != 0)
    add("late sessions (ended after their bucket was emitted): %llu\n", (unsigned long long)late_sessions);
  return s;
}

}  // namespace synscope::output
