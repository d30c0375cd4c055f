// replay_stages: where single-thread replay time goes, stage by stage, on one capture. Each pass adds one
// stage to the previous ones (read -> +classify -> +engine -> +session JSON), all on one thread, and
// reports ns/frame per pass; the differences are each stage's cost. Use it before and after a hot-path
// change; timings on a shared VM are noisy, so it runs every pass `--runs` times and keeps the best.
//   build/bench/replay-stages build/bench-1m.pcap --runs 5
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <memory>

#include "capture/capture.hpp"
#include "engine/engine.hpp"
#include "output/output.hpp"

namespace {

using namespace synscope;

struct CountingSink : engine::SessionSink {
  uint64_t n = 0;
  void on_session(const engine::SessionRecord&) override { ++n; }
};

double run_pass(const std::string& path, int stages, const packet::ParseOptions& parse, uint64_t& frames_out) {
  capture::CaptureReader reader(path);
  engine::EngineConfig cfg;
  CountingSink counting;
  output::OutputFile devnull("/dev/null");
  output::SessionJsonWriter json(devnull);
  engine::SessionSink* sink = stages >= 4 ? static_cast<engine::SessionSink*>(&json) : &counting;
  auto eng = std::make_unique<engine::SessionEngine>(cfg, *sink);
  const engine::FrameParser classifier(parse);
  constexpr uint32_t kBurst = 32;
  engine::ParsedPacket burst[kBurst];
  uint32_t n = 0;
  uint64_t frames = 0, bytes = 0;
  capture::Frame frame;
  const auto t0 = std::chrono::steady_clock::now();
  while (reader.next(frame) == capture::CaptureReader::Next::kFrame) {
    ++frames;
    if (stages == 1) {
      bytes += frame.data[frame.caplen - 1];  // touch the last byte, as the checksum would
      continue;
    }
    classifier.parse(frame.link, frame.data, frame.caplen, frame.ts_ns, burst[n]);
    if (++n == kBurst) {
      if (stages >= 3) eng->process_burst(burst, n);
      n = 0;
    }
  }
  if (stages >= 3) {
    eng->process_burst(burst, n);
    eng->finish();
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  frames_out = frames + (bytes & 0);
  return secs;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Single-thread replay cost by stage"};
  std::string path;
  int runs = 3;
  int only = 0;
  bool no_checksums = false;
  app.add_option("capture", path, "pcap/pcapng file")->required()->check(CLI::ExistingFile);
  app.add_option("--runs", runs, "passes per stage (best kept)")->check(CLI::Range(1, 100));
  app.add_option("--only", only, "run just this pass (1-4), e.g. under perf")->check(CLI::Range(1, 4));
  app.add_flag("--no-checksums", no_checksums, "do not verify TCP checksums (replay --checksums ignore)");
  CLI11_PARSE(app, argc, argv);
  packet::ParseOptions parse;
  parse.verify_checksums = !no_checksums;
  static const char* kNames[] = {"", "read", "+classify", "+engine", "+session json"};
  double prev = 0;
  for (int stages = 1; stages <= 4; ++stages) {
    if (only != 0 && stages != only) continue;
    double best = 1e9;
    uint64_t frames = 0;
    for (int r = 0; r < runs; ++r) {
      const double s = run_pass(path, stages, parse, frames);
      if (s < best) best = s;
    }
    const double ns = best * 1e9 / static_cast<double>(frames);
    std::printf("%-14s %8.3f s  %6.1f ns/frame  (stage %+6.1f ns/frame)\n", kNames[stages], best, ns, ns - prev);
    prev = ns;
  }
  return 0;
}
