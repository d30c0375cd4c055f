// alerts: see alerts.hpp.
#include "alerts/alerts.hpp"

#include <algorithm>
#include <cstdio>

namespace synscope::alerts {

AlertEngine::AlertEngine(const AlertConfig& config, output::OutputFile& out)
    : config_(config), out_(out), slots_(config.bucket_settle_ns / config.bucket_span_ns + 8) {
  config_.detector.bucket_s = static_cast<double>(config.bucket_span_ns) / 1e9;
}

uint32_t AlertEngine::firing() const noexcept {
  uint32_t n = 0;
  for (const auto& s : states_) n += s.firing();
  return n;
}

void AlertEngine::on_session(const engine::SessionRecord& r) {
  if (!tcp_session::is_failed(r.state)) return;
  const uint64_t index = r.session->first_ns / config_.bucket_span_ns;
  Slot& slot = slots_[index % slots_.size()];
  if (slot.index != index) {  // the slot held a bucket emitted long ago: reuse it
    slot.index = index;
    for (auto& s : slot.servers) s.clear();
  }
  slot.servers[static_cast<size_t>(r.perspective)].add(ServerKey{r.resp_h, r.resp_p, r.ip_version});
}

void AlertEngine::on_bucket(const buckets::Bucket& b) {
  // Buckets without sessions are never emitted: they are zeros for the model. A gap longer than a week (a
  // capture's clock jump) is not filled — the model just sees time move on.
  constexpr uint64_t kMaxFill = 7 * 24 * 3600;
  if (started_ && b.start_ns > next_start_ns_ &&
      (b.start_ns - next_start_ns_) / 1'000'000'000 <= kMaxFill) {
    for (uint64_t t = next_start_ns_; t < b.start_ns; t += config_.bucket_span_ns) observe(t, nullptr);
  }
  started_ = true;
  observe(b.start_ns, &b);
  next_start_ns_ = b.start_ns + config_.bucket_span_ns;
}

void AlertEngine::observe(uint64_t start_ns, const buckets::Bucket* b) {
  const double ts = static_cast<double>(start_ns / 1'000'000'000);
  for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) {
    const double value = b != nullptr ? static_cast<double>(b->by_perspective[p].failed) : 0.0;
    const detector::Scored s = models_[p].observe(ts, value, config_.detector);
    last_[p] = s;
    switch (states_[p].update(s, config_.policy)) {
      case detector::Transition::kFiring:
      case detector::Transition::kEscalated:
        write(start_ns, static_cast<buckets::Perspective>(p), s, "firing", b);
        break;
      case detector::Transition::kResolved:
        write(start_ns, static_cast<buckets::Perspective>(p), s, "resolved", b);
        break;
      case detector::Transition::kNone:
        break;
    }
  }
}

void AlertEngine::write(uint64_t start_ns, buckets::Perspective p, const detector::Scored& s, const char* state,
                        const buckets::Bucket* b) {
  std::string top = "[";
  auto item = [&top](const char* kind, const std::string& value, uint64_t count) {
    char buf[160];
    std::snprintf(buf, sizeof(buf), "%s{\"kind\":\"%s\",\"value\":\"%s\",\"count\":%llu}", top.size() > 1 ? "," : "",
                  kind, value.c_str(), static_cast<unsigned long long>(count));
    top += buf;
  };
  if (b != nullptr) {
    const buckets::BucketCounters& c = b->by_perspective[static_cast<size_t>(p)];
    std::vector<std::pair<uint64_t, size_t>> states;
    for (size_t st = 0; st < tcp_session::kConnStateCount; ++st) {
      if (tcp_session::is_failed(static_cast<tcp_session::ConnState>(st)) && c.by_state[st] != 0) {
        states.emplace_back(c.by_state[st], st);
      }
    }
    std::sort(states.rbegin(), states.rend());
    for (const auto& [n, st] : states) {
      item("conn_state", std::string(tcp_session::conn_state_name(static_cast<tcp_session::ConnState>(st))), n);
    }
    const uint64_t index = start_ns / config_.bucket_span_ns;
    const Slot& slot = slots_[index % slots_.size()];
    if (slot.index == index) {
      for (const auto& e : slot.servers[static_cast<size_t>(p)].top(3)) {
        char ip[64], server[80];
        packet::format_ip(e.key.addr, e.key.ip_version, ip, sizeof(ip));
        std::snprintf(server, sizeof(server), e.key.ip_version == 6 ? "[%s]:%u" : "%s:%u", ip, e.key.port);
        item("server", server, e.count);
      }
    }
  }
  top += "]";
  char line[1024];
  const int n = std::snprintf(
      line, sizeof(line),
      "{\"ts\":%llu,\"metric\":\"failed_sessions\",\"perspective\":\"%s\",\"partition\":\"all\",\"actual\":%.0f,"
      "\"typical\":%.3f,\"upper\":%.3f,\"score\":%.1f,\"severity\":\"%s\",\"state\":\"%s\",\"top\":%s}\n",
      static_cast<unsigned long long>(start_ns / 1'000'000'000), std::string(buckets::perspective_name(p)).c_str(),
      s.actual, s.typical, s.upper, s.score,
      std::string(detector::severity_name(detector::severity_of(std::string_view(state) == "resolved" ? 0 : s.score))).c_str(),
      state, top.c_str());
  if (n > 0) out_.write(line, static_cast<size_t>(std::min<int>(n, sizeof(line) - 1)));
  ++written_;
}

}  // namespace synscope::alerts
