// alerts: see alerts.hpp.
#include "alerts/alerts.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <type_traits>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

namespace synscope::alerts {

namespace {

constexpr uint32_t kNoSeries = UINT32_MAX;
constexpr uint64_t kMinAdmit = 2;        // failed sessions in one bucket that earn an untracked server a series
constexpr uint32_t kSeriesGrain = 256;   // series per TBB task: a few microseconds of work each

/// "ip:port", IPv6 in brackets: how alerts name a server.
std::string server_text(const ServerKey& k) {
  char ip[64], text[80];
  packet::format_ip(k.addr, k.ip_version, ip, sizeof(ip));
  std::snprintf(text, sizeof(text), k.ip_version == 6 ? "[%s]:%u" : "%s:%u", ip, k.port);
  return text;
}

/// Appends one {"kind","value","count"} entry to an alert's `top` list ("[" so far, or entries).
void add_top_item(std::string& top, const char* kind, const std::string& value, uint64_t count) {
  char buf[160];
  std::snprintf(buf, sizeof(buf), "%s{\"kind\":\"%s\",\"value\":\"%s\",\"count\":%llu}", top.size() > 1 ? "," : "",
                kind, value.c_str(), static_cast<unsigned long long>(count));
  top += buf;
}

}  // namespace

std::string partition_text(const FiringPartition& f) {
  if (f.client != 0) {
    char ip[64];
    packet::format_ip(f.addr, f.ip_version, ip, sizeof(ip));
    return ip;
  }
  return server_text(ServerKey{f.addr, f.port, f.ip_version});
}

AlertEngine::AlertEngine(const AlertConfig& config, output::OutputFile& out)
    : config_(config), out_(out), slots_(config.bucket_settle_ns / config.bucket_span_ns + 8) {
  config_.detector.bucket_s = static_cast<double>(config.bucket_span_ns) / 1e9;
  const uint32_t k = config.policy.server_series;
  if (k > 0) {
    series_.resize(k);
    scored_.resize(k);
    size_t slots = 16;
    while (slots < size_t{k} * 2) slots <<= 1;
    index_.assign(slots, 0);
    for (Slot& s : slots_) s.series_counts.assign(k, 0);
  }
  rank_decay_ = std::exp2(-config_.detector.bucket_s / 86400.0);  // half-life one day
}

std::string_view series_name(size_t series) noexcept {
  return series == kTotalSeries ? "all" : buckets::perspective_name(static_cast<buckets::Perspective>(series));
}

uint32_t AlertEngine::firing() const noexcept {
  uint32_t n = static_cast<uint32_t>(client_alerts_.size()) + (total_reported_ ? 1 : 0);
  for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) n += states_[p].firing();
  for (uint32_t i = 0; i < used_series_; ++i) n += series_[i].state.firing();
  return n;
}

uint32_t AlertEngine::firing_partitions(FiringPartition* out, uint32_t max) const noexcept {
  uint32_t n = 0;
  auto add = [&](const packet::IpAddr& addr, uint16_t port, uint8_t version, buckets::Perspective p, bool client,
                 const detector::Scored& s) {
    if (n < max) {
      FiringPartition& f = out[n];
      f = FiringPartition{};
      f.addr = addr;
      f.port = port;
      f.ip_version = version;
      f.perspective = static_cast<uint8_t>(p);
      f.client = client ? 1 : 0;
      f.actual = s.actual;
      f.typical = s.typical;
      f.upper = s.upper;
      f.score = s.score;
    }
    ++n;
  };
  for (uint32_t i = 0; i < used_series_; ++i) {
    const ServerSeries& ss = series_[i];
    if (ss.state.firing()) {
      add(ss.server.addr, ss.server.port, ss.server.ip_version, static_cast<buckets::Perspective>(ss.perspective),
          false, ss.last);
    }
  }
  for (const ClientAlert& c : client_alerts_) add(c.client, 0, c.server.ip_version, c.perspective, true, c.fired);
  return n;
}

