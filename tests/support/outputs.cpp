// outputs: see outputs.hpp.
#include "support/outputs.hpp"

#include <algorithm>

namespace synscope::test {

size_t count_lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

std::string without_uids(std::string text) {
  for (size_t at = text.find("\"uid\":\""); at != std::string::npos; at = text.find("\"uid\":\"", at)) {
    const size_t end = text.find('"', at + 7);
    text.erase(at, end + 2 - at);  // the value, its quotes and the comma after it
  }
  return text;
}

std::vector<std::string> sorted_lines_without_uids(const std::string& text) {
  const std::string stripped = without_uids(text);
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl = stripped.find('\n'); nl != std::string::npos; start = nl + 1, nl = stripped.find('\n', start)) {
    out.push_back(stripped.substr(start, nl - start));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace synscope::test
