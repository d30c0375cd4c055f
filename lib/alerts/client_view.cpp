// alerts/client_view: see client_view.hpp.
#include "alerts/client_view.hpp"

#include <algorithm>
#include <cmath>

namespace synscope::alerts {

void ClientView::observe(uint64_t start_ns, const BucketTally* tally, const AlertConfig& config, AlertWriter& out) {
  std::vector<bool> hot_now(alerts_.size(), false);
  // Writes one line: `n` failed attempts of the client at the server, `next` by its next busiest client.
  auto line = [&](const ClientServerKey& k, buckets::Perspective p, uint64_t n, uint64_t next, LineState state) {
    const double ratio = static_cast<double>(n) / static_cast<double>(std::max<uint64_t>(next, 1));
    detector::Scored said;
    said.actual = static_cast<double>(n);
    said.typical = static_cast<double>(next);
    said.upper = config.client_ratio * static_cast<double>(std::max<uint64_t>(next, 1));
    said.score = state == LineState::kResolved
                     ? 0.0
                     : std::clamp(50.0 + 10.0 * std::log2(ratio / config.client_ratio), 50.0, 100.0);
    char client[64];
    packet::format_ip(k.client, k.server.ip_version, client, sizeof(client));
    TopList top;
    top.add("server", server_text(k.server), n);
    out.write(start_ns, AlertMetric::kFailedSessionsClient, buckets::perspective_name(p), client, said, state, top);
    return said;
  };
  if (tally != nullptr) {
    for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) {
      const auto pairs = tally->pairs[p].top(kTopPairs);
      for (size_t i = 0; i < pairs.size(); ++i) {
        const auto& [key, n] = pairs[i];
        if (n < config.client_min) break;  // sorted: no later pair qualifies
        uint64_t next = 0;                 // the same server's next busiest client in this bucket
        for (size_t j = 0; j < pairs.size(); ++j) {
          if (j != i && pairs[j].key.server == key.server) next = std::max(next, pairs[j].count);
        }
        if (static_cast<double>(n) < config.client_ratio * static_cast<double>(std::max<uint64_t>(next, 1))) continue;
        const auto it = std::find_if(alerts_.begin(), alerts_.end(), [&](const Alert& a) {
          return a.client.bytes == key.client.bytes && a.server.ip_version == key.server.ip_version;
        });
        if (it != alerts_.end()) {  // already firing: de-duplicated
          it->quiet = 0;
          hot_now[static_cast<size_t>(it - alerts_.begin())] = true;
          continue;
        }
        if (alerts_.size() >= kMaxAlerts) continue;
        alerts_.push_back({key.client, key.server, static_cast<buckets::Perspective>(p), 0, {}});
        hot_now.push_back(true);
        alerts_.back().fired = line(key, static_cast<buckets::Perspective>(p), n, next, LineState::kFiring);
      }
    }
  }
  for (size_t i = alerts_.size(); i-- > 0;) {
    if (hot_now[i] || ++alerts_[i].quiet < config.policy.resolve_buckets) continue;
    const ClientServerKey k{alerts_[i].server, alerts_[i].client};
    line(k, alerts_[i].perspective, 0, 0, LineState::kResolved);
    alerts_.erase(alerts_.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

}  // namespace synscope::alerts