// ---- per-server series index ------------------------------------------------------------------------------

uint64_t AlertEngine::series_hash(uint8_t perspective, const ServerKey& k) noexcept {
  uint64_t w[2];
  std::memcpy(w, k.addr.bytes.data(), 16);
  uint64_t h = (w[0] ^ (uint64_t{k.port} << 8 | perspective | uint64_t{k.ip_version} << 24)) * 0x9e3779b97f4a7c15ULL;
  h = (h ^ (h >> 29) ^ w[1]) * 0xbf58476d1ce4e5b9ULL;
  return h ^ (h >> 32);
}

uint32_t AlertEngine::find_series(uint8_t perspective, const ServerKey& k) const noexcept {
  if (index_.empty()) return kNoSeries;
  const size_t mask = index_.size() - 1;
  for (size_t pos = series_hash(perspective, k) & mask;; pos = (pos + 1) & mask) {
    const uint32_t v = index_[pos];
    if (v == 0) return kNoSeries;
    const ServerSeries& s = series_[v - 1];
    if (s.perspective == perspective && s.server == k) return v - 1;
  }
}

void AlertEngine::index_insert(uint32_t series) noexcept {
  const size_t mask = index_.size() - 1;
  size_t pos = series_hash(series_[series].perspective, series_[series].server) & mask;
  while (index_[pos] != 0) pos = (pos + 1) & mask;
  index_[pos] = series + 1;
}

void AlertEngine::index_erase(uint32_t series) noexcept {
  const size_t mask = index_.size() - 1;
  size_t pos = series_hash(series_[series].perspective, series_[series].server) & mask;
  while (index_[pos] != series + 1) pos = (pos + 1) & mask;
  // Backward-shift deletion: pull later members of the probe run into the hole.
  size_t hole = pos;
  for (size_t next = (hole + 1) & mask; index_[next] != 0; next = (next + 1) & mask) {
    const ServerSeries& s = series_[index_[next] - 1];
    const size_t home = series_hash(s.perspective, s.server) & mask;
    if (((next - home) & mask) >= ((next - hole) & mask)) {
      index_[hole] = index_[next];
      hole = next;
    }
  }
  index_[hole] = 0;
}

void AlertEngine::rebuild_index() noexcept {
  std::fill(index_.begin(), index_.end(), 0);
  for (uint32_t i = 0; i < used_series_; ++i) index_insert(i);
}

void AlertEngine::on_session(const engine::SessionRecord& r) {
  if (!tcp_session::is_failed(r.state)) return;
  const uint64_t index = r.session->first_ns / config_.bucket_span_ns;
  Slot& slot = slots_[index % slots_.size()];
  if (slot.index != index) {  // the slot held a bucket emitted long ago: reuse it
    slot.index = index;
    for (auto& s : slot.servers) s.clear();
    for (auto& s : slot.pairs) s.clear();
    std::fill(slot.series_counts.begin(), slot.series_counts.end(), 0);
  }
  const ServerKey server{r.resp_h, r.resp_p, r.ip_version};
  slot.servers[static_cast<size_t>(r.perspective)].add(server);
  const uint32_t series = find_series(static_cast<uint8_t>(r.perspective), server);
  if (series != kNoSeries) ++slot.series_counts[series];
  slot.pairs[static_cast<size_t>(r.perspective)].add(ClientServerKey{server, r.orig_h});
}

void AlertEngine::on_bucket(const buckets::Bucket& b) {
  // Buckets without sessions are never emitted: they are zeros for the model. A gap longer than a week (a
  // capture's clock jump) is not filled — the model just sees time move on.
  constexpr uint64_t kMaxFill = 7 * 24 * 3600;
  if (started_ && b.start_ns > next_start_ns_ &&
      (b.start_ns - next_start_ns_) / 1'000'000'000 <= kMaxFill) {
    for (uint64_t t = next_start_ns_; t < b.start_ns; t += config_.bucket_span_ns) {
      observe(t, nullptr);
      observe_servers(t);
    }
  }
  started_ = true;
  observe(b.start_ns, &b);
  observe_servers(b.start_ns);
  observe_clients(b.start_ns);
  next_start_ns_ = b.start_ns + config_.bucket_span_ns;
}

