// output_bench: the cost of one session line on the writer's thread (or a replay worker preparing it):
//   community_id   community_id::format of one IPv4 / IPv6 TCP flow (SHA-1 of 16 / 40 bytes, base64)
//   session_line   SessionJsonWriter::format of a finished session into a local buffer, per flavour
//                  (zeek, ecs) and address family: every line includes its Community ID
// Checks: each line parses as one JSON object ending in a newline and carries the flow's Community ID.
// Single-threaded; run by bench/micro.sh.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "community_id/community_id.hpp"
#include "output/output.hpp"

namespace {

using namespace synscope;

/// A completed, FIN-closed outbound session with data both ways: the usual line.
struct Sample {
  tcp_session::Session s;
  engine::SessionRecord r;
  explicit Sample(bool ipv6) {
    s.first_ns = 1'700'000'000'250'000'000ULL;
    s.last_ns = s.first_ns + 321'500'561ULL;
    s.ep[0].pkts = 10;
    s.ep[0].ip_bytes = 1130;
    s.ep[1].pkts = 8;
    s.ep[1].ip_bytes = 1545;
    s.marks[0].syn = s.marks[1].syn = s.marks[0].fin = s.marks[1].fin = 1;
    const std::string_view history = "ShADadFf";
    std::copy(history.begin(), history.end(), s.history);
    s.history_len = static_cast<uint8_t>(history.size());
    r.session = &s;
    uint8_t v = 0;
    (void)packet::parse_ip(ipv6 ? "2001:db8:17::80:126" : "10.17.128.126", r.orig_h, v);
    (void)packet::parse_ip(ipv6 ? "2600:1f18:4a3:6900::42" : "70.155.36.66", r.resp_h, v);
    r.ip_version = v;
    r.orig_p = 34327;
    r.resp_p = 443;
    r.uid = 0x1234'5678'9abc'def0ULL;
    r.state = tcp_session::ConnState::kSF;
    r.perspective = buckets::Perspective::kOutbound;
  }
};

void community_id(benchmark::State& state, bool ipv6) {
  const Sample sample(ipv6);
  community_id::FlowTuple flow;
  flow.src = sample.r.orig_h;
  flow.dst = sample.r.resp_h;
  flow.ip_version = sample.r.ip_version;
  flow.src_port = sample.r.orig_p;
  flow.dst_port = sample.r.resp_p;
  char out[community_id::kTextLength];
  for (auto _ : state) {
    flow.src_port = static_cast<uint16_t>(flow.src_port + 1);  // a different flow each time
    benchmark::DoNotOptimize(community_id::format(flow, 0, out));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(community_id, ipv4, false);
BENCHMARK_CAPTURE(community_id, ipv6, true);

void session_line(benchmark::State& state, output::SessionFlavour flavour, bool ipv6) {
  Sample sample(ipv6);
  const output::SessionLineFormat format{flavour, 0, {}};
  char storage[output::kMaxLine];
  output::LineBuffer line(storage);
  output::SessionJsonWriter::format(sample.r, line, format);
  const std::string_view text(line.data(), line.size());
  if (line.overflowed() || text.back() != '\n' || text.find("\"1:") == std::string_view::npos) {
    state.SkipWithError("the line is cut or has no Community ID");
    return;
  }
  uint64_t bytes = 0;
  for (auto _ : state) {
    sample.r.orig_p = static_cast<uint16_t>(sample.r.orig_p + 1);
    output::SessionJsonWriter::format(sample.r, line, format);
    bytes += line.size();
    benchmark::DoNotOptimize(storage);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK_CAPTURE(session_line, zeek_ipv4, output::SessionFlavour::kZeek, false);
BENCHMARK_CAPTURE(session_line, zeek_ipv6, output::SessionFlavour::kZeek, true);
BENCHMARK_CAPTURE(session_line, ecs_ipv4, output::SessionFlavour::kEcs, false);
BENCHMARK_CAPTURE(session_line, ecs_ipv6, output::SessionFlavour::kEcs, true);

}  // namespace

BENCHMARK_MAIN();
