// files: see files.hpp.
#include "support/files.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace synscope::test {

TempFile::TempFile(const std::string& tag) {
  std::string name = "/tmp/" + tag + "-XXXXXX";
  const int fd = mkstemp(name.data());
  if (fd < 0) throw std::runtime_error("cannot make a scratch file " + name);
  ::close(fd);
  path_ = name;
}

TempFile::~TempFile() { std::remove(path_.c_str()); }

void TempFile::write(const std::vector<uint8_t>& bytes) const {
  write(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

void TempFile::write(std::string_view text) const {
  std::ofstream out(path_, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write " + std::to_string(text.size()) + " bytes to " + path_);
}

std::string TempFile::read() const { return read_file(path_); }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace synscope::test
