// alerts/bucket_tally: see bucket_tally.hpp.
#include "alerts/bucket_tally.hpp"

#include <algorithm>
#include <cstdio>

namespace synscope::alerts {

std::string server_text(const ServerKey& k) {
  char ip[64], text[80];
  packet::format_ip(k.addr, k.ip_version, ip, sizeof(ip));
  std::snprintf(text, sizeof(text), k.ip_version == 6 ? "[%s]:%u" : "%s:%u", ip, k.port);
  return text;
}

TallyRing::TallyRing(size_t buckets, uint64_t span_ns, uint32_t series) : span_ns_(span_ns), tallies_(buckets) {
  for (BucketTally& t : tallies_) t.series_counts.assign(series, 0);
}

BucketTally& TallyRing::open(uint64_t ns) noexcept {
  const uint64_t index = ns / span_ns_;
  BucketTally& t = tallies_[index % tallies_.size()];
  if (t.index != index) {  // the tally held a bucket emitted long ago: reuse it
    t.index = index;
    for (auto& s : t.servers) s.clear();
    for (auto& s : t.pairs) s.clear();
    std::fill(t.series_counts.begin(), t.series_counts.end(), 0);
  }
  return t;
}

BucketTally* TallyRing::find(uint64_t start_ns) noexcept {
  const uint64_t index = start_ns / span_ns_;
  BucketTally& t = tallies_[index % tallies_.size()];
  return t.index == index ? &t : nullptr;
}

void TallyRing::forget_series(uint32_t series) noexcept {
  for (BucketTally& t : tallies_) t.series_counts[series] = 0;
}

void TallyRing::claim_series(uint32_t series, const ServerKey& server, uint64_t index) noexcept {
  for (BucketTally& t : tallies_) {
    if (t.index == UINT64_MAX || t.index <= index) continue;
    uint64_t n = 0;
    for (const auto& s : t.servers) n += s.count(server);
    t.series_counts[series] = static_cast<uint32_t>(n);
  }
}

}  // namespace synscope::alerts
