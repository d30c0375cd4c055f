// replay: see replay.hpp.
#include "replay.hpp"

#include <cstdio>
#include <string>

#include "consumers/consumers.hpp"
#include "error/error.hpp"
#include "memory_budget.hpp"
#include "replay/pipeline.hpp"

namespace synscope::app {

int run_replay(const ReplayOptions& options, const std::atomic<bool>& stop) {
  check_memory(memory_uses(options.replay.engine, 1, options.consumers), options.memory_budget_mib);
  consumers::Consumers consumers(options.consumers);
  const replay::ReplayResult result = replay::run(options.replay, consumers, stop);
  int rc = 0;
  std::string error;
  if (!consumers.close(error)) {
    std::fprintf(stderr, "synscope: error: %s\n", error.c_str());
    rc = exit_code(ErrorKind::kOutput);
  }
  if (!options.quiet) std::fprintf(stderr, "%s", replay::describe(options.replay, result).c_str());
  if (!result.corrupt.empty()) {
    std::fprintf(stderr, "synscope: error: %s (everything before it was reported)\n", result.corrupt.c_str());
    return exit_code(ErrorKind::kCorrupt);
  }
  return rc;
}

}  // namespace synscope::app
