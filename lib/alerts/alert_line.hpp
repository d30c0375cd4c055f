// alerts/alert_line: the one writer of alert lines (docs/outputs.md, "alerts").
//
// Every alert transition — a perspective or total series, a server series, a client — becomes one JSON line
// through AlertWriter::write(), so the field order and number formats are written once. An AlertWriter
// belongs to the AlertEngine's thread and writes to its OutputFile; not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "detector/detector.hpp"
#include "output/output.hpp"

namespace synscope::alerts {

/// The `top` list of an alert line: {"kind","value","count"} entries, in the order added.
class TopList {
 public:
  TopList() noexcept = default;
  TopList(const TopList&) = delete;
  TopList& operator=(const TopList&) = delete;
  /// Appends one entry; `value` is written as it is (addresses and names: nothing to escape).
  void add(std::string_view kind, std::string_view value, uint64_t count) noexcept;
  /// The entries, comma-separated, without the brackets.
  [[nodiscard]] std::string_view text() const noexcept { return {line_.data(), line_.size()}; }

 private:
  std::array<char, 1536> buf_{};  // a list has at most a dozen entries of under 128 bytes
  output::LineBuffer line_{buf_.data(), buf_.size()};
};

/// What an alert line reports.
enum class AlertMetric : uint8_t {
  kFailedSessions,        ///< a series' failed sessions (partition "all" or a server's "ip:port")
  kFailedSessionsClient,  ///< one client's failed attempts at one server (partition: the client's address)
};

/// The transition a line reports (an escalation is written as "firing" again).
enum class LineState : uint8_t { kFiring, kResolved };

class AlertWriter {
 public:
  /// Writes to `out`, which must outlive the writer.
  explicit AlertWriter(output::OutputFile& out) noexcept : out_(out) {}

  /// Writes one line: the bucket's start `start_ns`, `s` (actual, typical, upper, score; the severity is
  /// "none" for a resolved line), and the `top` entries. Counts the line in written() even in the case that
  /// cannot happen with the bounded fields above: a line too long for the buffer, which is left out whole.
  void write(uint64_t start_ns, AlertMetric metric, std::string_view perspective, std::string_view partition,
             const detector::Scored& s, LineState state, const TopList& top) noexcept;

  [[nodiscard]] uint64_t written() const noexcept { return written_; }

 private:
  output::OutputFile& out_;
  uint64_t written_ = 0;
};

}  // namespace synscope::alerts
