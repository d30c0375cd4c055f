// output_file: see output_file.hpp.
#include "output/output_file.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "error/error.hpp"

namespace synscope::output {
namespace {

int64_t monotonic_ms() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

bool is_regular(int fd) noexcept {
  struct stat st {};
  return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

size_t count_lines(const char* p, size_t n) noexcept {
  size_t lines = 0;
  const char* const end = p + n;
  while (const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p))) {
    ++lines;
    p = static_cast<const char*>(nl) + 1;
  }
  return lines;
}

}  // namespace

OutputFile::OutputFile(const std::string& path) : path_(path), buffer_(std::make_unique<char[]>(kBufferBytes)) {
  if (path == "-") {
    fd_ = STDOUT_FILENO;
    owned_ = false;
  } else {
    fd_ = open_path(/*append=*/false, kOpenWaitMs);
    if (fd_ < 0) {
      const int err = errno;
      throw Error(ErrorKind::kOutput, err == ENXIO ? path + ": a FIFO nobody opened for reading (waited " +
                                                         std::to_string(kOpenWaitMs / 1000) + " s for a reader)"
                                                   : path + ": cannot open for writing: " + std::strerror(err));
    }
    owned_ = true;
  }
  regular_ = is_regular(fd_);
  const int flags = fcntl(fd_, F_GETFL);
  blocking_ = !regular_ && flags >= 0 && (flags & O_NONBLOCK) == 0;
}

OutputFile::~OutputFile() {
  drain();
  if (used_ > head_) (void)drop_lines(head_, used_);  // the rest of a line a stalled reader never took
  if (owned_) ::close(fd_);
}

int OutputFile::open_path(bool append, int wait_ms) const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && S_ISFIFO(st.st_mode)) {
    // Opening a FIFO for writing blocks until a reader comes; without blocking it fails with ENXIO until then.
    const int64_t deadline = monotonic_ms() + wait_ms;
    while (true) {
      const int fd = ::open(path_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd >= 0 || errno != ENXIO || monotonic_ms() >= deadline) return fd;
      ::usleep(10'000);
    }
  }
  // O_NONBLOCK: regular files ignore it; devices and sockets reached through a path honour it.
  return ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK | (append ? O_APPEND : O_TRUNC), 0644);
}

void OutputFile::sent(size_t n) noexcept {
  const char* const p = buffer_.get() + head_;
  const size_t lines = count_lines(p, n);
  written_ += lines;
  if (lines == 0) {
    line_sent_ += n;
  } else {
    const char* last = p + n - 1;
    while (*last != '\n') --last;
    line_sent_ = static_cast<size_t>(p + n - (last + 1));
  }
  head_ += n;
}

size_t OutputFile::drop_lines(size_t from, size_t to) noexcept {
  const size_t lines = count_lines(buffer_.get() + from, to - from);
  dropped_ += lines;
  used_ = from;
  return lines;
}

void OutputFile::drop_unsent(int err) noexcept {
  last_errno_ = err;
  size_t keep_end = head_;
  if (line_sent_ != 0) {
    if (regular_) {
      // Cut the line a short write began out of the file again: it is dropped whole with the others.
      const off_t end = ::lseek(fd_, 0, SEEK_CUR);
      if (end >= static_cast<off_t>(line_sent_) && ::ftruncate(fd_, end - static_cast<off_t>(line_sent_)) == 0) {
        (void)::lseek(fd_, end - static_cast<off_t>(line_sent_), SEEK_SET);
      }
      line_sent_ = 0;
    } else if (const void* nl = std::memchr(buffer_.get() + head_, '\n', used_ - head_)) {
      // A pipe cannot take bytes back: keep the rest of the begun line, to be sent before anything else.
      keep_end = static_cast<size_t>(static_cast<const char*>(nl) + 1 - buffer_.get());
    } else {
      keep_end = used_;
    }
  }
  (void)drop_lines(keep_end, used_);
  compact();
  if (dropping_) return;
  dropping_ = true;
  if (err == ETIMEDOUT) {
    std::fprintf(stderr,
                 "synscope: error: %s: the reader took nothing for %d ms; dropping records until it does "
                 "(counted in synscope_output_dropped_records_total)\n",
                 name(), wait_ms_);
  } else if (err == ECANCELED) {
    std::fprintf(stderr, "synscope: error: %s: stopped while waiting for the reader; the rest is dropped\n", name());
  } else {
    std::fprintf(stderr,
                 "synscope: error: %s: write failed: %s; dropping records until it can be written (counted "
                 "in synscope_output_dropped_records_total)\n",
                 name(), std::strerror(err));
  }
}

