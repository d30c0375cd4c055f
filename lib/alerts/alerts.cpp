// alerts: see alerts.hpp.
#include "alerts/alerts.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <type_traits>

namespace synscope::alerts {

namespace {

/// "ip:port", IPv6 in brackets: how alerts name a server.
std::string server_text(const ServerKey& k) {
  char ip[64], text[80];
  packet::format_ip(k.addr, k.ip_version, ip, sizeof(ip));
  std::snprintf(text, sizeof(text), k.ip_version == 6 ? "[%s]:%u" : "%s:%u", ip, k.port);
  return text;
}

}  // namespace

AlertEngine::AlertEngine(const AlertConfig& config, output::OutputFile& out)
    : config_(config), out_(out), slots_(config.bucket_settle_ns / config.bucket_span_ns + 8) {
  config_.detector.bucket_s = static_cast<double>(config.bucket_span_ns) / 1e9;
}

uint32_t AlertEngine::firing() const noexcept {
  uint32_t n = static_cast<uint32_t>(client_alerts_.size());
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
    for (auto& s : slot.pairs) s.clear();
  }
  const ServerKey server{r.resp_h, r.resp_p, r.ip_version};
  slot.servers[static_cast<size_t>(r.perspective)].add(server);
  slot.pairs[static_cast<size_t>(r.perspective)].add(ClientServerKey{server, r.orig_h});
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
  observe_clients(b.start_ns);
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

void AlertEngine::observe_clients(uint64_t start_ns) {
  const uint64_t index = start_ns / config_.bucket_span_ns;
  const Slot& slot = slots_[index % slots_.size()];
  const bool have = slot.index == index;
  std::vector<bool> hot_now(client_alerts_.size(), false);
  auto line = [&](const ClientServerKey& k, buckets::Perspective p, uint64_t n, uint64_t next, const char* state) {
    char client[64], text[1024];
    packet::format_ip(k.client, k.server.ip_version, client, sizeof(client));
    const double ratio = static_cast<double>(n) / static_cast<double>(std::max<uint64_t>(next, 1));
    const double score = std::string_view(state) == "resolved"
                             ? 0.0 : std::clamp(50.0 + 10.0 * std::log2(ratio / config_.client_ratio), 50.0, 100.0);
    const int len = std::snprintf(
        text, sizeof(text),
        "{\"ts\":%llu,\"metric\":\"failed_sessions_client\",\"perspective\":\"%s\",\"partition\":\"%s\","
        "\"actual\":%llu,\"typical\":%llu,\"upper\":%.1f,\"score\":%.1f,\"severity\":\"%s\",\"state\":\"%s\","
        "\"top\":[{\"kind\":\"server\",\"value\":\"%s\",\"count\":%llu}]}\n",
        static_cast<unsigned long long>(start_ns / 1'000'000'000), std::string(buckets::perspective_name(p)).c_str(),
        client, static_cast<unsigned long long>(n), static_cast<unsigned long long>(next),
        config_.client_ratio * static_cast<double>(std::max<uint64_t>(next, 1)), score,
        std::string(detector::severity_name(detector::severity_of(score))).c_str(), state,
        server_text(k.server).c_str(), static_cast<unsigned long long>(n));
    if (len > 0) out_.write(text, static_cast<size_t>(std::min<int>(len, sizeof(text) - 1)));
    ++written_;
  };
  if (have) {
    for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) {
      const auto pairs = slot.pairs[p].top(kTopPairs);
      for (size_t i = 0; i < pairs.size(); ++i) {
        const auto& [key, n] = pairs[i];
        if (n < config_.client_min) break;  // sorted: no later pair qualifies
        uint64_t next = 0;  // the same server's next busiest client in this bucket
        for (size_t j = 0; j < pairs.size(); ++j) {
          if (j != i && pairs[j].key.server == key.server) next = std::max(next, pairs[j].count);
        }
        if (static_cast<double>(n) < config_.client_ratio * static_cast<double>(std::max<uint64_t>(next, 1))) continue;
        const auto it = std::find_if(client_alerts_.begin(), client_alerts_.end(), [&](const ClientAlert& a) {
          return a.client.bytes == key.client.bytes && a.server.ip_version == key.server.ip_version;
        });
        if (it != client_alerts_.end()) {  // already firing: de-duplicated
          it->quiet = 0;
          hot_now[static_cast<size_t>(it - client_alerts_.begin())] = true;
          continue;
        }
        if (client_alerts_.size() >= kMaxClientAlerts) continue;  // bounded; counted as written lines only
        client_alerts_.push_back({key.client, key.server, static_cast<buckets::Perspective>(p), 0});
        hot_now.push_back(true);
        line(key, static_cast<buckets::Perspective>(p), n, next, "firing");
      }
    }
  }
  for (size_t i = client_alerts_.size(); i-- > 0;) {
    if (hot_now[i] || ++client_alerts_[i].quiet < config_.policy.resolve_buckets) continue;
    const ClientServerKey k{client_alerts_[i].server, client_alerts_[i].client};
    line(k, client_alerts_[i].perspective, 0, 0, "resolved");
    client_alerts_.erase(client_alerts_.begin() + static_cast<std::ptrdiff_t>(i));
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
      for (const auto& e : slot.servers[static_cast<size_t>(p)].top(3)) item("server", server_text(e.key), e.count);
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

// ---- model file -----------------------------------------------------------------------------------------
//
// Layout (little-endian, this build's struct layout — the size check rejects a file from another layout):
//   magic "SYNSCOPE-MODEL\0\0" | u32 version | u32 sizeof(SeriesModel) | u32 sizeof(AlertState) |
//   u32 perspectives | u64 bucket_span_ns | u64 next_start_ns | u8 started | models | states | u64 FNV-1a

namespace {
constexpr char kMagic[16] = "SYNSCOPE-MODEL";
constexpr uint32_t kModelVersion = 1;

uint64_t fnv1a(const std::string& bytes) noexcept {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : bytes) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
  return h;
}

template <class T>
void put(std::string& out, const T& v) {
  static_assert(std::is_trivially_copyable_v<T>);
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

template <class T>
bool take(const std::string& in, size_t& at, T& v) {
  if (in.size() - at < sizeof(T)) return false;
  std::memcpy(&v, in.data() + at, sizeof(T));
  at += sizeof(T);
  return true;
}
}  // namespace

bool AlertEngine::save(const std::string& path, std::string& error) const {
  std::string body;
  body.append(kMagic, sizeof(kMagic));
  put(body, kModelVersion);
  put(body, static_cast<uint32_t>(sizeof(detector::SeriesModel)));
  put(body, static_cast<uint32_t>(sizeof(detector::AlertState)));
  put(body, static_cast<uint32_t>(buckets::kPerspectiveCount));
  put(body, config_.bucket_span_ns);
  put(body, next_start_ns_);
  put(body, static_cast<uint8_t>(started_));
  put(body, models_);
  put(body, states_);
  put(body, fnv1a(body));
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(body.data(), static_cast<std::streamsize>(body.size()));
    if (!f.good()) {
      error = "cannot write model file " + tmp;
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {  // atomic: a crash never leaves half a model
    error = "cannot rename " + tmp + " to " + path;
    return false;
  }
  return true;
}

bool AlertEngine::load(const std::string& path, std::string& warning) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    warning = "model file " + path + " not found: starting a fresh model";
    return false;
  }
  const std::string in((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto fail = [&](const std::string& why) {
    warning = "model file " + path + " " + why + ": starting a fresh model";
    return false;
  };
  if (in.size() < sizeof(kMagic) + sizeof(uint64_t) || std::memcmp(in.data(), kMagic, sizeof(kMagic)) != 0) {
    return fail("is not a synscope model");
  }
  uint64_t stored_sum = 0;
  std::memcpy(&stored_sum, in.data() + in.size() - sizeof(uint64_t), sizeof(uint64_t));
  if (fnv1a(in.substr(0, in.size() - sizeof(uint64_t))) != stored_sum) return fail("is corrupt (checksum)");
  size_t at = sizeof(kMagic);
  uint32_t version = 0, model_size = 0, state_size = 0, perspectives = 0;
  uint64_t span = 0, next_start = 0;
  uint8_t started = 0;
  if (!take(in, at, version) || !take(in, at, model_size) || !take(in, at, state_size) || !take(in, at, perspectives) ||
      !take(in, at, span) || !take(in, at, next_start) || !take(in, at, started)) {
    return fail("is truncated");
  }
  if (version != kModelVersion) {
    return fail("has format version " + std::to_string(version) + " (this build reads " +
                std::to_string(kModelVersion) + ")");
  }
  if (model_size != sizeof(detector::SeriesModel) || state_size != sizeof(detector::AlertState) ||
      perspectives != buckets::kPerspectiveCount) {
    return fail("was written by a build with another model layout");
  }
  if (span != config_.bucket_span_ns) {
    return fail("was learned with " + std::to_string(span / 1'000'000'000.0) + " s buckets, not " +
                std::to_string(config_.bucket_span_ns / 1'000'000'000.0));
  }
  decltype(models_) models;
  decltype(states_) states;
  if (!take(in, at, models) || !take(in, at, states) || in.size() - at != sizeof(uint64_t)) return fail("is truncated");
  models_ = models;
  states_ = states;
  next_start_ns_ = next_start;
  started_ = started != 0;
  return true;
}

}  // namespace synscope::alerts
