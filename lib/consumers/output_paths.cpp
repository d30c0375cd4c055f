// output_paths: see output_paths.hpp.
#include "consumers/output_paths.hpp"

#include "ipfix/destination.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "error/error.hpp"

namespace synscope::consumers {
namespace {

struct Named {
  const char* option;
  const std::string* path;
};

std::string directory_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// The identity of a path: "dev:ino" when it exists, else "<real directory>/<name>"; empty for a character
/// device (/dev/null, a terminal), which any number of outputs may share.
std::string identity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISCHR(st.st_mode)) return {};
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  }
  char dir[PATH_MAX];
  if (::realpath(directory_of(path).c_str(), dir) == nullptr) return path;  // opening it will say why
  return std::string(dir) + "/" + base_of(path);
}

void check_model_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    throw Error(ErrorKind::kOutput, "--model-file " + path + ": not a regular file");
  }
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw Error(ErrorKind::kOutput, "--model-file " + path +
                                        ": the model could not be saved at the end: cannot create " + tmp + ": " +
                                        std::strerror(errno));
  }
  ::close(fd);
  ::unlink(tmp.c_str());
}

}  // namespace

void check_output_paths(const ConsumerConfig& config) {
  ipfix::Destination ipfix_destination;
  std::string why;
  const std::string* ipfix_file = nullptr;
  if (!config.ipfix_out.empty() && ipfix::parse_destination(config.ipfix_out, ipfix_destination, why) &&
      ipfix_destination.kind == ipfix::TransportKind::kFile) {
    ipfix_file = &ipfix_destination.path;
  }
  const std::vector<Named> named = {{"--ipfix-out", ipfix_file},
                                    {"--sessions-out", &config.sessions_out},
                                    {"--buckets-out", &config.buckets_out},
                                    {"--alerts-out", &config.alerts_out},
                                    {"--top-out", &config.top_out},
                                    {"--model-file", config.alerts_out.empty() ? nullptr : &config.model_file}};
  std::vector<std::pair<const Named*, std::string>> seen;
  for (const Named& n : named) {
    if (n.path == nullptr || n.path->empty()) continue;
    const bool model = n.path == &config.model_file;
    if (*n.path == "-" && !model) continue;  // the outputs may share stdout (one OutputFile)
    const std::string id = identity(*n.path);
    if (id.empty()) continue;
    for (const auto& [other, other_id] : seen) {
      if (other_id == id) {
        throw Error(ErrorKind::kUsage, std::string(other->option) + " " + *other->path + " and " + n.option + " " +
                                           *n.path + " name the same file: give each its own");
      }
    }
    seen.emplace_back(&n, id);
  }
  if (!config.alerts_out.empty() && !config.model_file.empty()) check_model_file(config.model_file);
}

}  // namespace synscope::consumers
