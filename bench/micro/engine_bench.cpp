// engine_bench: the engine stage end to end — engine::SessionEngine::process_burst on pre-parsed packets of
// many concurrent flows — in cycles (rdtsc) and ns per packet, at 10 k, 100 k, 1 M and 4 M flows: the
// issue's bar is cycles per packet at 1 M flows <= 1.5x the cost at 10 k, read within one run.
//
//   engine/established/N   N established sessions (opened untimed: SYN, SYN-ACK, ACK), then data segments,
//                          one per flow per round, in both directions in turn with sequence numbers moving on
//   engine/new_sessions/N  N flows each running one whole session after another (SYN, SYN-ACK, ACK, data,
//                          FIN, FIN, ACK), every session on a new 5-tuple (a new flow-table entry); counter
//                          sessions_per_s is new sessions per CPU second on this core. Not at 4 M: closed entries
//                          wait out Zeek's close delay, and 4 M flows would then outgrow the table.
//   engine/syn_flood/N     a SYN flood into a table of N entries it keeps full: every packet a bare SYN on a new
//                          5-tuple that evicts the oldest SYN-only session; sessions_per_s is SYNs (new
//                          sessions) per CPU second
//
// Each round every flow sends one packet, the flows in a fresh random order each round (a keyed Feistel
// permutation), so consecutive packets hit different flows and entries far apart in memory; a round spans
// one second of packet time at every size, so timers, sweeps and the close delay see the same sessions.
// Packets are handed over in bursts of 32 (an RX core's burst). They are built outside the timed region in
// chunks of 2048 (PauseTiming), as an RX stage would have parsed them. The engine is configured as a live
// core is: one fixed capacity for every size (8 Mi flows, the index reserved in full).
// Counters per packet: cycles_per_pkt (rdtsc) and ns_per_pkt (wall clock) around the process_burst calls,
// and cpu_ns_per_pkt (this thread's CPU time) with cpu_cycles_per_pkt (that time at the TSC's rate, measured
// over the same intervals): on a shared machine rdtsc also counts the time another thread had the CPU, the
// CPU-time figures do not. sessions_per_s is per second of CPU time; bytes_per_flow is the engine's memory
// with a full table per flow of capacity.
// Checks (SkipWithError): every packet received and tracked, none dropped; established: every handshake
// completed and no session ended; new sessions: every session closed SF and every handshake counted.
// Engines are built and warmed up once per size, untimed; only one is alive at a time. Single-threaded.
#include <benchmark/benchmark.h>
#include <x86intrin.h>

#include <time.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "flow/mix.hpp"

namespace {

using namespace synscope;
namespace tf = packet::tcp_flag;
using packet::FrameClass;

constexpr uint32_t kCapacity = 1u << 23;
constexpr uint32_t kBurst = 32;    // channel::kBurstSize
constexpr uint32_t kChunk = 2048;  // packets built per pause of the timer
constexpr uint64_t kT0 = 1'700'000'000'000'000'000ull;
constexpr uint64_t kSecond = 1'000'000'000;

/// A random permutation of [0, n) for each salt: a 4-round Feistel network over the smallest even number of
/// bits that covers n, walked until it lands below n.
class RandomOrder {
 public:
  RandomOrder(uint32_t n, uint64_t salt) noexcept : n_(n), salt_(flow::splitmix64(salt)) {
    while ((uint64_t{1} << (2 * half_)) < n) ++half_;
    mask_ = (uint64_t{1} << half_) - 1;
  }
  [[nodiscard]] uint32_t operator()(uint32_t i) const noexcept {
    uint64_t x = i;
    do x = permute(x);
    while (x >= n_);
    return static_cast<uint32_t>(x);
  }

