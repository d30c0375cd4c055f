// finite_range: a CLI11 validator for floating-point options. CLI::Range compares with < and >, which NaN
// passes ("--bucket nan", "--duration nan" that never stops); this one rejects NaN and infinities first.
// Used by the option tables at start-up on main()'s thread.
#pragma once

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdlib>
#include <string>

namespace synscope::app {

/// Accepts a finite number in [lo, hi]; names the bounds otherwise.
inline CLI::Validator finite_range(double lo, double hi) {
  const std::string bounds = "[" + CLI::detail::to_string(lo) + " - " + CLI::detail::to_string(hi) + "]";
  return CLI::Validator(
      [lo, hi, bounds](std::string& text) -> std::string {
        const char* begin = text.c_str();
        char* end = nullptr;
        const double v = std::strtod(begin, &end);
        if (end == begin || *end != '\0') return "'" + text + "' is not a number";
        if (!std::isfinite(v)) return "'" + text + "' is not a finite number";
        if (v < lo || v > hi) return "Value " + text + " not in range " + bounds;
        return {};
      },
      "FLOAT in " + bounds);
}

}  // namespace synscope::app
