// run: the `run` command (live mode). EAL is already initialised by main(); this builds the data plane on
// the ports EAL probed (lib/live), starts the metrics endpoint and rte_telemetry (lib/metrics), runs until
// a signal or a limit, closes the outputs, prints the summary and returns the exit code.
#pragma once

#include "consumers/requests.hpp"
#include "options.hpp"

namespace synscope::app {

/// Returns the exit code (0, or ErrorKind::kOutput). Start-up failures throw Error (main() maps them).
/// `requests` come from signals: stop, reopen the outputs, report (DataPlane::run).
int run_live(const RunOptions& options, consumers::Requests& requests);

}  // namespace synscope::app
