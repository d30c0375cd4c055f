// fragments: the table of IPv4 datagrams being reassembled (fragments.hpp). Ranges and sums only: the
// payload itself is summed as it passes and never kept.
#include "packet/fragments.hpp"

#include <cstring>

#include "packet/checksum.hpp"
#include "packet/ranges.hpp"

namespace synscope::packet {
namespace {

constexpr uint32_t kProbe = 8;  // slots looked at per datagram: a full neighbourhood gives up its oldest

uint16_t be16(const uint8_t* p) noexcept { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

}  // namespace

FragmentTable::FragmentTable(uint32_t capacity, uint64_t timeout_ns)
    : entries_(capacity < kProbe ? kProbe : capacity), timeout_ns_(timeout_ns) {}

FragmentTable::Entry* FragmentTable::find_or_take(uint32_t src, uint32_t dst, uint16_t id, uint8_t proto,
                                                  uint64_t now_ns) noexcept {
  const uint64_t h =
      (uint64_t{src} * 0x9e3779b97f4a7c15ull) ^ (uint64_t{dst} * 0xc2b2ae3d27d4eb4full) ^ (uint64_t{id} << 8 | proto);
  const size_t n = entries_.size();
  const size_t start = static_cast<size_t>((h ^ (h >> 29)) % n);
  Entry* free_slot = nullptr;
  Entry* oldest = nullptr;
  for (uint32_t k = 0; k < kProbe; ++k) {
    Entry& e = entries_[(start + k) % n];
    if (e.used && now_ns > e.first_ns && now_ns - e.first_ns > timeout_ns_) {
      e.used = false;  // never completed in time
      ++counts_.dropped;
    }
    if (!e.used) {
      if (free_slot == nullptr) free_slot = &e;
      continue;
    }
    if (e.src == src && e.dst == dst && e.id == id && e.proto == proto) return &e;
    if (oldest == nullptr || e.first_ns < oldest->first_ns) oldest = &e;
  }
  Entry* e = free_slot;
  if (e == nullptr) {
    e = oldest;  // a full neighbourhood: the oldest incomplete datagram makes room
    ++counts_.dropped;
  }
  e->used = true;
  e->have_first = e->cut = e->end_known = false;
  e->ranges_n = 0;
  e->src = src;
  e->dst = dst;
  e->id = id;
  e->proto = proto;
  e->end = 0;
  e->first_ns = now_ns;
  e->sum = 0;
  e->head_len = 0;
  return e;
}

bool FragmentTable::add(const FragmentView& f, uint64_t now_ns, Datagram& out) noexcept {
  ++counts_.fragments;
  const uint8_t* ip = f.ip;
  const uint32_t ihl = (ip[0] & 0x0fu) * 4u;
  uint32_t src, dst;
  std::memcpy(&src, ip + 12, 4);
  std::memcpy(&dst, ip + 16, 4);
  Entry* e = find_or_take(src, dst, be16(ip + 4), ip[9], now_ns);
  const uint32_t len = f.total - ihl;
  const uint32_t begin = f.offset, end = f.offset + len;
  // A fragment already covered whole is a retransmission: nothing new. One that overlaps part of what
  // arrived would add some bytes to the sum twice: the datagram is kept but its payload counts as cut.
  bool overlaps = false;
  for (uint8_t i = 0; i < e->ranges_n; ++i) {
    const Range r = e->ranges[i];
    if (r.begin <= begin && end <= r.end) return false;
    if (begin < r.end && r.begin < end) overlaps = true;
  }
  // Merge [begin, end) into the sorted ranges.
  std::array<Range, kRanges + 1> merged{};
  const size_t n = merge_range(e->ranges.data(), e->ranges_n, Range{begin, end}, merged);
  if (n > kRanges) {  // a storm of small fragments: give the datagram up
    e->used = false;
    ++counts_.dropped;
    return false;
  }
  for (size_t i = 0; i < n; ++i) e->ranges[i] = merged[i];
  e->ranges_n = static_cast<uint8_t>(n);
  // Payload sums add up only for parts starting on an even byte: fragments do (offsets are multiples of 8),
  // and every one but the last has a length that is a multiple of 8.
  if (overlaps || f.captured < f.total || (f.more && len % 8 != 0)) {
    e->cut = true;
  } else {
    e->sum += ones_complement_sum(ip + ihl, len);
  }
  if (begin == 0) {
    e->have_first = true;
    e->head_len = f.captured < kHeadBytes ? f.captured : kHeadBytes;
    std::memcpy(e->head.data(), ip, e->head_len);
    e->encapsulations = f.encapsulations;
    e->depth = f.depth;
  }
  if (!f.more) {
    e->end_known = true;
    e->end = end;
  }
  if (!(e->have_first && e->end_known && e->ranges_n == 1 && e->ranges[0].begin == 0 && e->ranges[0].end == e->end)) {
    return false;
  }
  e->used = false;
  const uint32_t first_ihl = (e->head[0] & 0x0fu) * 4u;
  if (first_ihl + uint64_t{e->end} > 0xffff) {  // larger than an IPv4 packet can be
    ++counts_.dropped;
    return false;
  }
  ++counts_.reassembled;
  out_head_ = e->head;
  out.head = out_head_.data();
  out.head_len = e->head_len;
  out.total = first_ihl + e->end;
  out.payload_sum = e->sum;
  out.payload_cut = e->cut;
  out.encapsulations = e->encapsulations;
  out.depth = e->depth;
  return true;
}

}  // namespace synscope::packet
