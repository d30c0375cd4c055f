// pipeline: see pipeline.hpp.
#include "replay/pipeline.hpp"

#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <thread>

#include "capture/capture.hpp"
#include "channel/channel.hpp"
#include "error/error.hpp"
#include "output/output.hpp"
#include "replay/replay_burst.hpp"
#include "replay/thread_pinning.hpp"

namespace synscope::replay {
namespace {

using Clock = std::chrono::steady_clock;

/// Reader + worker: of 128 bursts in flight, while fewer than this many are queued the worker is about to
/// run dry, so the reader leaves the TCP checksums (its largest per-frame cost) of the next burst to it;
/// otherwise it checks them itself. The queue settles near the threshold and both threads stay busy.
constexpr uint32_t kDeferBelowQueued = 32;
constexpr uint32_t kBurstsInFlight = 128;
/// Finished sessions in flight from the worker: the reader drains them before every burst.
constexpr uint32_t kSessionsInFlight = 512;

/// The single-thread shape: one burst, reused; the engine runs on this thread.
class SingleThread {
 public:
  explicit SingleThread(engine::SessionEngine& engine) noexcept : engine_(engine) {}
  ReplayBurst* acquire() noexcept {
    burst_.n = 0;
    return &burst_;
  }
  /// Where the reader may leave this burst's checksums: nowhere, it checks them itself.
  packet::DeferredChecksum* deferred_for(ReplayBurst*) noexcept { return nullptr; }
  void submit(ReplayBurst* b, uint64_t /*end_offset*/) noexcept { engine_.process_burst(b->pkts, b->n); }

 private:
  engine::SessionEngine& engine_;
  ReplayBurst burst_;
};

/// The reader + worker shape, seen from the reader. The worker owns the engine; the reader drains finished
/// sessions into the consumers while it waits for free bursts. The kernel work of the capture mapping goes
/// to whichever thread waits for the other: the worker maps pages ahead while it waits for bursts, the
/// reader unmaps the windows behind the worker (and faults in the worker's flow-table memory ahead of its
/// inserts) while it waits for free bursts.
class ReaderWorker {
 public:
  ReaderWorker(const ReplayConfig& config, engine::SessionEngine& engine, channel::SessionChannel& sessions,
               consumers::Consumers& consumers, capture::CaptureReader& reader)
      : verify_checksums_(config.parse.verify_checksums),
        engine_(engine),
        sessions_(sessions),
        consumers_(consumers),
        reader_(reader),
        bursts_(kBurstsInFlight) {
    pinning_.emplace();
    worker_ = std::thread([this] { work(); });
  }
  ~ReaderWorker() {
    if (worker_.joinable()) finish();
  }
  ReaderWorker(const ReaderWorker&) = delete;
  ReaderWorker& operator=(const ReaderWorker&) = delete;

  /// Writes a few waiting sessions (so the worker never finds its ring full), then waits for an empty
  /// burst, writing more sessions and doing the mapping work meanwhile.
  ReplayBurst* acquire() noexcept {
    (void)sessions_.drain(consumers_, 8);
    channel::Backoff backoff;
    while (true) {
      if (ReplayBurst* b = bursts_.try_acquire()) {
        // A burst back from the worker was processed, and every burst before it: the capture below its
        // end is no longer needed (its frames, their deferred checksums).
        if (b->end_offset > consumed_offset_) consumed_offset_ = b->end_offset;
        b->n = 0;
        return b;
      }
      if (sessions_.drain(consumers_, 16) > 0) continue;
      if (reader_.release_behind(consumed_offset_) || reader_.populate_ahead() || engine_.populate_table_ahead()) {
        continue;
      }
      backoff.pause();
    }
  }
  /// Leaves the burst's checksums to the worker while it is about to run dry (kDeferBelowQueued).
  packet::DeferredChecksum* deferred_for(ReplayBurst* b) noexcept {
    b->has_deferred = verify_checksums_ && bursts_.queued() < kDeferBelowQueued;
    return b->has_deferred ? b->deferred : nullptr;
  }
  void submit(ReplayBurst* b, uint64_t end_offset) noexcept {
    b->end_offset = end_offset;
    bursts_.publish(b);
  }
  /// After the last burst: lets the worker finish (every open session reported) and takes every session.
  void finish() {
    bursts_.close();
    sessions_.drain_all(consumers_);  // until the worker's finish() is out
    worker_.join();                   // the engine's counters are this thread's to read from here
    pinning_.reset();                 // this thread may run anywhere again
  }

 private:
  void work() noexcept {
    pinning_->pin_worker();
    // While it waits for bursts the worker maps the capture's pages ahead of the reader.
    const std::function<bool()> idle_work = [this] { return reader_.populate_ahead(); };
    // One burst ahead: the next burst's packets (written on the reader's CPU) are prefetched while this
    // one is processed, so their cross-core misses overlap with work instead of stalling the engine.
    ReplayBurst* b = bursts_.receive(idle_work);
    while (b != nullptr) {
      ReplayBurst* const next = bursts_.try_receive();
      if (next != nullptr) channel::prefetch_burst(*next);
      if (b->has_deferred) b->check_deferred();
      engine_.process_burst(b->pkts, b->n);
      bursts_.release(b);
      b = next != nullptr ? next : bursts_.receive(idle_work);
    }
    engine_.finish();
    sessions_.mark_done();
  }

