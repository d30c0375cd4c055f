// memory_budget: see memory_budget.hpp.
#include "memory_budget.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "error/error.hpp"

namespace synscope::app {
namespace {

std::string mib(uint64_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

}  // namespace

std::vector<MemoryUse> memory_uses(const engine::EngineConfig& engine, uint32_t engines,
                                   const consumers::ConsumerConfig& consumers) {
  std::vector<MemoryUse> uses;
  uses.push_back({"--flow-capacity " + std::to_string(engine.flow_capacity) + " (full, x " + std::to_string(engines) +
                      (engines == 1 ? " engine)" : " engines)"),
                  engines * engine::SessionEngine::bytes_when_full(engine)});
  std::string named = "--bucket/--bucket-settle";
  if (!consumers.alerts_out.empty()) {
    named += "/--alert-servers " + std::to_string(consumers.alert_policy.server_series);
  }
  uses.push_back({named, consumers::Consumers::bytes_for(consumers)});
  return uses;
}

uint64_t memory_available() {
  std::FILE* f = std::fopen("/proc/meminfo", "re");
  if (f == nullptr) return 0;
  char line[256];
  uint64_t kib = 0;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::sscanf(line, "MemAvailable: %" SCNu64 " kB", &kib) == 1) break;
  }
  std::fclose(f);
  return kib * 1024;
}

void check_memory(std::vector<MemoryUse> uses, uint64_t budget_mib) {
  const uint64_t budget = budget_mib != 0 ? budget_mib << 20 : memory_available();
  if (budget == 0) return;
  uint64_t total = 0;
  for (const MemoryUse& u : uses) total += u.bytes;
  if (total <= budget) return;
  std::sort(uses.begin(), uses.end(), [](const MemoryUse& a, const MemoryUse& b) { return a.bytes > b.bytes; });
  std::string what;
  for (const MemoryUse& u : uses) what += (what.empty() ? "" : ", ") + u.options + ": " + mib(u.bytes);
  throw Error(ErrorKind::kResource, "the options need " + mib(total) + " of memory (" + what + ") but " +
                                        (budget_mib != 0 ? "--memory-budget is " + mib(budget)
                                                         : mib(budget) + " is available (MemAvailable)") +
                                        "; lower them or raise --memory-budget");
}

}  // namespace synscope::app
