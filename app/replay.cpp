// replay: see replay.hpp.
#include "replay.hpp"

#include <pthread.h>
#include <sched.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "alerts/alerts.hpp"
#include "capture/capture.hpp"
#include "output/output.hpp"
#include "channel/channel.hpp"

namespace synscope::app {
namespace {

/// Hands each finished session / settled bucket to several consumers (JSON writer, alert engine).
struct SessionTee final : engine::SessionSink {
  std::vector<engine::SessionSink*> sinks;
  void on_session(const engine::SessionRecord& r) override {
    for (engine::SessionSink* s : sinks) s->on_session(r);
  }
};
struct BucketTee final : buckets::BucketSink {
  std::vector<buckets::BucketSink*> sinks;
  void on_bucket(const buckets::Bucket& b) override {
    for (buckets::BucketSink* s : sinks) s->on_bucket(b);
  }
};

/// --threads 2: the consumers live on the reader thread, so the engine thread's buckets are rebuilt here
/// from its session records (engine::RecordBuckets, as the live stats core does). Sessions and buckets then
/// reach the consumers (the alert engine needs both) on one thread, in the engine's order.
class BucketRebuilder final : public engine::SessionSink {
 public:
  BucketRebuilder(const engine::EngineConfig& config, engine::SessionSink* sessions, buckets::BucketSink* buckets)
      : buckets_(config.bucket_span_ns, config.bucket_settle_ns), sessions_(sessions),
        bucket_sink_(buckets != nullptr ? *buckets : discard_) {}

  // The ring settles even when nobody wants buckets (as the engine's own does), so its late-session count,
  // printed in the summary, is the one --threads 1 prints.
  void on_session(const engine::SessionRecord& r) override {
    buckets_.settle(r.settled_ns, bucket_sink_);
    if (sessions_ != nullptr) sessions_->on_session(r);
    buckets_.add(r);
  }
  /// After the last session: emits every bucket held.
  void finish() { buckets_.flush(bucket_sink_); }
  [[nodiscard]] uint64_t late_sessions() const noexcept { return buckets_.late_sessions(); }

 private:
  engine::RecordBuckets buckets_;
  engine::SessionSink* sessions_;
  buckets::DiscardBuckets discard_;
  buckets::BucketSink& bucket_sink_;
};

/// Gives the replay's two threads a CPU each: the caller (reader) the first CPU this process may use, the
/// worker the second. Left to the scheduler they were now and then stacked on one CPU or moved between
/// them mid-run; pinned, a 1M-frame replay took ~5% less wall and CPU time. Nothing is pinned with fewer
/// than two usable CPUs; the caller's own mask comes back when this object goes.
class ThreadPinning {
 public:
  ThreadPinning() noexcept {
    cpu_set_t allowed;
    if (::pthread_getaffinity_np(::pthread_self(), sizeof(original_), &original_) != 0 ||
        ::sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
      return;
    }
    int found = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && found < 2; ++cpu) {
      if (CPU_ISSET(cpu, &allowed)) cpus_[found++] = cpu;
    }
    active_ = found == 2 && pin(cpus_[0]);
  }
  ~ThreadPinning() {
    if (active_) (void)::pthread_setaffinity_np(::pthread_self(), sizeof(original_), &original_);
  }
  ThreadPinning(const ThreadPinning&) = delete;
  ThreadPinning& operator=(const ThreadPinning&) = delete;
  /// Call on the worker thread.
  void pin_worker() const noexcept {
    if (active_) (void)pin(cpus_[1]);
  }

 private:
  static bool pin(int cpu) noexcept {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return ::pthread_setaffinity_np(::pthread_self(), sizeof(one), &one) == 0;
  }
  cpu_set_t original_{};
  int cpus_[2] = {-1, -1};
  bool active_ = false;
};

}  // namespace

