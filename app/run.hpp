// run: the `run` command (live mode). EAL is already initialised by main(); this builds the data plane on
// the ports EAL probed (lib/live), starts the metrics endpoint and rte_telemetry (lib/metrics), runs until
// a signal or a limit, closes the outputs, prints the summary and returns the exit code.
#pragma once

#include <atomic>

#include "options.hpp"

namespace synscope::app {

/// Returns the exit code (0, or ErrorKind::kOutput). Start-up failures throw Error (main() maps them).
int run_live(const RunOptions& options, const std::atomic<bool>& stop);

}  // namespace synscope::app
