// signals: every signal a service is sent becomes a request, never a death: SIGINT and SIGTERM stop (flush
// everything, exit), SIGHUP reopens the output files (logrotate), SIGUSR1 (and SIGUSR2) reports progress
// on stderr,
// SIGPIPE and SIGXFSZ are ignored (a reader that went away, a file past the size limit: write errors the
// outputs count and say).
//
// The handlers only store into lock-free atomics (async-signal-safe); the thread that owns the consumers
// takes the requests (consumers::Requests).
#pragma once

#include "consumers/requests.hpp"

namespace synscope::app {

/// Installs the handlers (SA_RESTART) feeding `requests`, which must live until exit, and unblocks those
/// signals: a service started with them blocked would otherwise never see SIGTERM. Call once.
void install_signal_handlers(consumers::Requests& requests);

/// "SIGINT", "SIGTERM", ... for a signal number.
[[nodiscard]] const char* signal_name(int signal) noexcept;

}  // namespace synscope::app