int run_replay(const ReplayOptions& options, const std::atomic<bool>& stop) {
  capture::CaptureReader reader(options.capture);  // throws CaptureError: mapped to kExitInput by main()

  std::unique_ptr<output::OutputFile> sessions_file, buckets_file;
  std::unique_ptr<output::SessionJsonWriter> session_writer;
  std::unique_ptr<output::BucketJsonWriter> bucket_writer;
  if (!options.sessions_out.empty()) {
    sessions_file = std::make_unique<output::OutputFile>(options.sessions_out);
    session_writer = std::make_unique<output::SessionJsonWriter>(*sessions_file);
  }
  if (!options.buckets_out.empty()) {
    buckets_file = std::make_unique<output::OutputFile>(options.buckets_out);
    bucket_writer = std::make_unique<output::BucketJsonWriter>(*buckets_file);
  }
  std::unique_ptr<output::OutputFile> alerts_file;
  std::unique_ptr<alerts::AlertEngine> alert_engine;
  if (!options.alerts_out.empty()) {
    alerts_file = std::make_unique<output::OutputFile>(options.alerts_out);
    alert_engine = std::make_unique<alerts::AlertEngine>(
        alerts::alert_config(options.alert_policy, options.engine.bucket_span_ns, options.engine.bucket_settle_ns),
        *alerts_file);
    std::string warning;
    if (!options.model_file.empty() && !alert_engine->load(options.model_file, warning)) {
      std::fprintf(stderr, "synscope: warning: %s\n", warning.c_str());
    }
  }
  // Consumers of finished sessions and settled buckets, in order.
  SessionTee session_tee;
  BucketTee bucket_tee;
  if (session_writer) session_tee.sinks.push_back(session_writer.get());
  if (alert_engine) session_tee.sinks.push_back(alert_engine.get());
  if (bucket_writer) bucket_tee.sinks.push_back(bucket_writer.get());
  if (alert_engine) bucket_tee.sinks.push_back(alert_engine.get());
  engine::SessionSink* session_out = session_tee.sinks.empty() ? nullptr : &session_tee;
  buckets::BucketSink* bucket_out = bucket_tee.sinks.empty() ? nullptr : &bucket_tee;
  // --threads 1: this thread reads, classifies and runs the engine, bursts of 32 frames.
  // --threads 2 (default with two CPUs): the shape of the live path. This thread reads and classifies
  // frames and feeds the consumers (JSON writers, alert engine); a worker owns the engine (flow table, table
  // hash, verdicts). Bursts go over one SP/SC channel, finished sessions come back over another, and this
  // thread consumes them while it waits for a free burst; buckets are rebuilt from them (BucketRebuilder).
  // Verdicts, buckets and output order are identical; only the wall time differs (docs/design.md).
  const bool pipelined = options.threads > 1;
  // 512 sessions in flight (~400 KB): the reader drains it before every burst, and the engine never found it
  // full on bench-1m.pcap even at 256. 4096 (3 MB of fresh memory) was ~8 ms slower after Argus.
  channel::SessionChannel session_channel(pipelined ? 512 : 2);
  // At the end of a busy capture the worker reports every open session at once (~70k on bench-dense.pcap)
  // and waited ~3.2k times on this thread's formatting. It writes lines itself while the ring is more than
  // half full, so both threads format and it never waits.
  if (pipelined && session_writer) session_channel.prepare_lines_when_pressed(&output::SessionJsonWriter::render);
  BucketRebuilder rebuilder(options.engine, session_out, bucket_out);
  // Pipelined: what drains the session channel on this thread (nullptr: nobody wants sessions or buckets).
  engine::SessionSink* const drained_to = session_out || bucket_out ? &rebuilder : nullptr;
  engine::SessionSink* session_sink = session_out;
  if (pipelined) session_sink = drained_to ? &session_channel : nullptr;
  // Replay may pause on an insert (no packets are lost waiting), so the flow index grows with the capture
  // instead of being faulted in whole for --flow-capacity (flow::IndexSizing).
  engine::EngineConfig engine_config = options.engine;
  engine_config.index_sizing = flow::IndexSizing::kGrowing;
  // One thread: the engine keeps the buckets, and keeps counting late sessions even when nobody wants the
  // buckets (the summary prints the count). Two: the BucketRebuilder does, on this thread.
  buckets::DiscardBuckets unwanted_buckets;
  engine::SessionEngine engine(engine_config, session_sink,
                               pipelined ? nullptr : (bucket_out != nullptr ? bucket_out : &unwanted_buckets));
  if (!engine.ok()) {
    throw std::runtime_error("cannot reserve memory for --flow-capacity " +
                             std::to_string(options.engine.flow_capacity) + " flows");
  }
  const engine::FrameParser classifier(options.parse);
  channel::BurstChannel channel(pipelined ? 128 : 2);
  std::thread worker;
  std::optional<ThreadPinning> pinning;
  if (pipelined) {
    pinning.emplace();
    worker = std::thread([&engine, &channel, &session_channel, &pinning, &reader] {
      pinning->pin_worker();
      // While it waits for bursts the worker maps the capture's pages ahead of the reader.
      const std::function<bool()> idle_work = [&reader] { return reader.populate_ahead(); };
      // One burst ahead: the next burst's packets (written on the reader's CPU) are prefetched while this
      // one is processed, so their cross-core misses overlap with work instead of stalling the engine.
      channel::Burst* b = channel.receive(idle_work);
      while (b != nullptr) {
        channel::Burst* const next = channel.try_receive();
        if (next != nullptr) next->prefetch();
        if (b->has_deferred) b->check_deferred();
        engine.process_burst(b->pkts, b->n);
        channel.release(b);
        b = next != nullptr ? next : channel.receive(idle_work);
      }
      engine.finish();
      session_channel.mark_done();
    });
  }
  // The kernel work of the capture mapping goes to whichever thread waits for the other: the worker maps
  // pages ahead while it waits for bursts, the reader unmaps the windows behind the worker while it waits
  // for free bursts (instead of one 223 MB munmap at the end). Whoever does not wait does neither; the
  // reader still maps pages itself when nobody did, and the destructor unmaps the rest.
  uint64_t consumed_offset = 0;  // the capture below it is no longer referenced by any burst
  // Pipelined: writes the sessions waiting (a few at a time, so the worker never finds the ring full),
  // then waits for an empty burst, writing more sessions meanwhile. Inline: the one burst, reused.
  channel::Burst inline_burst;
  const auto next_burst = [&] {
    if (!pipelined) {
      inline_burst.n = 0;
      return &inline_burst;
    }
    if (drained_to) (void)session_channel.drain(*drained_to, 8);
    channel::Backoff backoff;
    while (true) {
      if (channel::Burst* b = channel.try_acquire()) {
        // A burst back from the worker was processed, and every burst before it: the capture below its
        // end is no longer needed (its frames, their deferred checksums).
        if (b->end_offset > consumed_offset) consumed_offset = b->end_offset;
        b->n = 0;
        return b;
      }
      if (drained_to && session_channel.drain(*drained_to, 16) > 0) continue;
      // Waiting on the worker: unmap the capture behind it, map pages ahead (CaptureReader), or fault in
      // the worker's flow-table memory ahead of its inserts.
      if (reader.release_behind(consumed_offset) || reader.populate_ahead() || engine.populate_table_ahead()) {
        continue;
      }
      backoff.pause();
    }
  };
  const auto submit = [&](channel::Burst* b) {
    if (pipelined) {
      b->end_offset = reader.offset();
      channel.publish(b);
    } else {
      engine.process_burst(b->pkts, b->n);
    }
  };

  capture::Frame frame;
  capture::CaptureReader::Next status = capture::CaptureReader::Next::kFrame;
  const auto started = std::chrono::steady_clock::now();
  auto last_progress = started;
  uint64_t frames = 0;
  bool interrupted = false;
  // Pipelined: the TCP checksum (the reader's largest per-frame cost) goes to whichever thread has time.
  // While the worker has only a few bursts queued it is about to run dry, so the reader leaves the
  // checksums of the next burst to it (Burst::deferred; the capture stays mapped); otherwise it checks them
  // itself. The queue settles near the threshold and both threads stay busy. Verdicts do not depend on it.
  // Of 128 bursts. Thresholds 8-64 measured alike on bench-1m.pcap; never deferring was ~5 ms slower and
  // always deferring ~25 ms slower (the worker then becomes the bottleneck).
  constexpr uint32_t kDeferBelowQueued = 32;
  channel::Burst* burst = next_burst();
  packet::DeferredChecksum* deferred = nullptr;
  const auto choose_checker = [&] {
    deferred = pipelined && options.parse.verify_checksums && channel.queued() < kDeferBelowQueued
                   ? burst->deferred : nullptr;
    burst->has_deferred = deferred != nullptr;
  };
  choose_checker();
  while (true) {
    status = reader.next(frame);
    if (status != capture::CaptureReader::Next::kFrame) break;
    engine::ParsedPacket& p = burst->pkts[burst->n];
    if (frame.link_supported) {
      classifier.parse(frame.link, frame.data, frame.caplen, frame.ts_ns, p,
                          deferred != nullptr ? &deferred[burst->n] : nullptr);
    } else {
      if (deferred != nullptr) deferred[burst->n].ip = nullptr;
      p.ts_ns = frame.ts_ns;
      p.frame_class = packet::FrameClass::kNotIp;
    }
    if (++burst->n < channel::kBurstSize) continue;
    submit(burst);
    burst = next_burst();
    choose_checker();
    frames += channel::kBurstSize;
    if ((frames & 0xffff) != 0) continue;
    if (stop.load(std::memory_order_relaxed)) {
      interrupted = true;
      break;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!options.quiet && now - last_progress > std::chrono::seconds(2)) {
      last_progress = now;
      const double secs = std::chrono::duration<double>(now - started).count();
      std::fprintf(stderr, "progress: %llu frames, %.1f%% of %s, %.2f Mframes/s\n",
                   static_cast<unsigned long long>(frames), 100.0 * reader.offset() / reader.size(),
                   options.capture.c_str(), frames / secs / 1e6);
    }
  }
  submit(burst);  // the partial last burst (possibly empty)
  if (pipelined) {
    channel.close();
    if (drained_to) session_channel.drain_all(*drained_to);  // until the worker's finish() is out
    worker.join();  // the engine's counters are this thread's to read from here
    pinning.reset();  // this thread may run anywhere again
    rebuilder.finish();
  } else {
    engine.finish();
  }

  int rc = kExitOk;
  std::string model_error;
  if (alert_engine && !options.model_file.empty() && !alert_engine->save(options.model_file, model_error)) {
    std::fprintf(stderr, "synscope: error: %s\n", model_error.c_str());
    rc = kExitOutput;
  }
  for (output::OutputFile* f : {sessions_file.get(), buckets_file.get(), alerts_file.get()}) {
    if (f != nullptr && !f->flush()) {
      std::fprintf(stderr, "synscope: error: cannot write %s\n", f->path().c_str());
      rc = kExitOutput;
    }
  }
  if (!options.quiet) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const uint64_t late = pipelined ? rebuilder.late_sessions() : engine.bucket_ring().late_sessions();
    std::fprintf(stderr, "%s", output::format_summary(engine.counters(), late).c_str());
    std::fprintf(stderr, "replay: %s in %.3f s (%.2f Mframes/s)%s\n", options.capture.c_str(), secs,
                 engine.counters().received / (secs > 0 ? secs : 1) / 1e6, interrupted ? " [interrupted]" : "");
  }
  if (status == capture::CaptureReader::Next::kError) {
    std::fprintf(stderr, "synscope: error: %s (everything before it was reported)\n", reader.error().c_str());
    return kExitCorrupt;
  }
  return rc;
}

}  // namespace synscope::app
