// memory_budget: checks at start-up that what the options ask for fits in the memory there is, before
// anything is allocated or any output opened, so a too-large --flow-capacity, --alert-servers or settle
// window is a clear error naming the options instead of bad_alloc (SIGABRT) or the OOM killer mid-run.
// Used only by main()'s thread at start-up; throws synscope::Error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "consumers/consumers.hpp"
#include "engine/engine.hpp"

namespace synscope::app {

/// One thing that takes memory, named by the options that size it.
struct MemoryUse {
  std::string options;  ///< e.g. "--flow-capacity 268435456 (x 2 engines)"
  uint64_t bytes = 0;
};

/// What `engines` session engines with full flow tables and the consumers take, each named by its options.
[[nodiscard]] std::vector<MemoryUse> memory_uses(const engine::EngineConfig& engine, uint32_t engines,
                                                 const consumers::ConsumerConfig& consumers);

/// Bytes of MemAvailable in /proc/meminfo; 0 when it cannot be read.
[[nodiscard]] uint64_t memory_available();

/// Throws Error(ErrorKind::kResource) listing every use, largest first, when their sum exceeds the budget:
/// `budget_mib` MiB, or when it is 0 what memory_available() says (no check when that is unknown too).
void check_memory(std::vector<MemoryUse> uses, uint64_t budget_mib);

}  // namespace synscope::app
