// top: see top.hpp.
#include "top/top.hpp"

#include <algorithm>
#include <tuple>

#include "tcp_session/tcp_session.hpp"

namespace synscope::top {

namespace {

constexpr uint64_t kMinuteNs = 60'000'000'000;

auto order(const Key& k) { return std::tie(k.addr.bytes, k.peer.bytes, k.port, k.ip_version); }

std::string ip_text(const packet::IpAddr& a, uint8_t version) {
  char buf[64];
  const size_t n = packet::format_ip(a, version, buf, sizeof(buf));
  return std::string(buf, n);
}

std::string endpoint_text(const packet::IpAddr& a, uint16_t port, uint8_t version) {
  const std::string ip = ip_text(a, version);
  return (version == 6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

int reason_index(tcp_session::ConnState s) noexcept {
  for (size_t i = 0; i < tcp_session::kFailedStates.size(); ++i) {
    if (tcp_session::kFailedStates[i].state == s) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

std::string_view kind_name(Kind k) noexcept {
  switch (k) {
    case Kind::kServers: return "servers";
    case Kind::kClients: return "clients";
    case Kind::kServerPorts: return "server_ports";
    case Kind::kConversations: return "conversations";
    case Kind::kServerRst: return "server_rst";
    case Kind::kClientRst: return "client_rst";
    case Kind::kSynRetries: return "syn_retries";
  }
  return "";
}

std::string_view window_name(Window w) noexcept {
  switch (w) {
    case Window::kBucket: return "bucket";
    case Window::k15m: return "15m";
    case Window::k1h: return "1h";
    case Window::k24h: return "24h";
  }
  return "";
}

std::string key_text(Kind k, const Key& key) {
  switch (k) {
    case Kind::kServers:
    case Kind::kServerRst:
    case Kind::kSynRetries: return endpoint_text(key.addr, key.port, key.ip_version);
    case Kind::kClients:
    case Kind::kClientRst: return ip_text(key.addr, key.ip_version);
    case Kind::kServerPorts: return std::to_string(key.port);
    case Kind::kConversations:
      return ip_text(key.addr, key.ip_version) + " -> " + endpoint_text(key.peer, key.port, key.ip_version);
  }
  return "";
}

TopViews::TopViews(uint64_t bucket_span_ns)
    : bucket_span_ns_(std::max<uint64_t>(bucket_span_ns, 1)), minutes_(kMinutes), quarters_(kQuarters) {}

uint64_t TopViews::bytes() noexcept { return sizeof(TopViews) + (kMinutes + kQuarters) * sizeof(Slot); }

void TopViews::count(Slot& slot, Kind kind, const Key& key, uint64_t n, int reason) noexcept {
  auto& counters = slot.kinds[static_cast<size_t>(kind)];
  Counter* least = &counters[0];
  for (Counter& c : counters) {
    if (c.count != 0 && c.key == key) {
      c.count += n;
      if (reason >= 0) c.reasons[static_cast<size_t>(reason)] += static_cast<uint32_t>(n);
      return;
    }
    if (c.count < least->count) least = &c;
  }
  // Space-Saving: the key takes the smallest counter (or an empty one) and inherits its count as its error.
  least->key = key;
  least->error = least->count;
  least->count += n;
  least->reasons = {};
  if (reason >= 0) least->reasons[static_cast<size_t>(reason)] = static_cast<uint32_t>(n);
}

TopViews::Slot* TopViews::slot_for(std::vector<Slot>& ring, uint64_t tag, uint64_t newest) noexcept {
  if (tag + ring.size() <= newest) return nullptr;  // older than the ring holds
  Slot& s = ring[tag % ring.size()];
  if (s.tag == tag) return &s;
  if (s.tag != UINT64_MAX && s.tag > tag) return nullptr;
  s.tag = tag;
  s.kinds = {};
  return &s;
}

void TopViews::add(const engine::SessionRecord& r) noexcept {
  const uint64_t minute = r.session->first_ns / kMinuteNs;
  newest_minute_ = std::max(newest_minute_, minute);
  Slot* slots[2] = {slot_for(minutes_, minute, newest_minute_), slot_for(quarters_, minute / 15, newest_minute_ / 15)};
  if (slots[1] == nullptr) {
    ++late_;
    return;
  }
  const Key server{r.resp_h, {}, r.resp_p, r.ip_version};
  const Key client{r.orig_h, {}, 0, r.ip_version};
  const int reason = reason_index(r.state);
  const tcp_session::Session& s = *r.session;
  for (Slot* slot : slots) {
    if (slot == nullptr) continue;
    if (reason >= 0) {
      count(*slot, Kind::kServers, server, 1, reason);
      count(*slot, Kind::kClients, client, 1, reason);
      count(*slot, Kind::kServerPorts, Key{{}, {}, r.resp_p, 0}, 1, reason);
      count(*slot, Kind::kConversations, Key{r.orig_h, r.resp_h, r.resp_p, r.ip_version}, 1, reason);
    }
    if (s.marks[1].rst > 0) count(*slot, Kind::kServerRst, server, 1, reason);
    if (s.marks[0].rst > 0) count(*slot, Kind::kClientRst, client, 1, reason);
    if (s.marks[0].syn > 1) count(*slot, Kind::kSynRetries, server, s.marks[0].syn - 1u, reason);
  }
}

void TopViews::merge(const std::vector<const Slot*>& slots, Kind kind, View::List& out) const {
  const auto k = static_cast<size_t>(kind);
  struct Seen {
    Counter c;
    uint64_t least_present = 0;  ///< the smallest counters of the slots where the key is tracked
  };
  std::vector<Seen> all;
  uint64_t least_all = 0;  // a key absent from a full slot counted at most that slot's smallest counter there
  for (const Slot* s : slots) {
    uint64_t least = UINT64_MAX;
    for (const Counter& c : s->kinds[k]) least = std::min(least, c.count);
    for (const Counter& c : s->kinds[k]) {
      if (c.count != 0) all.push_back({c, least});
    }
    least_all += least;
  }
  std::sort(all.begin(), all.end(), [](const Seen& a, const Seen& b) { return order(a.c.key) < order(b.c.key); });
  std::vector<Counter> merged;
  for (size_t i = 0; i < all.size();) {
    Counter c = all[i].c;
    uint64_t present = all[i].least_present;
    size_t j = i + 1;
    for (; j < all.size() && all[j].c.key == c.key; ++j) {
      c.count += all[j].c.count;
      c.error += all[j].c.error;
      present += all[j].least_present;
      for (size_t r = 0; r < kReasons; ++r) c.reasons[r] += all[j].c.reasons[r];
    }
    c.count += least_all - present;  // what the key may have had in the slots that do not track it
    c.error += least_all - present;
    merged.push_back(c);
    i = j;
  }
  const size_t n = std::min(merged.size(), kShown);
  std::partial_sort(merged.begin(), merged.begin() + static_cast<std::ptrdiff_t>(n), merged.end(),
                    [](const Counter& a, const Counter& b) {
                      return a.count - a.error != b.count - b.error ? a.count - a.error > b.count - b.error
                                                                    : order(a.key) < order(b.key);
                    });
  out.size = static_cast<uint32_t>(n);
  std::copy_n(merged.begin(), n, out.entries.begin());
}

View TopViews::snapshot() const {
  View v;
  v.late_sessions = late_;
  const uint64_t m = newest_minute_;
  const auto minutes = [&](uint64_t first, uint64_t last) {  // [first, last]
    std::vector<const Slot*> out;
    for (uint64_t t = first; t <= last; ++t) {
      const Slot& s = minutes_[t % kMinutes];
      if (s.tag == t) out.push_back(&s);
    }
    return out;
  };
  std::array<std::vector<const Slot*>, kWindows> slots;
  const uint64_t b0 = bucket_start_ns_ / kMinuteNs;
  const uint64_t b1 = std::max(b0 + 1, (bucket_start_ns_ + bucket_span_ns_ + kMinuteNs - 1) / kMinuteNs);
  slots[0] = minutes(b0 + kMinutes > m ? b0 : m, b1 - 1);
  v.from_s[0] = b0 * 60;
  v.to_s[0] = b1 * 60;
  slots[1] = minutes(m >= 14 ? m - 14 : 0, m);
  v.from_s[1] = (m >= 14 ? m - 14 : 0) * 60;
  slots[2] = minutes(m >= 59 ? m - 59 : 0, m);
  v.from_s[2] = (m >= 59 ? m - 59 : 0) * 60;
  v.to_s[1] = v.to_s[2] = (m + 1) * 60;
  const uint64_t q = m / 15;
  for (uint64_t t = q >= kQuarters - 1 ? q - (kQuarters - 1) : 0; t <= q; ++t) {
    const Slot& s = quarters_[t % kQuarters];
    if (s.tag == t) slots[3].push_back(&s);
  }
  v.from_s[3] = (q >= kQuarters - 1 ? q - (kQuarters - 1) : 0) * 900;
  v.to_s[3] = (q + 1) * 900;
  for (size_t w = 0; w < kWindows; ++w) {
    for (size_t k = 0; k < kKinds; ++k) merge(slots[w], static_cast<Kind>(k), v.lists[w][k]);
  }
  return v;
}

}  // namespace synscope::top
