// alerts/perspective_series: see perspective_series.hpp.
#include "alerts/perspective_series.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "tcp_session/tcp_session.hpp"

namespace synscope::alerts {

std::string_view series_name(size_t series) noexcept {
  return series == kTotalSeries ? "all" : buckets::perspective_name(static_cast<buckets::Perspective>(series));
}

void PerspectiveSeries::observe(uint64_t start_ns, const buckets::Bucket* b, const BucketTally* tally,
                                const AlertConfig& config, AlertWriter& out) {
  const double ts = static_cast<double>(start_ns / 1'000'000'000);
  double total = 0;
  bool perspective_firing = false;
  for (size_t p = 0; p < kPerspectiveSeries; ++p) {
    double value = total;
    if (p != kTotalSeries) {
      value = b != nullptr ? static_cast<double>(b->by_perspective[p].failed) : 0.0;
      total += value;
    }
    const detector::Scored s = models_[p].observe(ts, value, config.counts);
    last_[p] = s;
    const detector::Transition t = states_[p].update(s, config.policy);
    if (p != kTotalSeries) {
      perspective_firing = perspective_firing || states_[p].firing();
    } else if (t == detector::Transition::kFiring && !perspective_firing) {
      total_reported_ = true;  // a rise no perspective alert reports
    } else if (!total_reported_) {
      continue;  // the total's alert is covered by a perspective's: nothing to write
    } else if (t == detector::Transition::kResolved) {
      total_reported_ = false;
    }
    if (t == detector::Transition::kFiring || t == detector::Transition::kEscalated) {
      write(start_ns, p, s, LineState::kFiring, b, tally, out);
    }
    if (t == detector::Transition::kResolved) write(start_ns, p, s, LineState::kResolved, b, tally, out);
  }
}

void PerspectiveSeries::write(uint64_t start_ns, size_t series, const detector::Scored& s, LineState state,
                              const buckets::Bucket* b, const BucketTally* tally, AlertWriter& out) const {
  // The perspectives this series counts: one, or all four for the total.
  const size_t first = series == kTotalSeries ? 0 : series;
  const size_t last = series == kTotalSeries ? buckets::kPerspectiveCount : series + 1;
  TopList top;
  if (b != nullptr) {
    std::vector<std::pair<uint64_t, size_t>> states;
    for (size_t st = 0; st < tcp_session::kConnStateCount; ++st) {
      uint64_t n = 0;
      for (size_t p = first; p < last; ++p) n += b->by_perspective[p].by_state[st];
      if (tcp_session::is_failed(static_cast<tcp_session::ConnState>(st)) && n != 0) states.emplace_back(n, st);
    }
    std::sort(states.rbegin(), states.rend());
    for (const auto& [n, st] : states) {
      top.add("conn_state", tcp_session::conn_state_name(static_cast<tcp_session::ConnState>(st)), n);
    }
    if (tally != nullptr) {  // a server is in one perspective's summary only (its clients' side decides)
      std::vector<SpaceSaving<ServerKey, kTopServers>::Entry> servers;
      for (size_t p = first; p < last; ++p) {
        for (const auto& e : tally->servers[p].top(3)) servers.push_back(e);
      }
      std::stable_sort(servers.begin(), servers.end(), [](const auto& x, const auto& y) { return x.count > y.count; });
      if (servers.size() > 3) servers.resize(3);
      for (const auto& e : servers) top.add("server", server_text(e.key), e.count);
    }
  }
  out.write(start_ns, AlertMetric::kFailedSessions, series_name(series), "all", s, state, top);
}

uint32_t PerspectiveSeries::firing() const noexcept {
  uint32_t n = total_reported_ ? 1 : 0;
  for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) n += states_[p].firing();
  return n;
}

void PerspectiveSeries::restore(const Models& models, const States& states, const Lasts& lasts,
                                bool total_reported) noexcept {
  models_ = models;
  states_ = states;
  last_ = lasts;
  total_reported_ = total_reported;
}

}  // namespace synscope::alerts