void AlertEngine::observe(uint64_t start_ns, const buckets::Bucket* b) {
  const double ts = static_cast<double>(start_ns / 1'000'000'000);
  double total = 0;
  bool perspective_firing = false;
  for (size_t p = 0; p < kPerspectiveSeries; ++p) {
    double value = total;
    if (p != kTotalSeries) {
      value = b != nullptr ? static_cast<double>(b->by_perspective[p].failed) : 0.0;
      total += value;
    }
    const detector::Scored s = models_[p].observe(ts, value, config_.detector);
    last_[p] = s;
    const detector::Transition t = states_[p].update(s, config_.policy);
    if (p != kTotalSeries) {
      perspective_firing = perspective_firing || states_[p].firing();
    } else if (t == detector::Transition::kFiring && !perspective_firing) {
      total_reported_ = true;  // a rise no perspective alert reports
    } else if (!total_reported_) {
      continue;  // the total's alert is covered by a perspective's: nothing to write
    } else if (t == detector::Transition::kResolved) {
      total_reported_ = false;
    }
    if (t == detector::Transition::kFiring || t == detector::Transition::kEscalated) write(start_ns, p, s, "firing", b);
    if (t == detector::Transition::kResolved) write(start_ns, p, s, "resolved", b);
  }
}

void AlertEngine::observe_servers(uint64_t start_ns) {
  if (series_.empty()) return;
  const uint64_t index = start_ns / config_.bucket_span_ns;
  Slot* slot = &slots_[index % slots_.size()];
  if (slot->index != index) slot = nullptr;  // no failed session in this bucket
  // Admission: this bucket's busiest untracked servers take a free series, or the place of the series
  // ranked lowest that is not firing when they failed more in this one bucket than its decayed total.
  if (slot != nullptr) {
    for (size_t p = 0; p < buckets::kPerspectiveCount; ++p) {
      for (const auto& e : slot->servers[p].top(kTopServers)) {
        if (e.count < kMinAdmit) break;  // sorted
        if (find_series(static_cast<uint8_t>(p), e.key) != kNoSeries) continue;
        uint32_t victim = kNoSeries;
        if (used_series_ < series_.size()) {
          victim = used_series_++;
        } else {
          double lowest = static_cast<double>(e.count);
          for (uint32_t i = 0; i < used_series_; ++i) {
            if (!series_[i].state.firing() && series_[i].rank < lowest) {
              lowest = series_[i].rank;
              victim = i;
            }
          }
          if (victim == kNoSeries) continue;
          index_erase(victim);
          // Buckets still open counted the old server under this index: those counts are not the new one's.
          for (Slot& other : slots_) other.series_counts[victim] = 0;
        }
        ServerSeries& s = series_[victim];
        s = ServerSeries{};
        s.server = e.key;
        s.perspective = static_cast<uint8_t>(p);
        index_insert(victim);
        slot->series_counts[victim] = static_cast<uint32_t>(e.count);  // Space-Saving's count for this bucket
      }
    }
  }
  // Score every series; independent per series, so in parallel. Transitions are then taken in series order
  // on this thread, so the alert lines come out the same however the work was split.
  const double ts = static_cast<double>(start_ns / 1'000'000'000);
  const uint32_t n = used_series_;
  oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<uint32_t>(0, n, kSeriesGrain),
                            [&](const oneapi::tbb::blocked_range<uint32_t>& r) {
                              for (uint32_t i = r.begin(); i != r.end(); ++i) {
                                const double v = slot != nullptr ? slot->series_counts[i] : 0.0;
                                ServerSeries& s = series_[i];
                                scored_[i] = s.model.observe(ts, v, config_.detector);
                                s.rank = s.rank * rank_decay_ + v;
                              }
                            });
  for (uint32_t i = 0; i < n; ++i) {
    ServerSeries& s = series_[i];
    const detector::Transition t = s.state.update(scored_[i], config_.policy);
    if (s.state.firing() || t == detector::Transition::kResolved) s.last = scored_[i];
    if (t == detector::Transition::kFiring || t == detector::Transition::kEscalated) write_server(start_ns, s, "firing");
    if (t == detector::Transition::kResolved) write_server(start_ns, s, "resolved");
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
    detector::Scored said;
    said.actual = static_cast<double>(n);
    said.typical = static_cast<double>(next);
    said.upper = config_.client_ratio * static_cast<double>(std::max<uint64_t>(next, 1));
    said.score = score;
    return said;
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
        client_alerts_.push_back({key.client, key.server, static_cast<buckets::Perspective>(p), 0, {}});
        hot_now.push_back(true);
        client_alerts_.back().fired = line(key, static_cast<buckets::Perspective>(p), n, next, "firing");
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

void AlertEngine::write(uint64_t start_ns, size_t series, const detector::Scored& s, const char* state,
                        const buckets::Bucket* b) {
  // The perspectives this series counts: one, or all four for the total.
  const size_t first = series == kTotalSeries ? 0 : series;
  const size_t last = series == kTotalSeries ? buckets::kPerspectiveCount : series + 1;
  std::string top = "[";
  if (b != nullptr) {
    std::vector<std::pair<uint64_t, size_t>> states;
    for (size_t st = 0; st < tcp_session::kConnStateCount; ++st) {
      uint64_t n = 0;
      for (size_t p = first; p < last; ++p) n += b->by_perspective[p].by_state[st];
      if (tcp_session::is_failed(static_cast<tcp_session::ConnState>(st)) && n != 0) states.emplace_back(n, st);
    }
    std::sort(states.rbegin(), states.rend());
    for (const auto& [n, st] : states) {
      add_top_item(top, "conn_state", std::string(tcp_session::conn_state_name(static_cast<tcp_session::ConnState>(st))), n);
    }
    const uint64_t index = start_ns / config_.bucket_span_ns;
    const Slot& slot = slots_[index % slots_.size()];
    if (slot.index == index) {  // a server is in one perspective's summary only (its clients' side decides)
      std::vector<SpaceSaving<ServerKey, kTopServers>::Entry> servers;
      for (size_t p = first; p < last; ++p) {
        for (const auto& e : slot.servers[p].top(3)) servers.push_back(e);
      }
      std::stable_sort(servers.begin(), servers.end(), [](const auto& x, const auto& y) { return x.count > y.count; });
      if (servers.size() > 3) servers.resize(3);
      for (const auto& e : servers) add_top_item(top, "server", server_text(e.key), e.count);
    }
  }
  top += "]";
  write_line(out_, start_ns, series_name(series), "all", s, state, top);
  ++written_;
}

void AlertEngine::write_server(uint64_t start_ns, const ServerSeries& series, const char* state) {
  const auto p = static_cast<buckets::Perspective>(series.perspective);
  std::string top = "[";
  const uint64_t index = start_ns / config_.bucket_span_ns;
  const Slot& slot = slots_[index % slots_.size()];
  if (slot.index == index) {  // the server's busiest clients in this bucket
    size_t listed = 0;
    for (const auto& e : slot.pairs[static_cast<size_t>(p)].top(kTopPairs)) {
      if (!(e.key.server == series.server)) continue;
      char ip[64];
      packet::format_ip(e.key.client, e.key.server.ip_version, ip, sizeof(ip));
      add_top_item(top, "client", ip, e.count);
      if (++listed == 3) break;
    }
  }
  top += "]";
  write_line(out_, start_ns, buckets::perspective_name(p), server_text(series.server), series.last, state, top);
  ++written_;
}

void AlertEngine::write_line(output::OutputFile& out, uint64_t start_ns, std::string_view perspective,
                             const std::string& partition, const detector::Scored& s, const char* state,
                             const std::string& top) {
  char line[1536];
  const int n = std::snprintf(
      line, sizeof(line),
      "{\"ts\":%llu,\"metric\":\"failed_sessions\",\"perspective\":\"%s\",\"partition\":\"%s\",\"actual\":%.0f,"
      "\"typical\":%.3f,\"upper\":%.3f,\"score\":%.1f,\"severity\":\"%s\",\"state\":\"%s\",\"top\":%s}\n",
      static_cast<unsigned long long>(start_ns / 1'000'000'000), std::string(perspective).c_str(),
      partition.c_str(), s.actual, s.typical, s.upper, s.score,
      std::string(detector::severity_name(detector::severity_of(std::string_view(state) == "resolved" ? 0 : s.score))).c_str(),
      state, top.c_str());
  if (n > 0) out.write(line, static_cast<size_t>(std::min<int>(n, sizeof(line) - 1)));
}

// ---- model file -----------------------------------------------------------------------------------------
//
// Layout (little-endian, this build's struct layout — the size check rejects a file from another layout):
//   magic "SYNSCOPE-MODEL\0\0" | u32 version | u32 sizeof(SeriesModel) | u32 sizeof(AlertState) |
//   u32 perspective series (4 + total) | u64 bucket_span_ns | u64 next_start_ns | u8 started | models |
//   states | u8 total reported |
//   u32 server series capacity | u32 in use | u32 sizeof(ServerSeries) | series (capacity of them) | u64 FNV-1a

namespace {
constexpr char kMagic[16] = "SYNSCOPE-MODEL";
// 2: per-server series; 3: weekday/weekend day profiles; 4: total series; 5: the CUSUM's own tail
constexpr uint32_t kModelVersion = 5;

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
  put(body, static_cast<uint32_t>(kPerspectiveSeries));
  put(body, config_.bucket_span_ns);
  put(body, next_start_ns_);
  put(body, static_cast<uint8_t>(started_));
  put(body, models_);
  put(body, states_);
  put(body, static_cast<uint8_t>(total_reported_));
  put(body, static_cast<uint32_t>(series_.size()));
  put(body, used_series_);
  put(body, static_cast<uint32_t>(sizeof(ServerSeries)));
  static_assert(std::is_trivially_copyable_v<ServerSeries>);
  body.append(reinterpret_cast<const char*>(series_.data()), series_.size() * sizeof(ServerSeries));
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
      perspectives != kPerspectiveSeries) {
    return fail("was written by a build with another model layout");
  }
  if (span != config_.bucket_span_ns) {
    return fail("was learned with " + std::to_string(span / 1'000'000'000.0) + " s buckets, not " +
                std::to_string(config_.bucket_span_ns / 1'000'000'000.0));
  }
  decltype(models_) models;
  decltype(states_) states;
  uint8_t total_reported = 0;
  uint32_t capacity = 0, used = 0, series_size = 0;
  if (!take(in, at, models) || !take(in, at, states) || !take(in, at, total_reported) || !take(in, at, capacity) ||
      !take(in, at, used) ||
      !take(in, at, series_size)) {
    return fail("is truncated");
  }
  if (series_size != sizeof(ServerSeries)) return fail("was written by a build with another model layout");
  if (capacity != series_.size()) {
    return fail("keeps " + std::to_string(capacity) + " server series, this run " + std::to_string(series_.size()) +
                " (--alert-servers)");
  }
  if (used > capacity || in.size() - at != size_t{capacity} * sizeof(ServerSeries) + sizeof(uint64_t)) {
    return fail("is truncated");
  }
  std::memcpy(static_cast<void*>(series_.data()), in.data() + at, size_t{capacity} * sizeof(ServerSeries));
  used_series_ = used;
  rebuild_index();
  models_ = models;
  states_ = states;
  total_reported_ = total_reported != 0;
  next_start_ns_ = next_start;
  started_ = started != 0;
  return true;
}

}  // namespace synscope::alerts
