// replay: see replay.hpp.
#include "replay.hpp"

#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include "capture/capture.hpp"
#include "output/output.hpp"

namespace synscope::app {

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
  engine::SessionEngine engine(options.engine, session_writer.get(), bucket_writer.get());
  if (!engine.ok()) {
    throw std::runtime_error("cannot reserve memory for --flow-capacity " +
                             std::to_string(options.engine.flow_capacity) + " flows");
  }

  constexpr uint32_t kBurst = 32;
  engine::ParsedPacket burst[kBurst];
  uint32_t n = 0;
  capture::Frame frame;
  capture::CaptureReader::Next status = capture::CaptureReader::Next::kFrame;
  const auto started = std::chrono::steady_clock::now();
  auto last_progress = started;
  uint64_t frames = 0;
  bool interrupted = false;

  while (true) {
    status = reader.next(frame);
    if (status != capture::CaptureReader::Next::kFrame) break;
    engine::ParsedPacket& p = burst[n];
    p.ts_ns = frame.ts_ns;
    p.verdict = frame.link_supported ? packet::parse_frame(frame.link, frame.data, frame.caplen, options.parse, p.meta)
                                     : packet::Verdict::kNotIp;
    if (++n == kBurst) {
      engine.process_burst(burst, n);
      n = 0;
      frames += kBurst;
      if ((frames & 0xffff) == 0) {
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
    }
  }
  if (n > 0) engine.process_burst(burst, n);
  engine.finish();

  int rc = kExitOk;
  for (output::OutputFile* f : {sessions_file.get(), buckets_file.get()}) {
    if (f != nullptr && !f->flush()) {
      std::fprintf(stderr, "synscope: error: cannot write %s\n", f->path().c_str());
      rc = kExitOutput;
    }
  }
  if (!options.quiet) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::fprintf(stderr, "%s", output::format_summary(engine.counters(), engine.bucket_ring().late_sessions()).c_str());
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
