// loadgen_sessions: the generator's session model (see loadgen_sessions.hpp). Pure functions of the model.
#include "loadgen_sessions.hpp"

#include <cstring>

namespace synscope::bench {
namespace {

uint64_t splitmix(uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

double unit(uint64_t h) noexcept { return static_cast<double>(h >> 11) * 0x1.0p-53; }

constexpr uint16_t kServerPorts[] = {80, 443, 22, 25, 3306, 8080, 5432, 6379};
constexpr uint32_t kClientPorts = 64000;  // client ports 1024..65023

/// Segment `i` of a kind's template: who sends it, its flags, whether it carries data.
struct Step {
  bool from_client;
  uint8_t flags;
  bool data;
};

Step template_step(SessionKind k, uint32_t i, uint32_t exchanges) noexcept {
  switch (k) {
    case SessionKind::kRefused: return i == 0 ? Step{true, kSyn, false} : Step{false, kRst | kAck, false};
    case SessionKind::kUnanswered:
    case SessionKind::kSynFlood: return {true, kSyn, false};
    case SessionKind::kHalfOpen: return i == 0 ? Step{true, kSyn, false} : Step{true, kFin | kAck, false};
    default: break;
  }
  if (i == 0) return {true, kSyn, false};
  if (i == 1) return {false, kSyn | kAck, false};
  if (i == 2) return {true, kAck, false};
  const uint32_t n = k == SessionKind::kNormal ? exchanges : 1;
  const uint32_t j = i - 3;
  if (j < 4 * n) {
    switch (j % 4) {
      case 0: return {true, kPsh | kAck, true};
      case 1: return {false, kAck, false};
      case 2: return {false, kPsh | kAck, true};
      default: return {true, kAck, false};
    }
  }
  if (k == SessionKind::kClientReset) return {true, kRst | kAck, false};
  if (k == SessionKind::kServerReset) return {false, kRst | kAck, false};
  const uint32_t t = j - 4 * n;  // normal close: client FIN, server FIN, client ACK
  return t == 0 ? Step{true, kFin | kAck, false} : t == 1 ? Step{false, kFin | kAck, false} : Step{true, kAck, false};
}

uint16_t payload_for(const TrafficModel& m, bool v6, uint64_t h) noexcept {
  uint32_t wire = m.sizes.fixed;
  if (m.sizes.imix) {
    const uint32_t r = static_cast<uint32_t>(h % 12);
    wire = r < 7 ? 64 : r < 11 ? 594 : 1518;
  }
  const size_t headers = header_bytes(v6, m.shape) + 4;  // + FCS: sizes are on-wire sizes
  return wire > headers ? static_cast<uint16_t>(wire - headers) : uint16_t{1};
}

void put_host(uint8_t* a, bool v6, bool internal, uint64_t host, uint8_t salt) noexcept {
  std::memset(a, 0, 16);
  if (!v6) {
    // 10/8 is internal by synscope's defaults; 20-79 as a first octet is in none of its internal ranges.
    a[0] = internal ? 10 : static_cast<uint8_t>(20 + salt % 60);
    a[1] = uint8_t(host >> 16), a[2] = uint8_t(host >> 8), a[3] = uint8_t(host);
  } else {
    a[0] = internal ? 0xfd : 0x20, a[1] = internal ? 0x00 : 0x01;
    a[2] = internal ? 0x00 : 0x0d, a[3] = internal ? 0x00 : 0xb8;
    a[8] = salt;
    for (int b = 0; b < 5; ++b) a[15 - b] = uint8_t(host >> (8 * b));
  }
}

}  // namespace

std::string_view kind_name(SessionKind k) noexcept {
  static constexpr std::string_view kNames[] = {"normal",       "refused",   "unanswered", "client_reset",
                                                "server_reset", "half_open", "syn_flood"};
  const auto i = static_cast<size_t>(k);
  return i < kSessionKindCount ? kNames[i] : "?";
}

std::string_view expected_state(SessionKind k) noexcept {
  static constexpr std::string_view kStates[] = {"SF", "REJ", "S0", "RSTO", "RSTR", "SH", "S0"};
  const auto i = static_cast<size_t>(k);
  return i < kSessionKindCount ? kStates[i] : "OTH";
}

bool expected_failed(SessionKind k) noexcept {
  return k == SessionKind::kRefused || k == SessionKind::kUnanswered || k == SessionKind::kHalfOpen ||
         k == SessionKind::kSynFlood;
}

std::string_view perspective_name(Perspective p) noexcept {
  static constexpr std::string_view kNames[] = {"inbound", "outbound", "private", "edge"};
  const auto i = static_cast<size_t>(p);
  return i < kPerspectiveCount ? kNames[i] : "edge";
}

SessionPlanner::SessionPlanner(const TrafficModel& model) noexcept : model_(model) {
  double total = 0;
  for (double s : model_.shares) total += s;
  double acc = 0;
  for (size_t k = 0; k < kSessionKindCount; ++k) {
    acc += total > 0 ? model_.shares[k] / total : 0;
    cumulative_[k] = acc;
    if (model_.shares[k] > 0) {
      last_kind_ = k;
      const uint32_t n = steps_of(static_cast<SessionKind>(k));
      if (n > max_steps_) max_steps_ = n;
    }
  }
  cumulative_[last_kind_] = 2.0;  // rounding never falls past the last kind that has a share
}

uint32_t SessionPlanner::steps_of(SessionKind k) const noexcept {
  switch (k) {
    case SessionKind::kNormal: return 6 + 4 * model_.exchanges;
    case SessionKind::kRefused:
    case SessionKind::kHalfOpen: return 2;
    case SessionKind::kUnanswered: return 3;
    case SessionKind::kClientReset:
    case SessionKind::kServerReset: return 8;
    default: return 1;
  }
}

SessionDesc SessionPlanner::describe(uint64_t n) const noexcept {
  SessionDesc d;
  const uint64_t h0 = splitmix(model_.seed ^ splitmix(n));
  const uint64_t h1 = splitmix(h0), h2 = splitmix(h1), h3 = splitmix(h2);
  const double r = unit(h0);
  size_t k = 0;
  while (k < last_kind_ && (r >= cumulative_[k] || model_.shares[k] <= 0)) ++k;
  d.kind = static_cast<SessionKind>(k);
  d.steps = static_cast<uint8_t>(steps_of(d.kind));
  d.ends.v6 = unit(h1) < model_.ipv6_share;
  bool ci = unit(h2) < model_.client_internal_share;
  bool si = unit(h3) < model_.server_internal_share;
  if (d.kind == SessionKind::kSynFlood) ci = false, si = true;  // spoofed outside sources at our servers
  d.perspective =
      ci ? (si ? Perspective::kPrivate : Perspective::kOutbound) : (si ? Perspective::kInbound : Perspective::kEdge);
  const auto salt = static_cast<uint8_t>(model_.seed);
  put_host(d.ends.client, d.ends.v6, ci, n / kClientPorts, salt);
  d.ends.cport = static_cast<uint16_t>(1024 + n % kClientPorts);
  const uint32_t srv = static_cast<uint32_t>((h3 >> 32) % (model_.servers ? model_.servers : 1));
  // Servers are host numbers 0xff0000 and up (10.255/16, or 81.255/16 outside), apart from the clients' host
  // numbers (session / 64000) for any run shorter than 10^12 sessions.
  put_host(d.ends.server, d.ends.v6, si, 0xff0000u | (srv & 0xffffu), salt);
  if (!d.ends.v6 && !si) d.ends.server[0] = 81;
  d.ends.sport = kServerPorts[srv % 8];
  d.client_isn = static_cast<uint32_t>(h1 >> 32);
  d.server_isn = static_cast<uint32_t>(h2 >> 32);
  d.client_payload = payload_for(model_, d.ends.v6, h2 >> 8);
  d.server_payload = payload_for(model_, d.ends.v6, h3 >> 8);
  return d;
}

Segment SessionPlanner::segment(const SessionDesc& d, uint32_t step) const noexcept {
  uint32_t cseq = d.client_isn, sseq = d.server_isn;
  if (d.kind != SessionKind::kUnanswered && d.kind != SessionKind::kSynFlood) {
    // Sequence numbers so far: every earlier segment's payload, SYN and FIN (retransmissions repeat the ISN).
    for (uint32_t j = 0; j < step; ++j) {
      const Step s = template_step(d.kind, j, model_.exchanges);
      uint32_t& seq = s.from_client ? cseq : sseq;
      seq += (s.data ? (s.from_client ? d.client_payload : d.server_payload) : 0u) +
             ((s.flags & (kSyn | kFin)) != 0 ? 1u : 0u);
    }
  }
  const Step s = template_step(d.kind, step, model_.exchanges);
  Segment g;
  g.from_client = s.from_client;
  g.flags = s.flags;
  g.seq = s.from_client ? cseq : sseq;
  g.ack = (s.flags & kAck) != 0 ? (s.from_client ? sseq : cseq) : 0u;
  g.payload = s.data ? (s.from_client ? d.client_payload : d.server_payload) : uint16_t{0};
  return g;
}

uint32_t SessionPlanner::symmetric_hash(const Endpoints& e) noexcept {
  // XOR of the two ends is the same in both directions; one splitmix round spreads it over the queues.
  uint64_t a = 0, b = 0;
  std::memcpy(&a, e.client, 8);
  std::memcpy(&b, e.client + 8, 8);
  uint64_t c = 0, d = 0;
  std::memcpy(&c, e.server, 8);
  std::memcpy(&d, e.server + 8, 8);
  const uint64_t x = (a ^ c) ^ splitmix(b ^ d) ^ (uint64_t{e.cport} ^ e.sport) << 40;
  return static_cast<uint32_t>(splitmix(x) >> 32);
}

}  // namespace synscope::bench
