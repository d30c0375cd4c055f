// output: JSON-lines writers for finished sessions and settled buckets, and the end-of-run summary.
//
// Writers are called on the engine's thread, once per session or bucket. Each owns its FILE* (or borrows
// stdout for "-") and formats into a reusable line buffer, so a record costs no allocation. Field names
// follow Zeek's conn.log JSON; docs/outputs.md describes every field.
#pragma once

#include <cstdio>
#include <cstring>
#include <string>

#include "buckets/buckets.hpp"
#include "engine/engine.hpp"

namespace synscope::output {

/// An output file opened for writing; "-" means stdout. Throws std::runtime_error naming the path.
class OutputFile {
 public:
  explicit OutputFile(const std::string& path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  void write(const char* data, size_t len) noexcept;
  /// Flushes; returns false (with errno set) if any write failed since opening.
  [[nodiscard]] bool flush() noexcept;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  std::FILE* file_;
  bool owned_;
  bool failed_ = false;
};

/// Appends text and numbers to a fixed buffer; one JSON line at a time.
class LineBuffer {
 public:
  void clear() noexcept { len_ = 0; }
  // raw() and u64() are inline: a session line makes ~60 such calls, and as out-of-line calls they were
  // most of the line's cost (JSON was ~35 ns of replay time per frame).
  void raw(std::string_view s) noexcept {
    const size_t n = s.size() < sizeof(buf_) - len_ ? s.size() : sizeof(buf_) - len_;
    std::memcpy(buf_ + len_, s.data(), n);
    len_ += n;
  }
  void u64(uint64_t v) noexcept {
    if (sizeof(buf_) - len_ < 20) return;  // never for a record line: the buffer holds several
    if (v < 10) {
      buf_[len_++] = static_cast<char>('0' + v);
      return;
    }
    char tmp[20];
    size_t n = 0;
    do {
      tmp[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0) buf_[len_++] = tmp[--n];
  }
  void seconds(uint64_t ns) noexcept;  ///< "1234.567890" (microsecond precision, like Zeek)
  void str(std::string_view s) noexcept;  ///< a JSON string; escapes quotes, backslashes and controls
  [[nodiscard]] const char* data() const noexcept { return buf_; }
  [[nodiscard]] size_t size() const noexcept { return len_; }

 private:
  char buf_[2048];
  size_t len_ = 0;
};

/// Writes one conn.log-style JSON line per finished session.
class SessionJsonWriter : public engine::SessionSink {
 public:
  explicit SessionJsonWriter(OutputFile& out) : out_(out) {}
  void on_session(const engine::SessionRecord& r) override;
  static void format(const engine::SessionRecord& r, LineBuffer& line) noexcept;

 private:
  OutputFile& out_;
  LineBuffer line_;
};

/// Writes one JSON line per (bucket, perspective).
class BucketJsonWriter : public buckets::BucketSink {
 public:
  explicit BucketJsonWriter(OutputFile& out) : out_(out) {}
  void on_bucket(const buckets::Bucket& b) override;

 private:
  OutputFile& out_;
  LineBuffer line_;
};

/// Forwards to several sinks (e.g. the JSON writer and the in-memory totals).
class BucketTee : public buckets::BucketSink {
 public:
  BucketTee(buckets::BucketSink* a, buckets::BucketSink* b) : a_(a), b_(b) {}
  void on_bucket(const buckets::Bucket& b) override {
    if (a_ != nullptr) a_->on_bucket(b);
    if (b_ != nullptr) b_->on_bucket(b);
  }

 private:
  buckets::BucketSink* a_;
  buckets::BucketSink* b_;
};

/// Human-readable end-of-run summary: frames by class and reason, sessions by state, failed by perspective.
std::string format_summary(const engine::EngineCounters& c, uint64_t late_sessions);

}  // namespace synscope::output
