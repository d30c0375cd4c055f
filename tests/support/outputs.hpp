// outputs: reading synscope's JSON-lines outputs back in tests — counting lines and taking out the uid,
// which is random per run and per core — so tests that compare two runs' outputs do not rewrite them.
// Pure functions over strings.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace synscope::test {

/// The number of complete lines ('\n'-terminated) in `text`.
[[nodiscard]] size_t count_lines(const std::string& text);

/// `text` with every `"uid":"…",` (the value, its quotes and the comma after it) taken out.
[[nodiscard]] std::string without_uids(std::string text);

/// The complete lines of `text` without their uids, sorted: two runs that write the same sessions in a
/// different order (several cores) compare equal.
[[nodiscard]] std::vector<std::string> sorted_lines_without_uids(const std::string& text);

}  // namespace synscope::test
