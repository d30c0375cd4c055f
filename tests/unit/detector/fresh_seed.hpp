// The seed of a detector test's generated series. The suite (CI) runs a fixed seed per test, derived from the
// test's name (never chosen by looking at results), so a run is repeatable and a failure is a change, not
// luck; SYNSCOPE_SEED=random draws fresh seeds (how the statistical bounds were validated: bench/RESULTS.md)
// and SYNSCOPE_SEED=N repeats one run.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string_view>

namespace synscope::detector {

inline uint64_t fresh_seed() {
  const char* env = std::getenv("SYNSCOPE_SEED");
  if (env != nullptr && std::string_view(env) == "random") return std::random_device{}();
  if (env != nullptr) return std::strtoull(env, nullptr, 10);
  const std::string_view name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  uint64_t h = 1469598103934665603ull;  // FNV-1a of the test name
  for (const char c : name) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return h;
}

}  // namespace synscope::detector
