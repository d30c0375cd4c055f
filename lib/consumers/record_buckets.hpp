// record_buckets: time buckets built from session records, on the thread that consumes them.
//
// Engines only report sessions; the consumers rebuild the buckets from them (one engine in replay, several
// merged in time order by the live stats core). Each record carries the time its engine had settled to
// when it wrote the record (SessionRecord::settled_ns); settling to exactly that before adding the record
// gives the same bucket records whichever thread does it and however many engines are merged. Owned by
// one thread; not thread-safe.
#pragma once

#include <cstdint>

#include "buckets/buckets.hpp"
#include "engine/engine.hpp"

namespace synscope::consumers {

class RecordBuckets {
 public:
  RecordBuckets(uint64_t span_ns, uint64_t settle_ns) : ring_(span_ns, settle_ns) {}
  /// Emits the buckets settled by time `t` to `sink`; earlier or equal times change nothing.
  void settle(uint64_t t, buckets::BucketSink& sink) {
    if (t <= settled_ns_) return;
    settled_ns_ = t;
    ring_.advance(t, sink);
  }
  /// Counts a record in its bucket: call settle(record.settled_ns, ...) first.
  void add(const engine::SessionRecord& record) noexcept { ring_.add(engine::summarize(record), record.emitted_ns); }
  /// After the last record: emits every bucket held.
  void flush(buckets::BucketSink& sink) { ring_.flush(sink); }
  [[nodiscard]] uint64_t settled_ns() const noexcept { return settled_ns_; }
  [[nodiscard]] uint64_t late_sessions() const noexcept { return ring_.late_sessions(); }

 private:
  buckets::BucketRing ring_;
  uint64_t settled_ns_ = 0;
};

}  // namespace synscope::consumers
