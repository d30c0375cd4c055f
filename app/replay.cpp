// replay: see replay.hpp.
#include "replay.hpp"

#include <cstdio>
#include <string>

#include "consumers/consumers.hpp"
#include "error/error.hpp"
#include "memory_budget.hpp"
#include "replay/pipeline.hpp"
#include "signals.hpp"

namespace synscope::app {

int run_replay(const ReplayOptions& options, consumers::Requests& requests) {
  check_memory(memory_uses(options.replay.engine, 1, options.consumers), options.memory_budget_mib);
  // A replay has no packets to lose: its outputs wait for a slow reader for as long as it takes, until the
  // replay is stopped (SIGINT/SIGTERM), instead of dropping lines after the live data plane's bounded wait.
  consumers::ConsumerConfig consumer_config = options.consumers;
  consumer_config.write_wait_ms = -1;
  consumer_config.write_cancel = &requests.stop;
  consumers::Consumers consumers(consumer_config);
  const replay::ReplayResult result = replay::run(options.replay, consumers, requests);
  int rc = 0;
  std::string error;
  if (!consumers.close(error)) {
    std::fprintf(stderr, "synscope: error: %s\n", error.c_str());
    rc = exit_code(ErrorKind::kOutput);
  }
  if (!options.quiet) {
    std::fprintf(stderr, "%s", replay::describe(options.replay, result).c_str());
    if (!options.consumers.ipfix_out.empty()) {
      const consumers::OutputStats o = consumers.output_stats();
      const auto i = static_cast<size_t>(consumers::Output::kIpfix);
      std::fprintf(stderr, "ipfix: %llu sessions written, %llu dropped (%s)\n",
                   static_cast<unsigned long long>(o.written[i]), static_cast<unsigned long long>(o.dropped[i]),
                   options.consumers.ipfix_out.c_str());
    }
  }
  if (!result.corrupt.empty()) {
    std::fprintf(stderr, "synscope: error: %s (everything before it was reported)\n", result.corrupt.c_str());
    return exit_code(ErrorKind::kCorrupt);
  }
  if (result.interrupted) {
    // Said even with -q: a script must not take a partial output for a whole one.
    std::fprintf(stderr,
                 "synscope: warning: replay interrupted by %s after %llu frames: the outputs are partial "
                 "(exit %d)\n",
                 signal_name(requests.stop_signal.load(std::memory_order_relaxed)),
                 static_cast<unsigned long long>(result.counters.received), exit_code(ErrorKind::kInterrupted));
    if (rc == 0) rc = exit_code(ErrorKind::kInterrupted);
  }
  return rc;
}

}  // namespace synscope::app
