// content: the slot side of Zeek's payload-free reassembler (content.hpp). Each function follows the Zeek
// code it is named after (Reassembler::NewBlock and DataBlockList::Trim, TCP_Reassembler::DataSent,
// AckReceived, Undelivered and BlockInserted), with the data blocks reduced to their ranges: the delivered
// ones as [trim, last_reassem), which holds no hole (a hole below last_reassem was declared missing by an ACK
// that also moved trim past it), and the ones held above a hole in DirectionContent::blocks.
#include "tcp_session/content.hpp"

#include "packet/ranges.hpp"

namespace synscope::tcp_session {
namespace {

// Delivers the ranges that start at or below the delivered edge (BlockInserted); true when it moved.
bool deliver(DirectionContent& d) noexcept {
  bool moved = false;
  while (d.blocks_n > 0 && d.blocks[0].begin <= d.last_reassem) {
    if (d.blocks[0].end > d.last_reassem) {
      d.last_reassem = d.blocks[0].end;
      moved = true;
    }
    for (uint8_t i = 1; i < d.blocks_n; ++i) d.blocks[i - 1] = d.blocks[i];
    --d.blocks_n;
  }
  return moved;
}

// Adds [seq, upper) to the ranges held above the delivered edge, merging what overlaps or touches. Past
// kContentBlocks ranges the two with the smallest hole between them become one.
void hold(DirectionContent& d, uint64_t seq, uint64_t upper, ContentStats& stats) noexcept {
  if (upper <= d.last_reassem) return;
  if (seq < d.last_reassem) seq = d.last_reassem;
  std::array<ContentRange, kContentBlocks + 1> out{};
  size_t n = packet::merge_range(d.blocks.data(), d.blocks_n, ContentRange{seq, upper}, out);
  if (n > kContentBlocks) {
    size_t closest = 0;
    for (size_t i = 1; i + 1 < n; ++i) {
      if (out[i + 1].begin - out[i].end < out[closest + 1].begin - out[closest].end) closest = i;
    }
    out[closest].end = out[closest + 1].end;
    for (size_t i = closest + 1; i + 1 < n; ++i) out[i] = out[i + 1];
    --n;
    ++stats.blocks_merged;
  }
  for (size_t i = 0; i < n; ++i) d.blocks[i] = out[i];
  d.blocks_n = static_cast<uint8_t>(n);
}

uint64_t held_bytes(const DirectionContent& d) noexcept {
  uint64_t n = 0;
  for (uint8_t i = 0; i < d.blocks_n; ++i) n += d.blocks[i].end - d.blocks[i].begin;
  return n;
}

void give_up(DirectionContent& d) noexcept {
  d.blocks_n = 0;
  d.skip = true;
}

// TCP_Reassembler::Undelivered: the peer acknowledged up to `up_to` while the delivered edge is below it.
// Each hole before a held range, and the rest up to `up_to`, is a content gap.
uint32_t undelivered(DirectionContent& d, uint64_t up_to, const ContentContext& c) noexcept {
  // A partial connection's numbering was faked from its first packet: an ACK of its first octet or two is
  // not a gap, and the edge stays.
  if (up_to <= 2 && c.partial) return 0;
  uint32_t gaps = 0;
  const auto gap = [&](uint64_t len) {
    if (c.clean) {
      ++gaps;
      d.missed_bytes += len;
    }
  };
  if (!d.skip) {
    while (d.blocks_n > 0 && d.blocks[0].begin < up_to) {
      gap(d.blocks[0].begin - d.last_reassem);
      d.last_reassem = d.blocks[0].begin;
      deliver(d);
    }
    if (up_to > d.last_reassem) gap(up_to - d.last_reassem);
  }
  if (up_to > d.last_reassem) d.last_reassem = up_to;
  return gaps;
}

}  // namespace

ContentPool::ContentPool(uint32_t slots, ContentStats& stats)
    : slots_(size_t{slots < kMaxSlots ? slots : kMaxSlots} + 1), stats_(stats) {
  free_.reserve(slots_.size() - 1);
  for (uint32_t n = static_cast<uint32_t>(slots_.size() - 1); n >= 1; --n) free_.push_back(n);
}

uint32_t ContentPool::acquire() noexcept {
  if (free_.empty()) {
    ++stats_.slots_exhausted;
    return 0;
  }
  const uint32_t n = free_.back();
  free_.pop_back();
  slots_[n] = SessionContent{};
  return n;
}

void ContentPool::release(uint32_t n) noexcept {
  if (n != 0 && n < slots_.size()) free_.push_back(n);  // reserved for every slot: never allocates
}

void content_data(DirectionContent& d, uint64_t seq, uint64_t len, uint64_t ack, const ContentContext& c,
                  ContentStats& stats) noexcept {
  if (d.skip || len == 0) return;
  const uint64_t upper = seq + len;
  if (seq < ack) {
    if (upper <= ack) return;  // delivered and acknowledged already
    seq = ack;
  }
  // Reassembler::NewBlock: what lies below the trim point is old.
  if (upper > d.trim) {
    if (seq < d.trim) seq = d.trim;
    hold(d, seq, upper, stats);
    // BlockInserted, then its trim of an endpoint that sent more than an initial window without any ACK.
    if (deliver(d) && c.no_data_acked && c.size > kMaxInitialWindow) d.trim = d.last_reassem;
  }
  const uint64_t above_hole = d.blocks_n > 0 ? d.blocks[d.blocks_n - 1].end - d.last_reassem : 0;
  if (c.no_data_acked && above_hole > kMaxAboveHoleWithoutAcks) {
    give_up(d);  // Zeek: above_hole_data_without_any_acks
    return;
  }
  const uint64_t delivered = d.last_reassem > d.trim ? d.last_reassem - d.trim : 0;
  if (delivered + held_bytes(d) > kExcessiveDataWithoutAcks) give_up(d);  // excessive_data_without_further_acks
}

uint32_t content_ack(DirectionContent& d, uint64_t ack, const ContentContext& c, ContentPool& pool) noexcept {
  if (ack <= d.trim) return 0;
  const bool counted = !d.skip && c.active;
  // DataBlockList::Trim's accounting of bytes never seen, over the ranges as they were before this ACK:
  // the delivered range [trim, last_reassem), then the held ones.
  std::array<ContentRange, kContentBlocks + 1> list{};
  size_t n = 0;
  if (d.last_reassem > d.trim) list[n++] = {d.trim, d.last_reassem};
  for (uint8_t i = 0; i < d.blocks_n; ++i) list[n++] = d.blocks[i];
  uint64_t missing = 0;
  if (n > 0) {
    if (list[0].begin > d.last_reassem) missing += list[0].begin - d.last_reassem;
  } else if (ack > d.last_reassem) {
    missing += ack - d.last_reassem;
  }
  for (size_t i = 0; i < n && list[i].end <= ack; ++i) {
    if (i + 1 < n && list[i + 1].begin <= ack) {
      missing += list[i + 1].begin - list[i].end;
    } else if (list[i].end != ack && list[i].end != ack - 1) {  // an ACK of a FIN is one past the data
      missing += ack - list[i].end;
    }
  }
  const uint32_t gaps = ack > d.last_reassem ? undelivered(d, ack, c) : 0;
  const uint64_t advanced = ack - d.trim;
  d.trim = ack;
  deliver(d);  // a held range that now starts at the edge
  if (counted) {
    pool.count_ack(advanced);
    if (missing > 0) pool.count_gap(missing);
  }
  return gaps;
}

}  // namespace synscope::tcp_session
