// files: scratch files for tests and whole-file reads, so each test that writes or reads a file does not
// rewrite them. A failure to make or write a scratch file throws std::runtime_error, which GoogleTest
// reports as a failure of the test that asked.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace synscope::test {

/// A new empty file under /tmp (mkstemp), removed when the object goes.
class TempFile {
 public:
  /// Makes /tmp/<tag>-XXXXXX. Throws std::runtime_error when no file can be made.
  explicit TempFile(const std::string& tag = "synscope-test");
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// Replaces the file's content. Throws std::runtime_error when not every byte was written.
  void write(const std::vector<uint8_t>& bytes) const;
  /// Replaces the file's content with `text`. Throws std::runtime_error when not every byte was written.
  void write(std::string_view text) const;
  /// The file's whole content ("" when it cannot be read).
  [[nodiscard]] std::string read() const;

 private:
  std::string path_;
};

/// Reads a whole file ("" when it cannot be read).
[[nodiscard]] std::string read_file(const std::string& path);

}  // namespace synscope::test
