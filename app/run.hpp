// run: the live mode. EAL is already initialised by main(); this builds the data plane on the ports EAL
// probed, starts the metrics endpoint and rte_telemetry, launches the lcores, runs the stats core on the
// main lcore until a signal (or --duration / --idle-exit), then stops RX, drains every ring, reports every
// open connection and the last buckets, and prints the summary.
#pragma once

#include <atomic>

#include "options.hpp"

namespace synscope::app {

/// Returns an ExitCode (replay.hpp). Start-up errors throw std::runtime_error with a clear message.
int run_live(const RunOptions& options, const std::atomic<bool>& stop);

}  // namespace synscope::app