 private:
  [[nodiscard]] uint64_t permute(uint64_t x) const noexcept {
    uint64_t l = x >> half_, r = x & mask_;
    for (uint64_t round = 0; round < 4; ++round) {
      const uint64_t f = flow::splitmix64(r ^ (salt_ + round * 0x9e3779b97f4a7c15ULL)) & mask_;
      const uint64_t next = l ^ f;
      l = r;
      r = next;
    }
    return l << half_ | r;
  }
  uint32_t n_;
  uint64_t salt_;
  uint32_t half_ = 1;
  uint64_t mask_ = 1;
};

/// One pre-parsed segment of flow `flow`: client 10.x.y.z (the flow number) port `cport`, server 93.184.a.b
/// (one of 4096) port 443.
engine::ParsedPacket packet_of(uint64_t ts, uint32_t flow, uint16_t cport, bool from_client, uint8_t flags,
                               uint32_t seq, uint32_t ack, uint32_t payload) noexcept {
  engine::ParsedPacket p;
  p.ts_ns = ts;
  p.frame_class = FrameClass::kTcp;
  packet::IpAddr c, s;
  c.bytes[0] = 10, c.bytes[1] = static_cast<uint8_t>(flow >> 16), c.bytes[2] = static_cast<uint8_t>(flow >> 8);
  c.bytes[3] = static_cast<uint8_t>(flow);
  const uint64_t server = flow::splitmix64(flow) & 0xfff;
  s.bytes[0] = 93, s.bytes[1] = 184, s.bytes[2] = static_cast<uint8_t>(server >> 8);
  s.bytes[3] = static_cast<uint8_t>(server);
  packet::PacketMeta& m = p.meta;
  m.ip_version = 4;
  m.src = from_client ? c : s;
  m.dst = from_client ? s : c;
  m.src_port = from_client ? cport : 443;
  m.dst_port = from_client ? 443 : cport;
  m.flags = flags;
  m.seq = seq;
  m.ack = ack;
  m.window = 64240;
  m.window_scale = (flags & tf::kSyn) != 0 ? 7 : 0xff;
  m.tcp_header_len = 32;
  m.payload_len = payload;
  m.ip_len = 20 + 32 + payload;
  return p;
}

struct CountingSink final : engine::SessionSink {
  uint64_t records = 0;
  void on_session(const engine::SessionRecord&) override { ++records; }
};

engine::EngineConfig engine_config(uint32_t capacity = kCapacity) {
  engine::EngineConfig cfg;
  cfg.flow_capacity = capacity;
  cfg.index_sizing = flow::IndexSizing::kFull;
  cfg.hasher = flow::FlowHasher(0x0123456789abcdefULL, 0x76543210fedcba98ULL);
  return cfg;
}

/// A workload: an engine and the rounds of packets its flows send, built chunk by chunk.
class Workload {
 public:
  explicit Workload(uint32_t flows, uint32_t capacity = kCapacity)
      : flows_(flows),
        dt_(kSecond / flows),
        engine_(std::make_unique<engine::SessionEngine>(engine_config(capacity), sink_)) {}
  virtual ~Workload() = default;
  [[nodiscard]] bool ok() const noexcept { return engine_->ok(); }
  [[nodiscard]] engine::SessionEngine& engine() noexcept { return *engine_; }
  [[nodiscard]] const CountingSink& sink() const noexcept { return sink_; }
  [[nodiscard]] uint32_t flows() const noexcept { return flows_; }

  /// Fills `out` with the next `n` packets, round after round, and counts them by step in `per_step`.
  void fill(engine::ParsedPacket* out, uint32_t n, uint64_t* per_step) {
    for (uint32_t k = 0; k < n;) {
      if (pos_ == flows_) {
        ++round_;
        pos_ = 0;
        order_ = RandomOrder(flows_, round_ + 1);
      }
      const uint32_t flow = order_(pos_);
      const int step = make(flow, round_, kT0 + round_start_ns(round_) + pos_ * dt_, out[k]);
      ++pos_;
      if (step >= 0) {
        ++per_step[step];
        ++k;
      }
    }
  }
  /// Processes packets untimed (warm-up) until round `round` has begun.
  void run_until(uint64_t round) {
    std::vector<engine::ParsedPacket> buf(kChunk);
    uint64_t per_step[kSteps] = {};
    while (round_ < round) {
      fill(buf.data(), kChunk, per_step);
      for (uint32_t b = 0; b < kChunk; b += kBurst) engine_->process_burst(&buf[b], kBurst);
    }
  }
  static constexpr uint32_t kSteps = 8;