void OutputFile::compact() noexcept {
  if (head_ == 0) return;
  std::memmove(buffer_.get(), buffer_.get() + head_, used_ - head_);
  used_ -= head_;
  head_ = 0;
}

void OutputFile::set_wait(int wait_ms, const std::atomic<bool>* cancel) noexcept {
  wait_ms_ = wait_ms;
  cancel_ = cancel;
}

int OutputFile::wait_writable(int64_t deadline, bool bounded) const noexcept {
  while (true) {
    if (cancel_ != nullptr && cancel_->load(std::memory_order_relaxed)) return ECANCELED;
    // Slices of at most 100 ms, so a cancel is seen within that.
    const int64_t left = bounded ? std::min<int64_t>(deadline - monotonic_ms(), 100) : 100;
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left, 0))) > 0) return 0;
    if (bounded && monotonic_ms() >= deadline) return ETIMEDOUT;
  }
}

void OutputFile::drain() noexcept {
  // During an episode nothing waits: a file that takes nothing is tried once per drain and skipped.
  const bool bounded = dropping_ || wait_ms_ >= 0;
  const int64_t deadline = monotonic_ms() + (dropping_ ? 0 : std::max(wait_ms_, 0));
  const bool had_data = head_ < used_;
  while (head_ < used_) {
    size_t len = used_ - head_;
    if (blocking_) {
      // A borrowed blocking pipe (stdout): poll() says it has room for PIPE_BUF bytes; no more is written.
      if (const int err = wait_writable(deadline, bounded)) return drop_unsent(err);
      len = std::min<size_t>(len, PIPE_BUF);
    }
    const ssize_t n = ::write(fd_, buffer_.get() + head_, len);
    if (n > 0) {
      sent(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      if (const int err = wait_writable(deadline, bounded)) return drop_unsent(err);
      continue;
    }
    return drop_unsent(n < 0 ? errno : EIO);
  }
  head_ = used_ = 0;
  line_sent_ = 0;
  if (dropping_ && had_data) {  // something went through: the episode is over
    dropping_ = false;
    std::fprintf(stderr, "synscope: %s: writing again (%llu records dropped in all)\n", name(),
                 static_cast<unsigned long long>(dropped_));
  }
}

void OutputFile::write(const char* data, size_t len) noexcept {
  // Whole, after a drain if it does not fit: a line split across two drains could lose its first part to a
  // failed write and have the rest written after it. Only a block longer than the buffer goes in pieces.
  if (len <= kBufferBytes) {
    std::memcpy(reserve(len), data, len);
    commit(len);
    return;
  }
  while (len > 0) {
    if (used_ == kBufferBytes) drain();
    const size_t n = std::min(len, kBufferBytes - used_);
    std::memcpy(buffer_.get() + used_, data, n);
    used_ += n;
    data += n;
    len -= n;
  }
}

bool OutputFile::flush() noexcept {
  drain();
  return last_errno_ == 0 && head_ == used_;
}

bool OutputFile::reopen(std::string& error) noexcept {
  if (!owned_) return true;
  drain();
  const int fd = open_path(/*append=*/true, /*wait_ms=*/0);
  if (fd < 0) {
    error = path_ + ": cannot reopen: " + std::strerror(errno) + " (still writing to the file open before)";
    return false;
  }
  if (used_ > head_) (void)drop_lines(head_, used_);  // the rest of a line the old reader never took
  head_ = used_ = line_sent_ = 0;
  ::close(fd_);
  fd_ = fd;
  regular_ = is_regular(fd_);
  return true;
}

}  // namespace synscope::output
