// tcp_session_bench: what the Zeek state machine costs per segment: a whole typical session (start, then
// update for SYN, SYN-ACK, ACK, data both ways, FIN both ways, last ACK — as the engine calls them), and one
// data segment on an established session (the engine's common case). The session lives in cache here; the
// engine benchmark (engine_bench) has the flow-table side.
// Checks: every lifecycle ends SF with the history of the first one and completes its handshake once; the
// established session counts every segment, sees no retransmission and stays open. Single-threaded; run by
// bench/micro.sh.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <string>

#include "packet/packet.hpp"
#include "tcp_session/tcp_session.hpp"

namespace {

using namespace synscope;
namespace tf = packet::tcp_flag;

constexpr uint64_t kT0 = 1'700'000'000'000'000'000ull;

/// One segment between client 10.0.0.1:40000 (the key's lo side) and server 93.184.216.34:443.
struct Segment {
  packet::PacketMeta meta;
  bool from_client;
};

Segment segment(bool from_client, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t payload) {
  Segment s{};
  packet::IpAddr c, v;
  c.bytes[0] = 10, c.bytes[3] = 1;
  v.bytes[0] = 93, v.bytes[1] = 184, v.bytes[2] = 216, v.bytes[3] = 34;
  s.from_client = from_client;
  s.meta.ip_version = 4;
  s.meta.src = from_client ? c : v;
  s.meta.dst = from_client ? v : c;
  s.meta.src_port = from_client ? 40000 : 443;
  s.meta.dst_port = from_client ? 443 : 40000;
  s.meta.flags = flags;
  s.meta.seq = seq;
  s.meta.ack = ack;
  s.meta.window = 64240;
  s.meta.window_scale = (flags & tf::kSyn) != 0 ? 7 : 0xff;
  s.meta.tcp_header_len = 32;
  s.meta.payload_len = payload;
  s.meta.ip_len = 20 + 32 + payload;
  return s;
}

constexpr size_t kSegments = 8;

/// A complete session with initial sequence numbers `ci` (client) and `si` (server).
std::array<Segment, kSegments> session(uint32_t ci, uint32_t si) {
  return {{
      segment(true, tf::kSyn, ci, 0, 0),
      segment(false, tf::kSyn | tf::kAck, si, ci + 1, 0),
      segment(true, tf::kAck, ci + 1, si + 1, 0),
      segment(true, tf::kPsh | tf::kAck, ci + 1, si + 1, 100),
      segment(false, tf::kPsh | tf::kAck, si + 1, ci + 101, 1000),
      segment(true, tf::kFin | tf::kAck, ci + 101, si + 1001, 0),
      segment(false, tf::kFin | tf::kAck, si + 1001, ci + 102, 0),
      segment(true, tf::kAck, ci + 102, si + 1002, 0),
  }};
}

void BM_SessionLifecycle(benchmark::State& state) {
  const tcp_session::SessionConfig cfg;
  constexpr uint32_t kVariants = 16;  // sessions with other sequence numbers, so nothing is folded away
  std::array<std::array<Segment, kSegments>, kVariants> sessions;
  for (uint32_t v = 0; v < kVariants; ++v) sessions[v] = session(0x10000000u * v + 12345, 0x87654321u - v * 77777);
  tcp_session::Session s;
  std::string first_history;
  uint64_t wrong = 0;
  uint32_t v = 0;
  uint64_t t = kT0;
  for (auto _ : state) {
    const auto& segs = sessions[v];
    v = (v + 1) % kVariants;
    tcp_session::start(s, segs[0].meta, segs[0].from_client, t, cfg);
    uint32_t handshakes = 0;
    for (const Segment& g : segs) {
      t += 1000;
      handshakes += tcp_session::update(s, g.meta, g.from_client, t, cfg);
    }
    const bool sf = tcp_session::conn_state(s) == tcp_session::ConnState::kSF;
    if (first_history.empty()) first_history = s.history_view();
    wrong += !sf || handshakes != 1 || s.history_view() != first_history;
  }
  if (wrong != 0) {
    return state.SkipWithError(
        (std::to_string(wrong) + " sessions did not end SF with history " + first_history).c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSegments));
  state.SetLabel("history " + first_history + ", items = segments");
  state.counters["segments_per_session"] = kSegments;
}

void BM_EstablishedSegment(benchmark::State& state) {
  const tcp_session::SessionConfig cfg;
  const uint32_t ci = 1000, si = 5000;
  const auto hs = session(ci, si);
  tcp_session::Session s;
  uint64_t t = kT0;
  tcp_session::start(s, hs[0].meta, true, t, cfg);
  for (size_t i = 0; i < 3; ++i) (void)tcp_session::update(s, hs[i].meta, hs[i].from_client, t += 1000, cfg);
  // Data both ways in turn, each acknowledging all the other side sent: sequence numbers move on, so no
  // segment is a retransmission.
  Segment to_server = segment(true, tf::kPsh | tf::kAck, ci + 1, si + 1, 100);
  Segment to_client = segment(false, tf::kAck, si + 1, ci + 101, 1000);
  uint64_t segments = 0;
  for (auto _ : state) {
    Segment& g = (segments & 1) == 0 ? to_server : to_client;
    (void)tcp_session::update(s, g.meta, g.from_client, t += 1000, cfg);
    // The next segment of each side: its own sequence moves on, and it acknowledges the other's data.
    if ((segments & 1) == 0) {
      to_server.meta.seq += 100;
      to_client.meta.ack += 100;
    } else {
      to_client.meta.seq += 1000;
      to_server.meta.ack += 1000;
    }
    ++segments;
  }
  const uint64_t counted = uint64_t{s.ep[0].pkts} + s.ep[1].pkts;
  if (counted != segments + 3 || s.marks[0].rxmt_cnt + s.marks[1].rxmt_cnt != 0 || tcp_session::is_closed(s) ||
      !tcp_session::handshake_completed(s)) {
    return state.SkipWithError("the established session did not count every segment as new data");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

}  // namespace

BENCHMARK(BM_SessionLifecycle)->Name("tcp_session/lifecycle_8_segments");
BENCHMARK(BM_EstablishedSegment)->Name("tcp_session/established_data_segment");

BENCHMARK_MAIN();