 protected:
  /// Packet time of a round's start after kT0: a second per round unless a workload leaves a gap.
  [[nodiscard]] virtual uint64_t round_start_ns(uint64_t round) const noexcept { return round * kSecond; }
  /// Flow `flow`'s packet in round `round`, stamped `ts`, into `out`: returns which packet of its session it
  /// is (below kSteps, for the checks), or -1 when the flow sends nothing in that round.
  [[nodiscard]] virtual int make(uint32_t flow, uint64_t round, uint64_t ts,
                                 engine::ParsedPacket& out) const noexcept = 0;

 private:
  uint32_t flows_;
  uint64_t dt_;
  CountingSink sink_;
  std::unique_ptr<engine::SessionEngine> engine_;
  uint64_t round_ = 0;
  uint32_t pos_ = 0;
  RandomOrder order_{flows_, 1};
};

/// Long-lived sessions: a handshake in rounds 0-2, ten quiet seconds, then data both ways in turn (so every
/// session is past Zeek's first timers when the data starts, as a long-lived flow is).
class Established final : public Workload {
 public:
  using Workload::Workload;
  static constexpr uint64_t kFirstDataRound = 3;

 protected:
  [[nodiscard]] uint64_t round_start_ns(uint64_t round) const noexcept override {
    return (round < kFirstDataRound ? round : round + 10) * kSecond;
  }
  [[nodiscard]] int make(uint32_t flow, uint64_t round, uint64_t ts,
                         engine::ParsedPacket& out) const noexcept override {
    const uint64_t h = flow::splitmix64(flow + 0x5555);
    const auto ci = static_cast<uint32_t>(h), si = static_cast<uint32_t>(h >> 32);
    constexpr uint16_t kPort = 40000;
    switch (round) {
      case 0: out = packet_of(ts, flow, kPort, true, tf::kSyn, ci, 0, 0); return 0;
      case 1: out = packet_of(ts, flow, kPort, false, tf::kSyn | tf::kAck, si, ci + 1, 0); return 1;
      case 2: out = packet_of(ts, flow, kPort, true, tf::kAck, ci + 1, si + 1, 0); return 2;
      default: break;
    }
    // Data round d: the client sends 100 bytes in even ones, the server 1000 in odd ones, each acknowledging
    // everything the other sent.
    const uint64_t d = round - kFirstDataRound;
    const auto half = static_cast<uint32_t>(d / 2);
    if (d % 2 == 0) {
      out = packet_of(ts, flow, kPort, true, tf::kPsh | tf::kAck, ci + 1 + half * 100, si + 1 + half * 1000, 100);
      return 3;
    }
    out = packet_of(ts, flow, kPort, false, tf::kAck, si + 1 + half * 1000, ci + 1 + (half + 1) * 100, 1000);
    return 4;
  }
};

/// One whole session after another per flow slot, each on a new client port: 7 rounds per session. Each
/// slot starts in one of the first 7 rounds (a random phase), so every round carries every step in equal
/// shares and any stretch of packets has the mix of a steady stream of sessions.
class NewSessions final : public Workload {
 public:
  using Workload::Workload;
  static constexpr uint32_t kRoundsPerSession = 7;
  enum Step : int { kSyn, kSynAck, kAck, kData, kFin, kFinAck, kLastAck };

