// engine_fuzzer: libFuzzer target for engine::SessionEngine fed arbitrary packet sequences. The first two
// bytes configure the engine (flow capacity 1-64, so eviction runs; the time-jump confirmation count; replay's growing table); then
// each 8-byte record is one packet among 8 clients, 2 servers and 4 client ports (time step, direction,
// flags, sequence and acknowledgement numbers, frame class, burst boundaries), or an idle advance(). Time
// steps range from none to ten minutes, with jumps 30 years ahead and an hour back. Invariants: every frame
// is accounted for (received = frames by class + drops, once the engine finished), each session is counted
// once (sessions = records, and the by-state counts sum to it), uids are unique, the engine's time never
// goes back, every record formats as one valid JSON object with its conn_state and end, and the buckets
// rebuilt from the records (consumers::RecordBuckets, as replay and live do) hold every session once.
// One thread; built only in the clang fuzz build (meson -Dfuzz=true, scripts/fuzz.sh).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "consumers/record_buckets.hpp"
#include "engine/engine.hpp"
#include "output/output.hpp"

namespace {

using synscope::engine::ParsedPacket;
namespace packet = synscope::packet;

void check(bool ok) {
  if (!ok) std::abort();
}

struct BucketTotals final : synscope::buckets::BucketSink {
  uint64_t sessions = 0;
  uint64_t late = 0;
  uint64_t last_start_ns = 0;
  bool any = false;
  void on_bucket(const synscope::buckets::Bucket& b) override {
    check(!any || b.start_ns > last_start_ns);  // buckets come out in time order, each once
    any = true;
    last_start_ns = b.start_ns;
    for (const auto& p : b.by_perspective) {
      sessions += p.sessions;
      late += p.late;
    }
  }
};

struct CheckedSink final : synscope::engine::SessionSink {
  std::vector<uint64_t> uids;
  uint64_t records = 0;
  synscope::consumers::RecordBuckets buckets{60'000'000'000, 360'000'000'000};
  BucketTotals totals;
  char line[synscope::output::kMaxLine * 2];
  void on_session(const synscope::engine::SessionRecord& r) override {
    ++records;
    uids.push_back(r.uid);
    const size_t n = synscope::output::SessionJsonWriter::render(r, {}, line, sizeof(line));
    check(n > 0 && line[n - 1] == '\n');
    // Validated without building a document (no allocation per record: the fuzzer's speed).
    check(nlohmann::json::accept(line, line + n));
    const std::string_view text(line, n);
    check(text.front() == '{' && text.find("\"conn_state\":\"") != std::string_view::npos &&
          text.find("\"end\":\"") != std::string_view::npos && text.find("\"uid\":\"C") != std::string_view::npos);
    const size_t e = synscope::output::SessionJsonWriter::render(r, {synscope::output::SessionFlavour::kEcs, 1, {}},
                                                                 line, sizeof(line));
    check(e > 0 && line[e - 1] == '\n' && nlohmann::json::accept(line, line + e));
    check(std::string_view(line, e).find("\"session_id\":\"C") != std::string_view::npos);
    buckets.settle(r.settled_ns, totals);
    buckets.add(r);
  }
};

ParsedPacket packet_of(uint64_t t, const uint8_t* r) {
  ParsedPacket p;
  p.ts_ns = t;
  const uint8_t client = r[1] & 0x07;
  const bool to_second_server = (r[1] & 0x08) != 0;
  const bool from_client = (r[1] & 0x10) == 0;
  packet::IpAddr c{}, s{};
  c.bytes[0] = 10, c.bytes[3] = static_cast<uint8_t>(1 + client);
  s.bytes[0] = to_second_server ? 192 : 93, s.bytes[1] = to_second_server ? 168 : 184, s.bytes[3] = 1;
  const uint16_t cport = static_cast<uint16_t>(40000 + (r[3] & 0x03));
  const uint16_t sport = (r[3] & 0x04) ? 443 : 80;
  p.meta.ip_version = 4;
  p.meta.src = from_client ? c : s;
  p.meta.dst = from_client ? s : c;
  p.meta.src_port = from_client ? cport : sport;
  p.meta.dst_port = from_client ? sport : cport;
  p.meta.flags = r[2];
  p.meta.seq = static_cast<uint32_t>(r[4] | r[5] << 8) * 977u;
  p.meta.ack = static_cast<uint32_t>(r[6] | r[7] << 8) * 977u;
  p.meta.window = static_cast<uint16_t>(r[3] & 0x08 ? 0 : 4096);
  p.meta.window_scale = (r[2] & packet::tcp_flag::kSyn) ? static_cast<uint8_t>(r[3] >> 5) : 0xff;
  p.meta.tcp_header_len = 20;
  p.meta.payload_len = (r[3] & 0x10) ? static_cast<uint32_t>(r[7]) * 11u : 0;
  p.meta.ip_len = 40 + p.meta.payload_len;
  switch (r[1] >> 5) {
    case 6: p.frame_class = packet::FrameClass::kBadChecksum; break;
    case 7: p.frame_class = static_cast<packet::FrameClass>(r[6] % packet::kFrameClassCount); break;
    default: p.frame_class = packet::FrameClass::kTcp;
  }
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  synscope::engine::EngineConfig config;
  config.flow_capacity = 1 + (data[0] & 0x3f);
  config.evict_scan = 1 + (data[0] >> 6) * 8;
  config.time_jump_frames = 1 + (data[1] & 0x07);
  // A growing index on small pages (replay's table): a full one takes transparent huge pages, and zeroing a
  // fresh 2 MiB page per input cost more than the input itself.
  config.index_sizing = synscope::flow::IndexSizing::kGrowing;
  config.session.likely_server_ports = synscope::tcp_session::SessionConfig::zeek_full_server_ports();
  data += 2;
  size -= 2;

  CheckedSink sink;
  synscope::engine::SessionEngine engine(config, sink);
  check(engine.ok());
  constexpr uint64_t kSec = 1'000'000'000;
  uint64_t t = 1'700'000'000 * kSec;
  uint64_t packets = 0;
  uint64_t last_watermark = 0;
  std::vector<ParsedPacket> burst;
  burst.reserve(64);
  sink.uids.reserve(size / 8 + 1);
  auto flush = [&] {
    if (!burst.empty()) engine.process_burst(burst.data(), static_cast<uint32_t>(burst.size()));
    packets += burst.size();
    burst.clear();
    check(engine.watermark_ns() >= last_watermark);
    last_watermark = engine.watermark_ns();
  };
  for (size_t at = 0; at + 8 <= size; at += 8) {
    const uint8_t* r = data + at;
    switch (r[0]) {
      case 0xff: t += 30ull * 365 * 86400 * kSec; break;  // a stray stamp decades ahead
      case 0xfe: t -= 3600 * kSec; break;                 // a step back (merged captures, a clock reset)
      case 0xfd:                                          // an idle moment: advance()
        flush();
        engine.advance(t + r[1] * kSec);
        check(engine.watermark_ns() >= last_watermark);
        last_watermark = engine.watermark_ns();
        continue;
      default: t += uint64_t{r[0]} * r[0] * 10'000'000;  // 0 to ~645 s
    }
    burst.push_back(packet_of(t, r));
    if ((r[3] & 0x80) || burst.size() == 64) flush();
  }
  flush();
  engine.finish();
  sink.buckets.flush(sink.totals);

  const synscope::engine::EngineCounters& c = engine.counters();
  check(c.received == packets);
  check(c.accounted() == c.received);
  check(c.sessions == sink.records);
  uint64_t by_state = 0;
  for (const auto& per_state : c.by_state) {
    for (uint64_t v : per_state) by_state += v;
  }
  check(by_state == c.sessions);
  check(sink.totals.sessions + sink.totals.late == sink.records);
  check(engine.active_flows() == 0);
  std::sort(sink.uids.begin(), sink.uids.end());
  check(std::adjacent_find(sink.uids.begin(), sink.uids.end()) == sink.uids.end());  // each uid once
  return 0;
}
