// replay: the offline replay mode. Reads a capture, feeds bursts through one SessionEngine, writes sessions
// and buckets, prints a summary. Runs on the calling thread.
#pragma once

#include <atomic>

#include "options.hpp"

namespace synscope::app {

/// Exit codes shared by every mode.
enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,        ///< bad option or value (CLI11 also uses 1..)
  kExitInput = 2,        ///< input cannot be opened or is not a capture
  kExitCorrupt = 3,      ///< input corrupt part-way: everything before the corruption was reported
  kExitOutput = 4,       ///< an output file could not be written
};

/// Runs a replay; returns an ExitCode. `stop` is polled between bursts (SIGINT/SIGTERM).
int run_replay(const ReplayOptions& options, const std::atomic<bool>& stop);

}  // namespace synscope::app