  bool verify_checksums_;
  engine::SessionEngine& engine_;
  channel::SessionChannel& sessions_;
  consumers::Consumers& consumers_;
  capture::CaptureReader& reader_;
  channel::BurstChannel<ReplayBurst> bursts_;
  std::optional<ThreadPinning> pinning_;
  std::thread worker_;
  uint64_t consumed_offset_ = 0;  ///< the capture below it is no longer referenced by any burst
};

struct ReadOutcome {
  capture::CaptureReader::Next status = capture::CaptureReader::Next::kEnd;
  bool interrupted = false;
};

/// Reads every frame into bursts and hands each full burst (and the partial last one) to `shape`.
template <class Shape>
ReadOutcome read_all(const ReplayConfig& config, capture::CaptureReader& reader, Shape& shape,
                     consumers::Consumers& consumers, consumers::Requests& requests, Clock::time_point started) {
  const engine::FrameParser parser(config.parse);
  packet::FragmentTable fragments(engine::kFragmentDatagrams, engine::kFragmentTimeoutNs);
  capture::Frame frame;
  ReadOutcome out;
  auto last_progress = started;
  uint64_t frames = 0;
  ReplayBurst* burst = shape.acquire();
  packet::DeferredChecksum* deferred = shape.deferred_for(burst);
  while (true) {
    out.status = reader.next(frame);
    if (out.status != capture::CaptureReader::Next::kFrame) break;
    engine::ParsedPacket& p = burst->pkts[burst->n];
    parser.parse(frame.link, frame.data, frame.caplen, frame.ts_ns, p,
                 deferred != nullptr ? &deferred[burst->n] : nullptr, 0, &fragments);
    if (++burst->n < channel::kBurstSize) continue;
    shape.submit(burst, reader.offset());
    burst = shape.acquire();
    deferred = shape.deferred_for(burst);
    frames += channel::kBurstSize;
    if ((frames & 0xffff) != 0) continue;
    if (requests.stopping()) {
      out.interrupted = true;
      break;
    }
    if (requests.take_reopen()) consumers.reopen_files();
    const bool asked = requests.take_report();
    const auto now = Clock::now();
    if (asked || (config.progress && now - last_progress > std::chrono::seconds(2))) {
      last_progress = now;
      const double secs = std::chrono::duration<double>(now - started).count();
      std::fprintf(stderr, "progress: %llu frames, %.1f%% of %s, %.2f Mframes/s\n",
                   static_cast<unsigned long long>(frames), 100.0 * reader.offset() / reader.size(),
                   config.capture.c_str(), frames / secs / 1e6);
      if (asked) {
        std::fprintf(stderr, "progress: %llu sessions so far\n", static_cast<unsigned long long>(consumers.sessions()));
      }
    }
  }
  shape.submit(burst, reader.offset());  // the partial last burst (possibly empty)
  return out;
}

}  // namespace

ReplayResult run(const ReplayConfig& config, consumers::Consumers& consumers, consumers::Requests& requests) {
  capture::CaptureReader reader(config.capture);
  const bool pipelined = config.threads > 1;
  channel::SessionChannel sessions(pipelined ? kSessionsInFlight : 2);
  // At the end of a busy capture the worker reports every open session at once; while the ring is more
  // than half full it writes their lines itself, so both threads format and it never waits.
  if (pipelined) {
    if (const auto* renderer = consumers.session_line_renderer()) sessions.prepare_lines_when_pressed(*renderer);
  }
  // Replay may pause on an insert (no packets are lost waiting), so the flow index grows with the capture
  // instead of being faulted in whole for --flow-capacity (flow::IndexSizing).
  engine::EngineConfig engine_config = config.engine;
  engine_config.index_sizing = flow::IndexSizing::kGrowing;
  engine::SessionEngine engine(engine_config, pipelined ? static_cast<engine::SessionSink&>(sessions) : consumers);
  if (!engine.ok()) {
    throw Error(ErrorKind::kResource,
                "cannot reserve memory for --flow-capacity " + std::to_string(config.engine.flow_capacity) + " flows");
  }

  ReplayResult result;
  const auto started = Clock::now();
  ReadOutcome outcome;
  if (pipelined) {
    ReaderWorker shape(config, engine, sessions, consumers, reader);
    outcome = read_all(config, reader, shape, consumers, requests, started);
    shape.finish();
  } else {
    SingleThread shape(engine);
    outcome = read_all(config, reader, shape, consumers, requests, started);
    engine.finish();
  }
  consumers.finish();
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  result.counters = engine.counters();
  result.late_sessions = consumers.late_sessions();
  result.interrupted = outcome.interrupted;
  if (outcome.status == capture::CaptureReader::Next::kError) result.corrupt = reader.error();
  return result;
}

std::string describe(const ReplayConfig& config, const ReplayResult& result) {
  std::string out = output::format_summary(result.counters, result.late_sessions);
  char line[512];
  const double secs = result.seconds > 0 ? result.seconds : 1;
  std::snprintf(line, sizeof(line), "replay: %s in %.3f s (%.2f Mframes/s)%s\n", config.capture.c_str(), result.seconds,
                result.counters.received / secs / 1e6, result.interrupted ? " [interrupted]" : "");
  return out + line;
}

}  // namespace synscope::replay
