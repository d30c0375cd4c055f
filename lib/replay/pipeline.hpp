// pipeline: the offline replay. Reads a capture, parses its frames, judges every TCP session with one
// SessionEngine and hands the records to the consumers (consumers::Consumers), in one of two shapes:
//
//   single thread   the calling thread reads, parses and runs the engine, bursts of 32 frames.
//   reader + worker the shape of the live path: the calling thread reads and parses frames and feeds the
//                   consumers; a worker thread owns the engine (flow table, table hash, verdicts). Bursts
//                   go over one SP/SC channel, finished sessions come back over another.
//
// Verdicts, buckets and output order are identical in both; only the wall time differs. The calling thread
// owns everything; the worker touches only the engine, the two channels and the capture's pages ahead.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "consumers/consumers.hpp"
#include "consumers/requests.hpp"
#include "engine/engine.hpp"
#include "packet/packet.hpp"

namespace synscope::replay {

struct ReplayConfig {
  std::string capture;  ///< pcap or pcapng file
  packet::ParseOptions parse;
  engine::EngineConfig engine;
  unsigned threads = 1;  ///< 1: single thread; 2: reader + worker
  bool progress = true;  ///< a progress line on stderr every 2 s of a long replay
};

struct ReplayResult {
  engine::EngineCounters counters;  ///< the engine's, after its last session was reported
  uint64_t late_sessions = 0;       ///< sessions counted late in their bucket (consumers)
  double seconds = 0;               ///< wall time of the replay
  bool interrupted = false;         ///< `stop` was seen before the end of the capture
  /// Non-empty when the capture turned out corrupt part-way: what and where (byte offset). Everything
  /// before it was judged and reported.
  std::string corrupt;
};

/// Replays `config.capture` into `consumers` and finishes them (every open session reported, every bucket
/// emitted; the caller then closes them). `requests` is polled every 64k frames: stop (SIGINT/SIGTERM: the
/// result is `interrupted`), reopen the output files (SIGHUP), a progress line on stderr (SIGUSR1). Throws
/// capture::CaptureError (ErrorKind::kInput) when the capture cannot be opened or is not a capture, and
/// Error (ErrorKind::kResource) when the flow table cannot be reserved.
[[nodiscard]] ReplayResult run(const ReplayConfig& config, consumers::Consumers& consumers,
                               consumers::Requests& requests);

/// The end-of-replay report for stderr: frames by class, sessions by state, failed by perspective, and the
/// timing line.
[[nodiscard]] std::string describe(const ReplayConfig& config, const ReplayResult& result);

}  // namespace synscope::replay