 protected:
  [[nodiscard]] int make(uint32_t flow, uint64_t round, uint64_t ts,
                         engine::ParsedPacket& out) const noexcept override {
    const uint64_t phase = flow::splitmix64(flow ^ 0xabcdef) % kRoundsPerSession;
    if (round < phase) return -1;
    const uint64_t local = round - phase;
    const uint64_t gen = local / kRoundsPerSession;
    const auto port = static_cast<uint16_t>(1024 + gen % 64000);
    const uint64_t h = flow::splitmix64(flow ^ gen << 32);
    const auto ci = static_cast<uint32_t>(h), si = static_cast<uint32_t>(h >> 32);
    const auto step = static_cast<int>(local % kRoundsPerSession);
    switch (step) {
      case kSyn: out = packet_of(ts, flow, port, true, tf::kSyn, ci, 0, 0); break;
      case kSynAck: out = packet_of(ts, flow, port, false, tf::kSyn | tf::kAck, si, ci + 1, 0); break;
      case kAck: out = packet_of(ts, flow, port, true, tf::kAck, ci + 1, si + 1, 0); break;
      case kData: out = packet_of(ts, flow, port, true, tf::kPsh | tf::kAck, ci + 1, si + 1, 100); break;
      case kFin: out = packet_of(ts, flow, port, true, tf::kFin | tf::kAck, ci + 101, si + 1, 0); break;
      case kFinAck: out = packet_of(ts, flow, port, false, tf::kFin | tf::kAck, si + 1, ci + 102, 0); break;
      default: out = packet_of(ts, flow, port, true, tf::kAck, ci + 102, si + 2, 0); break;
    }
    return step;
  }
};

/// A SYN flood into a table it fills: every flow slot sends a bare SYN from a new source port each round,
/// and the table holds one round's worth, so from the second round on every SYN opens a session by evicting
/// the oldest SYN-only one (engine::SessionEngine::make_room's queue). The slots are the table's capacity.
class SynFlood final : public Workload {
 public:
  explicit SynFlood(uint32_t flows) : Workload(flows, flows) {}

 protected:
  [[nodiscard]] int make(uint32_t flow, uint64_t round, uint64_t ts,
                         engine::ParsedPacket& out) const noexcept override {
    const auto port = static_cast<uint16_t>(1024 + round % 64000);
    out = packet_of(ts, flow, port, true, tf::kSyn, static_cast<uint32_t>(flow::splitmix64(flow ^ round << 32)), 0, 0);
    return 0;
  }
};

/// The one workload alive at a time (4 M flows hold ~1.2 GB of flow entries), kept for its size's runs.
std::unique_ptr<Workload> current;
std::string current_name;

template <class W>
W* workload_for(const std::string& name, uint32_t flows, uint64_t warm_rounds) {
  const std::string key = name + "/" + std::to_string(flows);
  if (current && current_name == key) return static_cast<W*>(current.get());
  current.reset();
  auto w = std::make_unique<W>(flows);
  if (!w->ok()) return nullptr;
  w->run_until(warm_rounds);
  current = std::move(w);
  current_name = key;
  return static_cast<W*>(current.get());
}

/// What the timed region of one benchmark run measured.
struct Timed {
  uint64_t packets = 0;
  uint64_t cycles = 0;  ///< TSC ticks (wall: include time the CPU ran other threads)
  uint64_t ns = 0;      ///< wall time
  uint64_t cpu_ns = 0;  ///< this thread's CPU time
  uint64_t per_step[Workload::kSteps] = {};
};

uint64_t thread_cpu_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * kSecond + static_cast<uint64_t>(ts.tv_nsec);
}

/// The timed loop: per iteration, builds a chunk (timer paused) and hands it to the engine in bursts.
Timed run(benchmark::State& state, Workload& w) {
  std::vector<engine::ParsedPacket> chunk(kChunk);
  Timed t;
  for (auto _ : state) {
    state.PauseTiming();
    w.fill(chunk.data(), kChunk, t.per_step);
    state.ResumeTiming();
    const uint64_t cpu0 = thread_cpu_ns();
    const auto ns0 = std::chrono::steady_clock::now();
    const uint64_t c0 = __rdtsc();
    for (uint32_t b = 0; b < kChunk; b += kBurst) w.engine().process_burst(&chunk[b], kBurst);
    t.cycles += __rdtsc() - c0;
    t.ns += static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - ns0).count());
    t.cpu_ns += thread_cpu_ns() - cpu0;
    t.packets += kChunk;
  }
  return t;
}

