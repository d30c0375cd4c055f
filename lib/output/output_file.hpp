// output_file: where JSON lines leave the process — a file, a FIFO or pipe, a device or stdout — without
// ever holding the consumers' thread for long and without ever leaving half a line.
//
// Lines are formatted straight into the object's 256 KiB buffer (reserve() then commit(), whole lines
// only) and leave in one write(2) when it fills, on flush() and on close. A write that cannot go on is
// never waited on for more than kWriteWaitMs (set_wait(): a replay waits as long as its reader takes, until
// it is stopped): a pipe or FIFO whose reader stopped taking data, or a write
// error (a full disk: ENOSPC, /dev/full, EIO, a reader gone: EPIPE with SIGPIPE ignored), starts a
// *dropping episode*: the lines that could not be written are dropped and counted (dropped_records()), one
// line on stderr names the file and the reason, and later writes are tried again without waiting; the
// first write that goes through ends the episode (one more line on stderr, with the count). A line is
// written whole or not at all: after a short write to a regular file the cut line is truncated away; on a
// pipe the rest of a line already begun is kept and sent first. A FIFO is opened without blocking, waiting
// at most kOpenWaitMs for a reader. reopen() (SIGHUP, after logrotate moved the file) opens the path again.
//
// Owned and called by one thread (the consumers'). No exceptions after construction.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace synscope::output {

class OutputFile {
 public:
  static constexpr size_t kBufferBytes = 1 << 18;
  /// The longest a write waits for a pipe or FIFO to take data before its lines are dropped.
  static constexpr int kWriteWaitMs = 500;
  /// The longest opening a FIFO waits for a reader.
  static constexpr int kOpenWaitMs = 3000;

  /// Opens `path` for writing ("-": stdout, which is borrowed, never closed). A regular file is created or
  /// truncated; a FIFO waits up to kOpenWaitMs for a reader. Throws Error (ErrorKind::kOutput) naming the
  /// path and the reason.
  explicit OutputFile(const std::string& path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  /// How long a write may wait for a reader: `wait_ms` (negative: for as long as the reader takes, as a
  /// replay wants), but never past `*cancel` turning true (may be null), whichever comes first. Default:
  /// kWriteWaitMs, no cancel.
  void set_wait(int wait_ms, const std::atomic<bool>* cancel) noexcept;

  /// Appends whole lines (`len` bytes ending in '\n'); a block longer than the buffer is written directly.
  void write(const char* data, size_t len) noexcept;
  /// Room for at least `len` (at most kBufferBytes) bytes at the end of the buffer; commit() what was used,
  /// which must be whole lines.
  [[nodiscard]] char* reserve(size_t len) noexcept {
    if (kBufferBytes - used_ < len) drain();  // leaves at most the rest of one line begun on a pipe
    return buffer_.get() + used_;
  }
  void commit(size_t len) noexcept { used_ += len; }
  /// Writes what is buffered (within the bounded wait). True when everything committed so far reached
  /// the file; false once any write failed or stalled since opening (dropped_records() says how many
  /// lines were lost).
  [[nodiscard]] bool flush() noexcept;
  /// Flushes and opens the path again (appending, creating it if it was moved away). On failure the old
  /// file stays in use and `error` names the path and errno; stdout is kept as it is.
  [[nodiscard]] bool reopen(std::string& error) noexcept;

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// The path for messages: "stdout" for "-".
  [[nodiscard]] const char* name() const noexcept { return owned_ ? path_.c_str() : "stdout"; }
  /// Lines that reached the file.
  [[nodiscard]] uint64_t written_records() const noexcept { return written_; }
  /// Lines dropped because the file did not take them (a write error or a stalled reader).
  [[nodiscard]] uint64_t dropped_records() const noexcept { return dropped_; }
  /// True while a dropping episode lasts.
  [[nodiscard]] bool dropping() const noexcept { return dropping_; }
  /// The errno of the last failed write (0: none yet, ETIMEDOUT: a reader that stalled, ECANCELED: the
  /// cancel flag turned true while waiting for one).
  [[nodiscard]] int last_error() const noexcept { return last_errno_; }

 private:
  void drain() noexcept;               ///< sends [head_, used_) within the bounded wait, drops on failure
  void drop_unsent(int err) noexcept;  ///< ends a failed drain: keeps or cuts away the partial line
  void sent(size_t n) noexcept;        ///< bookkeeping of `n` bytes written from head_
  size_t drop_lines(size_t from, size_t to) noexcept;  ///< counts and forgets the lines in [from, to)
  void compact() noexcept;
  /// 0 when poll() says the file can take data; ETIMEDOUT past `deadline` (when `bounded`), ECANCELED
  /// once *cancel_ is true.
  [[nodiscard]] int wait_writable(int64_t deadline, bool bounded) const noexcept;
  int open_path(bool append, int wait_ms) const;  ///< the new fd, or -1 with errno
  std::string path_;
  std::unique_ptr<char[]> buffer_;
  size_t head_ = 0;       ///< first byte not yet written
  size_t used_ = 0;       ///< end of committed lines
  size_t line_sent_ = 0;  ///< bytes of the line at head_ already written (a short write stopped in it)
  int fd_ = -1;
  int wait_ms_ = kWriteWaitMs;
  const std::atomic<bool>* cancel_ = nullptr;
  bool owned_ = false;
  bool regular_ = false;   ///< a regular file: a cut line can be truncated away
  bool blocking_ = false;  ///< a borrowed pipe without O_NONBLOCK: writes of at most PIPE_BUF after poll()
  bool dropping_ = false;
  int last_errno_ = 0;
  uint64_t written_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace synscope::output
