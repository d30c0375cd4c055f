// buckets: failed-session counts per time bucket and perspective.
//
// A session is charged, when it ends, to the bucket of its first packet. A BucketRing keeps the buckets that
// may still receive sessions (a window of `settle` seconds behind the newest packet time) in a fixed ring
// allocated at start; a bucket is emitted once packet time has passed its end by `settle`. A session that
// ends after its bucket was emitted is counted as `late` in the bucket being filled when it ends, so no
// session is ever lost from the totals. Buckets without sessions are not emitted (absent = zero). Owned by one thread (the replay loop or the stats core).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>

#include "tcp_session/tcp_session.hpp"

namespace synscope::buckets {

/// ElastiFlow's perspectives, client = originator, server = responder.
enum class Perspective : uint8_t { kInbound, kOutbound, kPrivate, kEdge, kCount };
inline constexpr size_t kPerspectiveCount = static_cast<size_t>(Perspective::kCount);
[[nodiscard]] std::string_view perspective_name(Perspective p) noexcept;

/// What a finished session contributes to its bucket.
struct SessionSummary {
  uint64_t first_ns = 0;
  Perspective perspective = Perspective::kEdge;
  tcp_session::ConnState state = tcp_session::ConnState::kOTH;
  bool attempt = false;      ///< originator sent a SYN
  bool established = false;  ///< three-way handshake completed
  bool failed = false;
  bool orig_rst = false, resp_rst = false, orig_fin = false, resp_fin = false;
};

/// Counters of one (bucket, perspective).
struct BucketCounters {
  uint64_t sessions = 0;
  uint64_t attempts = 0;
  uint64_t established = 0;
  uint64_t failed = 0;
  std::array<uint64_t, tcp_session::kConnStateCount> by_state{};
  uint64_t rst_orig = 0, rst_resp = 0, fin_orig = 0, fin_resp = 0;
  uint64_t late = 0;  ///< sessions that started in an already-emitted bucket and ended during this one

  void add(const SessionSummary& s) noexcept;
  void merge(const BucketCounters& o) noexcept;
};

/// One emitted bucket: all perspectives of one time span.
struct Bucket {
  uint64_t start_ns = 0;
  uint64_t span_ns = 0;
  std::array<BucketCounters, kPerspectiveCount> by_perspective{};
};

/// Receives buckets in time order as they are settled.
class BucketSink {
 public:
  virtual ~BucketSink() = default;
  virtual void on_bucket(const Bucket& bucket) = 0;
};

/// Drops every bucket: a ring keeps settling with time even when nobody wants its buckets.
struct DiscardBuckets final : BucketSink {
  void on_bucket(const Bucket&) override {}
};

class BucketRing {
 public:
  /// `span_ns` > 0; `settle_ns` how long after its end a bucket stays open for sessions still running.
  BucketRing(uint64_t span_ns, uint64_t settle_ns);
  /// The memory the constructor allocates for `span_ns` and `settle_ns` (start-up memory checks).
  [[nodiscard]] static uint64_t bytes_for(uint64_t span_ns, uint64_t settle_ns) noexcept;

  /// Charges a finished session to its bucket; `now_ns` is the current packet time (the watermark).
  void add(const SessionSummary& s, uint64_t now_ns) noexcept;

  /// Moves time forward and emits every bucket that is settled at `now_ns`.
  void advance(uint64_t now_ns, BucketSink& sink);

  /// Emits every bucket still held (end of input or shutdown).
  void flush(BucketSink& sink);

  [[nodiscard]] uint64_t span_ns() const noexcept { return span_ns_; }
  [[nodiscard]] uint64_t late_sessions() const noexcept { return late_; }

 private:
  Bucket& slot(uint64_t index) noexcept { return ring_[index % size_]; }
  void emit_oldest(BucketSink& sink);

  uint64_t span_ns_;
  uint64_t settle_ns_;
  uint64_t size_;
  std::unique_ptr<Bucket[]> ring_;
  std::unique_ptr<uint8_t[]> touched_;
  bool started_ = false;
  uint64_t oldest_ = 0;  ///< index (start / span) of the oldest bucket held
  uint64_t newest_ = 0;  ///< index of the newest bucket held
  uint64_t late_ = 0;
  uint64_t touched_count_ = 0;  ///< ring slots holding at least one session
  // advance() has nothing to do before this time while newest_ stays newest_at_quiet_.
  uint64_t quiet_until_ns_ = 0;
  uint64_t newest_at_quiet_ = 0;
  // The bucket the last session fell in (add()): index, start and ring position; bucket 0 to begin with.
  uint64_t last_index_ = 0;
  uint64_t last_start_ns_ = 0;
  uint64_t last_pos_ = 0;
};

}  // namespace synscope::buckets