void report(benchmark::State& state, const Timed& t, uint32_t flows) {
  state.SetItemsProcessed(static_cast<int64_t>(t.packets));
  // rdtsc and the wall clock count the time the CPU spent on other threads too (on a shared VM, other
  // builds): the CPU-time figures leave it out, converted to cycles at the TSC's rate measured over the
  // same intervals.
  const auto pkts = static_cast<double>(t.packets);
  const double tsc_per_ns = static_cast<double>(t.cycles) / static_cast<double>(t.ns);
  state.counters["cycles_per_pkt"] = static_cast<double>(t.cycles) / pkts;
  state.counters["ns_per_pkt"] = static_cast<double>(t.ns) / pkts;
  state.counters["cpu_ns_per_pkt"] = static_cast<double>(t.cpu_ns) / pkts;
  state.counters["cpu_cycles_per_pkt"] = static_cast<double>(t.cpu_ns) * tsc_per_ns / pkts;
  state.counters["flows"] = flows;
  state.counters["bytes_per_flow"] =
      static_cast<double>(engine::SessionEngine::bytes_when_full(engine_config())) / kCapacity;
}

/// A timed run of workload `w` (nullptr: it could not be built) whose packets were all received and tracked,
/// none dropped: the counters before and after it, or false after SkipWithError.
struct CheckedRun {
  Timed timed;
  engine::EngineCounters before;
};
template <class W>
bool run_checked(benchmark::State& state, W* w, CheckedRun& out) {
  if (w == nullptr) {
    state.SkipWithError("engine could not reserve its table");
    return false;
  }
  out.before = w->engine().counters();
  out.timed = run(state, *w);
  const engine::EngineCounters& after = w->engine().counters();
  const auto tcp = static_cast<size_t>(FrameClass::kTcp);
  const uint64_t packets = out.timed.packets;
  std::string why;
  if (after.received - out.before.received != packets ||
      after.by_frame_class[tcp] - out.before.by_frame_class[tcp] != packets) {
    why = std::to_string(after.by_frame_class[tcp] - out.before.by_frame_class[tcp]) + " of " +
          std::to_string(packets) + " packets tracked";
  } else if (after.dropped_table_full != 0) {
    why = std::to_string(after.dropped_table_full) + " dropped: table full";
  }
  if (!why.empty()) state.SkipWithError(why.c_str());
  return why.empty();
}

void BM_Established(benchmark::State& state) {
  const auto flows = static_cast<uint32_t>(state.range(0));
  // Warm-up: the handshakes and a round of data (the first after the quiet seconds sweeps a lot).
  Established* w = workload_for<Established>("established", flows, Established::kFirstDataRound + 1);
  CheckedRun r;
  if (!run_checked(state, w, r)) return;
  engine::SessionEngine& eng = w->engine();
  const Timed& t = r.timed;
  const engine::EngineCounters& after = eng.counters();
  if (after.handshakes != flows || after.sessions != 0 || w->sink().records != 0 || eng.active_flows() != flows) {
    return state.SkipWithError(("expected " + std::to_string(flows) + " open sessions, as many handshakes, no " +
                                "record; got " + std::to_string(eng.active_flows()) + " open, " +
                                std::to_string(after.handshakes) + " handshakes, " + std::to_string(after.sessions) +
                                " closed, " + std::to_string(w->sink().records) + " records")
                                   .c_str());
  }
  report(state, t, flows);
}

