// output: JSON-lines writers for finished sessions and settled buckets, and the end-of-run summary.
//
// Writers are called on the thread that consumes sessions and buckets, once per record. Each formats its
// line in place at the end of its OutputFile's buffer (output_file.hpp), so a record costs no allocation
// and no copy. A session line comes in two flavours (SessionFlavour): Zeek's conn.log JSON names, or the
// Elastic Common Schema's, both with the flow's Community ID; docs/outputs.md describes every field.
#pragma once

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "buckets/buckets.hpp"
#include "engine/engine.hpp"
#include "error/error.hpp"
#include "output/output_file.hpp"

namespace synscope::output {

/// "00".."99": numbers are written two digits per division (a session line has ~25 of them).
inline constexpr char kDigitPairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/// Room reserved for one record line (a session line of either flavour or a bucket line is under 1.5 KiB).
inline constexpr size_t kMaxLine = 2048;

/// Writers that put text at `p` and return the end of what they wrote, with no room check: the caller made
/// sure of room for the whole line first (LineBuffer::room()). Beneath LineBuffer and the session line.
namespace put {

inline char* text(char* p, std::string_view s) noexcept {
  std::memcpy(p, s.data(), s.size());  // a literal's length is a constant: a few moves, not a call
  return p + s.size();
}

inline size_t digit_count(uint64_t v) noexcept {
  size_t n = 1;
  while (true) {
    if (v < 10) return n;
    if (v < 100) return n + 1;
    if (v < 1000) return n + 2;
    if (v < 10000) return n + 3;
    v /= 10000;
    n += 4;
  }
}

/// Writes `v` (below 2^32) right-aligned ending at `end`, two digits per step; returns where it starts.
/// 32-bit: a division by 100 is a shorter multiply-and-shift than in 64 bits.
inline char* u32_before(char* end, uint32_t v) noexcept {
  while (v >= 100) {
    const uint32_t q = v / 100;
    end -= 2;
    std::memcpy(end, kDigitPairs + 2 * (v - q * 100), 2);
    v = q;
  }
  if (v >= 10) {
    end -= 2;
    std::memcpy(end, kDigitPairs + 2 * v, 2);
  } else {
    *--end = static_cast<char>('0' + v);
  }
  return end;
}

/// u64() above 2^32 (rare on a line: byte counts of huge transfers), kept out of line.
[[gnu::noinline]] inline char* u64_wide(char* p, uint64_t v) noexcept {
  char* const end = p + digit_count(v);
  // The low eight digits in 32 bits (zero-padded), then the rest the same way (at most 12 digits, 8 + 4).
  char* at = end;
  while (v > UINT32_MAX) {
    const uint64_t high = v / 100'000'000;
    char* const low_start = at - 8;
    char* const low_digits = u32_before(at, static_cast<uint32_t>(v - high * 100'000'000));
    for (char* z = low_start; z < low_digits; ++z) *z = '0';
    at = low_start;
    v = high;
  }
  (void)u32_before(at, static_cast<uint32_t>(v));
  return end;
}

/// Decimal, at most 20 characters.
[[gnu::always_inline]] inline char* u64(char* p, uint64_t v) noexcept {
  if (v < 10) {  // most counters on a session line (SYN, FIN and RST counts) are one digit
    *p = static_cast<char>('0' + v);
    return p + 1;
  }
  if (v > UINT32_MAX) return u64_wide(p, v);
  char* const end = p + digit_count(v);
  (void)u32_before(end, static_cast<uint32_t>(v));
  return end;
}

/// "1234.567890": seconds with microsecond precision, like Zeek. At most 27 characters.
inline char* seconds(char* p, uint64_t ns) noexcept {
  p = u64(p, ns / 1'000'000'000ULL);
  const auto us = static_cast<uint32_t>(ns % 1'000'000'000ULL) / 1000;
  p[0] = '.';
  std::memcpy(p + 1, kDigitPairs + 2 * (us / 10000), 2);
  std::memcpy(p + 3, kDigitPairs + 2 * (us / 100 % 100), 2);
  std::memcpy(p + 5, kDigitPairs + 2 * (us % 100), 2);
  return p + 7;
}

/// Days since 1970-01-01 to a civil (proleptic Gregorian) date: Howard Hinnant's civil_from_days, exact
/// for every day a uint64_t of nanoseconds reaches (to the year 2554).
struct CivilDate {
  uint32_t year;
  uint32_t month;  ///< 1..12
  uint32_t day;    ///< 1..31
};
constexpr CivilDate civil_from_days(uint32_t days) noexcept {
  const uint32_t z = days + 719468;
  const uint32_t era = z / 146097;
  const uint32_t doe = z - era * 146097;                                       // [0, 146096]
  const uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const uint32_t mp = (5 * doy + 2) / 153;                                     // [0, 11], March first
  const uint32_t day = doy - (153 * mp + 2) / 5 + 1;
  const uint32_t month = mp < 10 ? mp + 3 : mp - 9;
  return {yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

/// "2023-11-14T22:13:20.250000Z": ISO 8601 UTC with microseconds (ECS dates), always 27 characters.
inline char* iso8601(char* p, uint64_t ns) noexcept {
  const uint64_t s = ns / 1'000'000'000ULL;
  const auto us = static_cast<uint32_t>(ns % 1'000'000'000ULL) / 1000;
  const CivilDate d = civil_from_days(static_cast<uint32_t>(s / 86400));
  const auto sod = static_cast<uint32_t>(s % 86400);
  const auto two = [](char* at, uint32_t v) { std::memcpy(at, kDigitPairs + 2 * v, 2); };
  two(p, d.year / 100);
  two(p + 2, d.year % 100);
  p[4] = '-';
  two(p + 5, d.month);
  p[7] = '-';
  two(p + 8, d.day);
  p[10] = 'T';
  two(p + 11, sod / 3600);
  p[13] = ':';
  two(p + 14, sod / 60 % 60);
  p[16] = ':';
  two(p + 17, sod % 60);
  p[19] = '.';
  two(p + 20, us / 10000);
  two(p + 22, us / 100 % 100);
  two(p + 24, us % 100);
  p[26] = 'Z';
  return p + 27;
}

}  // namespace put

/// Appends text and numbers to a caller's buffer (an OutputFile::reserve() or a local array); one JSON line
/// at a time. A record line is far shorter than the buffer (under 1.5 KiB: fixed keys, bounded numbers, a
/// history of at most 23 letters), so the room checks below never fail for one; they keep a smaller
/// buffer or a misuse from writing past the end, and overflowed() says a line was cut.
class LineBuffer {
 public:
  LineBuffer(char* buf, size_t capacity) noexcept : buf_(buf), capacity_(capacity) {}
  template <size_t N>
  explicit LineBuffer(char (&buf)[N]) noexcept : LineBuffer(buf, N) {}
  void clear() noexcept {
    len_ = 0;
    overflowed_ = false;
  }
  // Everything here is inline: a bucket line makes dozens of such calls, and out of line they would be most
  // of the line's cost. raw() copies all or nothing.
  void raw(std::string_view s) noexcept {
    if (char* p = room(s.size())) len_ = put::text(p, s) - buf_;
  }
  void u64(uint64_t v) noexcept {
    if (char* p = room(20)) len_ = put::u64(p, v) - buf_;
  }
  /// "1234.567890": seconds with microsecond precision, like Zeek.
  void seconds(uint64_t ns) noexcept {
    if (char* p = room(27)) len_ = put::seconds(p, ns) - buf_;
  }
  void str(std::string_view s) noexcept;  ///< a JSON string; escapes quotes, backslashes and controls
  /// Room for `n` more bytes, for a writer that fills it with put:: and then calls grow_to(); nullptr (and
  /// overflowed()) when the buffer has less.
  [[nodiscard]] char* room(size_t n) noexcept {
    if (capacity_ - len_ < n) {
      overflowed_ = true;
      return nullptr;
    }
    return buf_ + len_;
  }
  /// The line now ends at `end` (within the room() handed out).
  void grow_to(const char* end) noexcept { len_ = static_cast<size_t>(end - buf_); }
  [[nodiscard]] const char* data() const noexcept { return buf_; }
  [[nodiscard]] size_t size() const noexcept { return len_; }
  /// True when something did not fit since clear(): the line is incomplete.
  [[nodiscard]] bool overflowed() const noexcept { return overflowed_; }

 private:
  char* buf_;
  size_t capacity_;
  size_t len_ = 0;
  bool overflowed_ = false;
};

/// The field names of a session line (--sessions-format): Zeek's conn.log JSON with synscope's fields
/// beside them, or the Elastic Common Schema (8.x) as nested objects.
enum class SessionFlavour : uint8_t { kZeek, kEcs };
[[nodiscard]] std::string_view session_flavour_name(SessionFlavour f) noexcept;

/// How session lines are written. A plain value: the writer's thread and a thread that prepares lines
/// (channel::SessionChannel's producer) each format with it at once.
struct SessionLineFormat {
  SessionFlavour flavour = SessionFlavour::kZeek;
  uint16_t community_id_seed = 0;  ///< the Community ID spec's seed (--community-id-seed)
  /// The sensor's name (--sensor), written as `sensor` (Zeek flavour) or `observer.name` (ECS) when not
  /// empty. At most kMaxSensorName characters, none that JSON escapes (the option checks).
  std::string sensor;
};
inline constexpr size_t kMaxSensorName = 128;

/// Writes one JSON line per finished session, in the flavour its SessionLineFormat names.
class SessionJsonWriter : public engine::SessionSink {
 public:
  explicit SessionJsonWriter(OutputFile& out, SessionLineFormat format = {}) : out_(out), format_(format) {}
  /// Writes the record's line.
  void on_session(const engine::SessionRecord& r) override;
  /// Writes a line render() already made for a record (on another thread: channel::SessionChannel).
  void write_prepared(std::string_view line) noexcept { out_.write(line.data(), line.size()); }
  [[nodiscard]] const SessionLineFormat& line_format() const noexcept { return format_; }

  /// The longest line format_zeek() / format_ecs() can write (the longest addresses, numbers, history and
  /// names); each needs that much room and writes nothing into a smaller buffer (overflowed()).
  static constexpr size_t kMaxSessionLine = 1024;
  static constexpr size_t kMaxEcsSessionLine = 1536;
  static_assert(kMaxEcsSessionLine <= kMaxLine, "on_session() reserves kMaxLine for any flavour");
  [[nodiscard]] static constexpr size_t max_line(SessionFlavour f) noexcept {
    return f == SessionFlavour::kEcs ? kMaxEcsSessionLine : kMaxSessionLine;
  }
  /// The line in `format`'s flavour.
  static void format(const engine::SessionRecord& r, LineBuffer& line, const SessionLineFormat& format = {}) noexcept;
  /// Zeek's conn.log names (with community_id, as Zeek's Community ID package adds it).
  static void format_zeek(const engine::SessionRecord& r, LineBuffer& line, uint16_t community_id_seed = 0,
                          std::string_view sensor = {}) noexcept;
  /// ECS names as nested objects; Zeek's verdict under zeek.*, ours under synscope.*.
  static void format_ecs(const engine::SessionRecord& r, LineBuffer& line, uint16_t community_id_seed = 0,
                         std::string_view sensor = {}) noexcept;
  /// format() into `buf`: the line's length, or 0 when it needs more than `capacity` bytes (behind a
  /// channel::SessionChannel::LineRenderer, so a replay's worker can prepare lines while the writer is behind).
  static size_t render(const engine::SessionRecord& r, const SessionLineFormat& format, char* buf,
                       size_t capacity) noexcept;

 private:
  OutputFile& out_;
  SessionLineFormat format_;
};

/// Writes one JSON line per (bucket, perspective).
class BucketJsonWriter : public buckets::BucketSink {
 public:
  explicit BucketJsonWriter(OutputFile& out) : out_(out) {}
  void on_bucket(const buckets::Bucket& b) override;

 private:
  OutputFile& out_;
};

/// Human-readable end-of-run summary: frames by class and reason, sessions by state, failed by perspective.
std::string format_summary(const engine::EngineCounters& c, uint64_t late_sessions);

}  // namespace synscope::output
