// output_file: an OutputFile under faults — a full device, a file size limit that cuts a write short, a
// pipe whose reader stops, a FIFO nobody reads, a file moved away (logrotate) — never holds its caller
// for longer than the bounded wait, never leaves a cut line, and counts every line it drops.
#include "output/output_file.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>

#include "error/error.hpp"
#include "support/files.hpp"

namespace synscope::output {
namespace {

using Clock = std::chrono::steady_clock;

std::string numbered_line(uint64_t i) {
  std::string line = "{\"record\":" + std::to_string(i) + ",\"pad\":\"" + std::string(40, 'x') + "\"}\n";
  return line;
}

void write_lines(OutputFile& f, uint64_t from, uint64_t to) {
  for (uint64_t i = from; i < to; ++i) {
    const std::string line = numbered_line(i);
    f.write(line.data(), line.size());
  }
}

size_t lines_in(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

TEST(OutputFile, AFullDeviceDropsAndCountsWholeRecords) {
  if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "/dev/full not available";
  OutputFile f("/dev/full");
  write_lines(f, 0, 3);
  EXPECT_FALSE(f.flush());
  EXPECT_EQ(f.written_records(), 0u);
  EXPECT_EQ(f.dropped_records(), 3u);
  EXPECT_EQ(f.last_error(), ENOSPC);
  EXPECT_TRUE(f.dropping());
  write_lines(f, 3, 5);  // the episode goes on: counted, not said again
  EXPECT_FALSE(f.flush());
  EXPECT_EQ(f.dropped_records(), 5u);
}

// A file size limit cuts a write short in the middle of a line, as a disk that fills does: the cut line is
// truncated away, so the file holds whole lines only, exactly as many as counted written. Enough lines to
// fill the buffer several times, with lines that do not divide it evenly, so later drains are cut too.
TEST(OutputFile, AShortWriteLeavesNoCutLine) {
  const test::TempFile file("synscope-output-file");
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  const size_t line_bytes = numbered_line(0).size();
  rlimit limited = saved;
  limited.rlim_cur = 10 * line_bytes + line_bytes / 2;  // room for 10.5 lines
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  uint64_t written = 0, dropped = 0;
  {
    OutputFile f(file.path());
    write_lines(f, 0, 20000);
    EXPECT_FALSE(f.flush());
    written = f.written_records();
    dropped = f.dropped_records();
    EXPECT_EQ(f.last_error(), EFBIG);
  }
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
  std::signal(SIGXFSZ, old_handler);
  const std::string got = file.read();
  EXPECT_EQ(written, 10u);
  EXPECT_EQ(dropped, 19990u);
  EXPECT_EQ(got.size(), 10 * line_bytes);
  EXPECT_TRUE(got.empty() || got.back() == '\n');
  EXPECT_EQ(lines_in(got), written);
}

// A pipe whose reader stops: the flush gives up after the bounded wait, drops and counts the lines that
// did not fit, and keeps the rest of a line it had begun; once the reader drains the pipe, writing goes
// on and the reader sees whole lines only, as many as counted written.
TEST(OutputFile, AStalledPipeWaitsBoundedThenDropsWholeLines) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::string received;
  {
    OutputFile f("/proc/self/fd/" + std::to_string(fds[1]));
    write_lines(f, 0, 4000);  // ~260 KB: far more than the pipe's 64 KiB
    const auto t0 = Clock::now();
    EXPECT_FALSE(f.flush());
    const double waited = std::chrono::duration<double>(Clock::now() - t0).count();
    EXPECT_GE(waited, OutputFile::kWriteWaitMs / 1000.0 * 0.9);
    EXPECT_LT(waited, OutputFile::kWriteWaitMs / 1000.0 + 0.5);
    EXPECT_TRUE(f.dropping());
    EXPECT_EQ(f.last_error(), ETIMEDOUT);
    EXPECT_GT(f.dropped_records(), 0u);
    // In the episode a further flush does not wait again.
    write_lines(f, 4000, 4010);
    const auto t1 = Clock::now();
    (void)f.flush();
    EXPECT_LT(std::chrono::duration<double>(Clock::now() - t1).count(), 0.1);
    // The reader comes back: drain the pipe, then the file writes again and the episode ends.
    char buf[65536];
    ssize_t n;
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
    while ((n = ::read(fds[0], buf, sizeof(buf))) > 0) received.append(buf, static_cast<size_t>(n));
    write_lines(f, 4010, 4020);
    (void)f.flush();
    EXPECT_FALSE(f.dropping());
    while ((n = ::read(fds[0], buf, sizeof(buf))) > 0) received.append(buf, static_cast<size_t>(n));
    EXPECT_EQ(f.written_records() + f.dropped_records(), 4020u);
    EXPECT_EQ(lines_in(received), f.written_records());
  }
  ::close(fds[0]);
  ::close(fds[1]);
  ASSERT_FALSE(received.empty());
  EXPECT_EQ(received.back(), '\n');
  // Every line arrived whole: it is one of the lines written, in order.
  size_t start = 0;
  uint64_t last = 0;
  bool first = true;
  while (start < received.size()) {
    const size_t end = received.find('\n', start);
    const std::string line = received.substr(start, end - start + 1);
    const uint64_t i = std::stoull(line.substr(10));
    ASSERT_EQ(line, numbered_line(i));
    if (!first) {
      EXPECT_GT(i, last);
    }
    first = false;
    last = i;
    start = end + 1;
  }
}

// A replay's outputs wait for a slow reader as long as it takes (nothing dropped), until they are told to
// stop waiting (the replay's stop request): then the rest is dropped at once.
TEST(OutputFile, AnUnboundedWaitEndsOnlyWhenCancelled) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::atomic<bool> cancel{false};
  {
    OutputFile f("/proc/self/fd/" + std::to_string(fds[1]));
    f.set_wait(-1, &cancel);
    write_lines(f, 0, 4000);  // ~260 KB: far more than the pipe's 64 KiB
    std::thread slow_reader([&] {
      // Reads a little every 100 ms for 1.5 s (three times the bounded wait), then stops and cancels.
      char buf[8192];
      for (int i = 0; i < 15; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        (void)::read(fds[0], buf, sizeof(buf));
      }
      cancel.store(true);
    });
    const auto t0 = Clock::now();
    EXPECT_FALSE(f.flush());
    const double waited = std::chrono::duration<double>(Clock::now() - t0).count();
    slow_reader.join();
    EXPECT_GE(waited, 1.4);
    EXPECT_LT(waited, 2.0);
    EXPECT_EQ(f.last_error(), ECANCELED);
    EXPECT_GT(f.written_records(), 1000u);  // what the slow reader took was written, not dropped early
    // Every line is written or dropped, but the one a short write began, which is kept to be finished.
    EXPECT_GE(f.written_records() + f.dropped_records(), 3999u);
    EXPECT_LE(f.written_records() + f.dropped_records(), 4000u);
  }
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(OutputFile, AFifoWithoutAReaderFailsAfterTheBoundedWait) {
  const test::TempFile dir_probe("synscope-output-fifo");
  const std::string fifo = dir_probe.path() + ".fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto t0 = Clock::now();
  try {
    OutputFile f(fifo);
    FAIL() << "opened a FIFO nobody reads";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kOutput);
    EXPECT_NE(std::string(e.what()).find(fifo), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("reader"), std::string::npos) << e.what();
  }
  const double waited = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_GE(waited, OutputFile::kOpenWaitMs / 1000.0 * 0.9);
  EXPECT_LT(waited, OutputFile::kOpenWaitMs / 1000.0 + 1);
  ::unlink(fifo.c_str());
}

TEST(OutputFile, AFifoWithAReaderOpensAtOnce) {
  const test::TempFile dir_probe("synscope-output-fifo");
  const std::string fifo = dir_probe.path() + ".fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  {
    OutputFile f(fifo);
    write_lines(f, 0, 5);
    EXPECT_TRUE(f.flush());
    EXPECT_EQ(f.written_records(), 5u);
  }
  char buf[4096];
  const ssize_t n = ::read(reader, buf, sizeof(buf));
  EXPECT_EQ(n, static_cast<ssize_t>(5 * numbered_line(0).size()));
  ::close(reader);
  ::unlink(fifo.c_str());
}

// logrotate moves the file away and sends SIGHUP: lines before the reopen are in the moved file, lines
// after it in a new file at the path.
TEST(OutputFile, ReopenStartsANewFileAfterAMove) {
  const test::TempFile file("synscope-output-file");
  const std::string rotated = file.path() + ".1";
  {
    OutputFile f(file.path());
    write_lines(f, 0, 3);
    ASSERT_EQ(::rename(file.path().c_str(), rotated.c_str()), 0);
    std::string error;
    ASSERT_TRUE(f.reopen(error)) << error;
    write_lines(f, 3, 5);
    EXPECT_TRUE(f.flush());
    EXPECT_EQ(f.written_records(), 5u);
  }
  EXPECT_EQ(test::read_file(rotated), numbered_line(0) + numbered_line(1) + numbered_line(2));
  EXPECT_EQ(file.read(), numbered_line(3) + numbered_line(4));
  ::unlink(rotated.c_str());
}

}  // namespace
}  // namespace synscope::output
