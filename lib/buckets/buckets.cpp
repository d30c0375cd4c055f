// buckets: see buckets.hpp.
#include "buckets/buckets.hpp"

#include <algorithm>

namespace synscope::buckets {

std::string_view perspective_name(Perspective p) noexcept {
  switch (p) {
    case Perspective::kInbound: return "inbound";
    case Perspective::kOutbound: return "outbound";
    case Perspective::kPrivate: return "private";
    case Perspective::kEdge: return "edge";
    case Perspective::kCount: break;
  }
  return "edge";
}

void BucketCounters::add(const SessionSummary& s) noexcept {
  ++sessions;
  attempts += s.attempt || s.failed;
  established += s.established;
  failed += s.failed;
  ++by_state[static_cast<size_t>(s.state)];
  rst_orig += s.orig_rst;
  rst_resp += s.resp_rst;
  fin_orig += s.orig_fin;
  fin_resp += s.resp_fin;
}

void BucketCounters::merge(const BucketCounters& o) noexcept {
  sessions += o.sessions;
  attempts += o.attempts;
  established += o.established;
  failed += o.failed;
  for (size_t i = 0; i < by_state.size(); ++i) by_state[i] += o.by_state[i];
  rst_orig += o.rst_orig;
  rst_resp += o.rst_resp;
  fin_orig += o.fin_orig;
  fin_resp += o.fin_resp;
  late += o.late;
}

BucketRing::BucketRing(uint64_t span_ns, uint64_t settle_ns)
    : span_ns_(span_ns), settle_ns_(settle_ns), size_(settle_ns / span_ns + 4) {
  ring_.reset(new Bucket[size_]());
  touched_.reset(new uint8_t[size_]());
}

uint64_t BucketRing::bytes_for(uint64_t span_ns, uint64_t settle_ns) noexcept {
  return (settle_ns / span_ns + 4) * (sizeof(Bucket) + 1);
}

void BucketRing::add(const SessionSummary& s, uint64_t now_ns) noexcept {
  // Sessions mostly come in time order, so most fall in the bucket of the one before: its index and ring
  // position are kept, saving two 64-bit divisions per session (a few percent of a replay's writer thread).
  if (s.first_ns - last_start_ns_ >= span_ns_) {
    last_index_ = s.first_ns / span_ns_;
    last_start_ns_ = last_index_ * span_ns_;
    last_pos_ = last_index_ % size_;
  }
  const uint64_t index = last_index_;
  if (!started_) {
    started_ = true;
    oldest_ = newest_ = index;
  }
  if (index < oldest_) {
    // Its bucket was already emitted: count it where time is now, so totals stay complete.
    ++late_;
    const uint64_t now_index = now_ns / span_ns_;
    const uint64_t target = now_index < oldest_ ? oldest_ : (now_index > newest_ ? newest_ : now_index);
    Bucket& b = slot(target);
    touched_count_ += touched_[target % size_] == 0;
    touched_[target % size_] = 1;
    b.by_perspective[static_cast<size_t>(s.perspective)].late += 1;
    return;
  }
  if (index - oldest_ >= size_) {
    // A session far ahead of the watermark (a clock jump in the capture): the ring cannot reach its
    // bucket yet, so it is counted as late in the newest bucket held — never lost from the totals.
    ++late_;
    Bucket& b = slot(newest_);
    touched_count_ += touched_[newest_ % size_] == 0;
    touched_[newest_ % size_] = 1;
    b.by_perspective[static_cast<size_t>(s.perspective)].late += 1;
    return;
  }
  if (index > newest_) newest_ = index;  // advance() keeps newest_ - oldest_ < size_
  Bucket& b = ring_[last_pos_];
  b.start_ns = last_start_ns_;
  b.span_ns = span_ns_;
  touched_count_ += touched_[last_pos_] == 0;
  touched_[last_pos_] = 1;
  b.by_perspective[static_cast<size_t>(s.perspective)].add(s);
}

void BucketRing::emit_oldest(BucketSink& sink) {
  const uint64_t pos = oldest_ % size_;
  if (touched_[pos]) {
    Bucket& b = ring_[pos];
    b.start_ns = oldest_ * span_ns_;
    b.span_ns = span_ns_;
    sink.on_bucket(b);
    --touched_count_;
  }
  ring_[pos] = Bucket{};
  touched_[pos] = 0;
  ++oldest_;
}

void BucketRing::advance(uint64_t now_ns, BucketSink& sink) {
  if (!started_) return;
  // Nothing can be due before the next bucket boundary or settle time unless add() raised newest_: the
  // two divisions below ran for every session a writer thread rebuilt buckets from (RecordBuckets).
  if (now_ns < quiet_until_ns_ && newest_ == newest_at_quiet_) return;
  const uint64_t now_index = now_ns / span_ns_;
  if (now_index > newest_) newest_ = now_index;
  // Buckets before `target` are due: settled (their end + settle has passed), or about to be overwritten
  // by the ring wrapping onto the newest bucket.
  const uint64_t settled = now_ns > settle_ns_ ? (now_ns - settle_ns_) / span_ns_ : 0;
  const uint64_t unwrapped = newest_ + 2 > size_ ? newest_ + 2 - size_ : 0;
  const uint64_t target = std::min(newest_, std::max(settled, unwrapped));
  while (oldest_ < target) {
    if (touched_count_ == 0) {
      oldest_ = target;  // nothing held: skip the empty span (a clock jump of years) in O(1)
      break;
    }
    emit_oldest(sink);
  }
  // Until the next bucket starts (newest_ may move) or the next one settles, the same target would follow.
  const uint64_t next_start = (now_index + 1) * span_ns_;
  const uint64_t next_settle = now_ns > settle_ns_ ? (settled + 1) * span_ns_ + settle_ns_ : settle_ns_ + span_ns_;
  quiet_until_ns_ = std::min(next_start, next_settle);
  newest_at_quiet_ = newest_;
}

void BucketRing::flush(BucketSink& sink) {
  if (!started_) return;
  while (oldest_ <= newest_) emit_oldest(sink);
  started_ = false;
  quiet_until_ns_ = 0;
}

}  // namespace synscope::buckets
