// replay: the `replay` command. Wires options to the replay pipeline (lib/replay) and the consumers
// (lib/consumers), prints the summary, and maps the result to an exit code. Runs on the calling thread.
#pragma once

#include "consumers/requests.hpp"
#include "options.hpp"

namespace synscope::app {

/// Runs a replay; returns the exit code (0, or ErrorKind::kCorrupt / kOutput / kInterrupted). Start-up
/// failures throw Error (main() maps them). `requests` come from signals and are polled every 64k frames:
/// stop (SIGINT/SIGTERM: the outputs hold what was read, said on stderr even with -q), reopen the
/// outputs, report progress.
int run_replay(const ReplayOptions& options, consumers::Requests& requests);

}  // namespace synscope::app