void BM_NewSessions(benchmark::State& state) {
  const auto flows = static_cast<uint32_t>(state.range(0));
  // Warm-up: three sessions per flow slot, so closed entries wait out their close delay as they will in the run.
  NewSessions* w = workload_for<NewSessions>("new_sessions", flows, 3 * NewSessions::kRoundsPerSession);
  CheckedRun r;
  if (!run_checked(state, w, r)) return;
  engine::SessionEngine& eng = w->engine();
  const engine::EngineCounters& before = r.before;
  const Timed& t = r.timed;
  const engine::EngineCounters& after = eng.counters();
  // Each session closes (counted once, SF) with the server's FIN and completes its handshake with the ACK.
  const auto sf = static_cast<size_t>(tcp_session::ConnState::kSF);
  uint64_t sf_before = 0, sf_after = 0;
  for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) {
    sf_before += before.by_state[sf][p];
    sf_after += after.by_state[sf][p];
  }
  const uint64_t closed = t.per_step[NewSessions::kFinAck];
  if (after.sessions - before.sessions != closed || sf_after - sf_before != closed ||
      after.handshakes - before.handshakes != t.per_step[NewSessions::kAck]) {
    return state.SkipWithError(("expected " + std::to_string(closed) + " SF sessions and " +
                                std::to_string(t.per_step[NewSessions::kAck]) + " handshakes; got " +
                                std::to_string(after.sessions - before.sessions) + " sessions (" +
                                std::to_string(sf_after - sf_before) + " SF), " +
                                std::to_string(after.handshakes - before.handshakes) + " handshakes")
                                   .c_str());
  }
  report(state, t, flows);
  state.counters["sessions_per_s"] =
      static_cast<double>(t.per_step[NewSessions::kSyn]) / (static_cast<double>(t.cpu_ns) / 1e9);
  state.counters["evicted"] = static_cast<double>(after.evicted_syn_only + after.evicted_other -
                                                  before.evicted_syn_only - before.evicted_other);
  state.counters["table_entries"] = eng.active_flows();
}

}  // namespace

void BM_SynFlood(benchmark::State& state) {
  const auto flows = static_cast<uint32_t>(state.range(0));
  // Warm-up: the first round fills the table, the second starts evicting.
  SynFlood* w = workload_for<SynFlood>("syn_flood", flows, 2);
  CheckedRun r;
  if (!run_checked(state, w, r)) return;
  const engine::EngineCounters& before = r.before;
  const engine::EngineCounters& after = w->engine().counters();
  const uint64_t evicted = after.evicted_syn_only - before.evicted_syn_only;
  // Every SYN opens a session in a full table: one SYN-only eviction each, nothing else evicted.
  if (evicted != r.timed.packets || after.evicted_other != 0 || w->engine().active_flows() != flows) {
    return state.SkipWithError(("expected " + std::to_string(r.timed.packets) + " SYN-only evictions and a full " +
                                "table; got " + std::to_string(evicted) + " (" + std::to_string(after.evicted_other) +
                                " other), " + std::to_string(w->engine().active_flows()) + " entries")
                                   .c_str());
  }
  report(state, r.timed, flows);
  state.counters["bytes_per_flow"] =
      static_cast<double>(engine::SessionEngine::bytes_when_full(engine_config(flows))) / flows;
  state.counters["sessions_per_s"] = static_cast<double>(r.timed.packets) / (static_cast<double>(r.timed.cpu_ns) / 1e9);
}

int main(int argc, char** argv) {
  // Grouped by workload and size: each engine is built and warmed once (registration order is run order).
  for (const uint32_t flows : {10'000u, 100'000u, 1'000'000u, 4'000'000u}) {
    benchmark::RegisterBenchmark("engine/established", BM_Established)->Arg(flows);
  }
  for (const uint32_t flows : {10'000u, 100'000u, 1'000'000u}) {
    benchmark::RegisterBenchmark("engine/new_sessions", BM_NewSessions)->Arg(flows);
  }
  for (const uint32_t flows : {10'000u, 1'000'000u}) {
    benchmark::RegisterBenchmark("engine/syn_flood", BM_SynFlood)->Arg(flows);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
