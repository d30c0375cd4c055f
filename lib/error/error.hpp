// error: the few kinds of start-up failure synscope reports, each with its exit code.
//
// Libraries throw an Error (or a subclass such as capture::CaptureError) from constructors and other
// start-up paths only — the data path never throws. main() catches them in one place, prints the message
// (which names the culprit: the option, the file, the port) and exits with the kind's code, which the
// README's exit-code table lists and tests/system/exit_codes_test.sh checks.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace synscope {

/// What went wrong, which decides the exit code (README "Exit codes").
enum class ErrorKind : int {
  kUsage = 1,     ///< a bad option or value, or an option combination that cannot work
  kInput = 2,     ///< the input cannot be opened or is not a capture
  kCorrupt = 3,   ///< the input is corrupt part-way (everything before the corruption was reported)
  kOutput = 4,    ///< an output cannot be opened or written
  kResource = 5,  ///< memory or another resource could not be reserved (flow table, rings)
  kStartup = 6,   ///< DPDK/EAL, a port, an lcore or the metrics endpoint failed to start
  /// A replay stopped by SIGINT/SIGTERM before the end of its capture: the outputs hold what was read.
  kInterrupted = 7,
};

/// The process exit code of a kind.
[[nodiscard]] constexpr int exit_code(ErrorKind kind) noexcept { return static_cast<int>(kind); }

/// A short name of a kind ("usage", "input", ...), for messages.
[[nodiscard]] std::string_view error_kind_name(ErrorKind kind) noexcept;

/// A start-up error of a given kind; what() is the whole message.
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  [[nodiscard]] ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace synscope
