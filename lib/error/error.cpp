// error: see error.hpp.
#include "error/error.hpp"

namespace synscope {

std::string_view error_kind_name(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::kUsage: return "usage";
    case ErrorKind::kInput: return "input";
    case ErrorKind::kCorrupt: return "corrupt input";
    case ErrorKind::kOutput: return "output";
    case ErrorKind::kResource: return "resource";
    case ErrorKind::kStartup: return "start-up";
    case ErrorKind::kInterrupted: return "interrupted";
  }
  return "error";
}

}  // namespace synscope
