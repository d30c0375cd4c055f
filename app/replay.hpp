// replay: the `replay` command. Wires options to the replay pipeline (lib/replay) and the consumers
// (lib/consumers), prints the summary, and maps the result to an exit code. Runs on the calling thread.
#pragma once

#include <atomic>

#include "options.hpp"

namespace synscope::app {

/// Runs a replay; returns the exit code (0, or ErrorKind::kCorrupt / kOutput). Start-up failures throw
/// Error (main() maps them). `stop` is polled between bursts (SIGINT/SIGTERM).
int run_replay(const ReplayOptions& options, const std::atomic<bool>& stop);

}  // namespace synscope::app
