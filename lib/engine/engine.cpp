// engine: see engine.hpp.
#include "engine/engine.hpp"

#include <cstring>

namespace synscope::engine {

using packet::FrameClass;
using tcp_session::ConnState;
namespace tf = packet::tcp_flag;

namespace {

constexpr uint32_t kMaxBurst = 64;

// Sweeping reads a few lines of an entry that is usually not in cache; at one entry per packet it was ~5%
// of a replay's engine-thread time. One per four packets gave the same sessions, buckets and table size on
// bench-1m.pcap (the walk floor in maintain() still bounds how late a finished session is reported).
constexpr uint64_t kPacketsPerSweptEntry = 4;

}  // namespace

// ---- NetworkSet ---------------------------------------------------------------------------------------

bool NetworkSet::add(std::string_view cidr) {
  const size_t slash = cidr.find('/');
  Prefix p{};
  packet::IpAddr addr;
  if (!packet::parse_ip(cidr.substr(0, slash), addr, p.ip_version)) return false;
  const unsigned max_len = p.ip_version == 4 ? 32 : 128;
  unsigned len = max_len;
  if (slash != std::string_view::npos) {
    const std::string_view digits = cidr.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return false;
    len = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return false;
      len = len * 10 + static_cast<unsigned>(c - '0');
    }
    if (len > max_len) return false;
  }
  uint8_t mask_bytes[16] = {};
  for (unsigned bit = 0; bit < len; ++bit) mask_bytes[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
  std::memcpy(p.mask, mask_bytes, 16);
  std::memcpy(p.word, addr.bytes.data(), 16);
  p.word[0] &= p.mask[0];
  p.word[1] &= p.mask[1];
  prefixes_.push_back(p);
  text_.emplace_back(cidr);
  return true;
}

bool NetworkSet::contains(const packet::IpAddr& addr, uint8_t ip_version) const noexcept {
  uint64_t a[2];
  std::memcpy(a, addr.bytes.data(), 16);
  for (const Prefix& p : prefixes_) {
    if (p.ip_version == ip_version && (a[0] & p.mask[0]) == p.word[0] && (a[1] & p.mask[1]) == p.word[1]) {
      return true;
    }
  }
  return false;
}

NetworkSet NetworkSet::defaults() {
  NetworkSet s;
  for (const char* c : {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16",
                        "fc00::/7", "fe80::/10"}) {
    (void)s.add(c);
  }
  return s;
}

std::string_view end_reason_name(EndReason r) noexcept {
  switch (r) {
    case EndReason::kTimeout: return "timeout";
    case EndReason::kReuse: return "reuse";
    case EndReason::kEvicted: return "evicted";
    case EndReason::kEndOfInput: return "end_of_input";
  }
  return "timeout";
}

uint64_t EngineCounters::accounted() const noexcept {
  uint64_t sum = dropped_table_full;
  for (uint64_t v : by_frame_class) sum += v;
  return sum;
}

namespace {

constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Two base-62 digits per entry, least significant first (the order format_uid writes them): entry r holds
/// the digits of r % 62 and r / 62, so a 64-bit uid takes 6 divisions instead of 11.
constexpr std::array<char, 2 * 62 * 62> make_base62_pairs() {
  std::array<char, 2 * 62 * 62> pairs{};
  for (size_t r = 0; r < 62 * 62; ++r) {
    pairs[2 * r] = kBase62[r % 62];
    pairs[2 * r + 1] = kBase62[r / 62];
  }
  return pairs;
}
constexpr std::array<char, 2 * 62 * 62> kBase62Pairs = make_base62_pairs();

}  // namespace

size_t format_uid(uint64_t uid, char* buf) noexcept {
  // Digits least significant first, one at least (Zeek's order is irrelevant: uids only need to be unique
  // and stable within a run; this is the order synscope has always written).
  buf[0] = 'C';
  size_t n = 1;
  while (uid >= 62) {
    const uint64_t q = uid / (62 * 62);
    std::memcpy(buf + n, &kBase62Pairs[2 * (uid - q * 62 * 62)], 2);
    n += 2;
    uid = q;
    if (uid == 0) return n;
  }
  buf[n++] = kBase62[uid];
  return n;
}

buckets::SessionSummary summarize(const SessionRecord& rec) noexcept {
  const tcp_session::Session& s = *rec.session;
  buckets::SessionSummary sum;
  sum.first_ns = s.first_ns;
  sum.perspective = rec.perspective;
  sum.state = rec.state;
  sum.attempt = tcp_session::is_attempt(s);
  sum.established = tcp_session::handshake_completed(s);
  sum.failed = tcp_session::is_failed(rec.state);
  sum.orig_rst = s.ep[0].rst > 0;
  sum.resp_rst = s.ep[1].rst > 0;
  sum.orig_fin = s.ep[0].fin > 0;
  sum.resp_fin = s.ep[1].fin > 0;
  return sum;
}

// ---- SessionEngine ------------------------------------------------------------------------------------

SessionEngine::SessionEngine(const EngineConfig& config, SessionSink* sessions, buckets::BucketSink* buckets)
    : config_(config),
      session_sink_(sessions),
      bucket_sink_(buckets),
      table_(config.flow_capacity, config.hasher, config.index_sizing),
      ring_(config.bucket_span_ns, config.bucket_settle_ns),
      uid_seed_(table_.hash(flow::FlowKey{}) ^ (uint64_t{config.core_id} << 48)) {}

void SessionEngine::process_burst(const ParsedPacket* pkts, uint32_t n) noexcept {
  // Three passes over each chunk, as DPDK's bulk hash lookups do: (1) keys and their keyed hashes,
  // prefetch index lines; (2) read index lines, prefetch the matching entries; (3) handle packets in order.
  // With ~70k live sessions the entries do not fit in cache and one DRAM miss per packet dominated replay
  // time; the passes overlap those misses instead of paying them one after another.
  while (n > 0) {
    const uint32_t chunk = n < kMaxBurst ? n : kMaxBurst;
    // Key slots left uninitialised: FlowKey's member initialisers zeroed 2.5 KiB per chunk (a `rep stos`,
    // 4% of this function), and a slot is only read where tracked[i] says it was written.
    union KeySlot {
      KeySlot() noexcept {}
      flow::FlowKey key;
    };
    KeySlot keys[kMaxBurst];
    uint64_t hashes[kMaxBurst];
    bool from_lo[kMaxBurst];
    bool tracked[kMaxBurst];
    for (uint32_t i = 0; i < chunk; ++i) {
      tracked[i] = is_tracked(pkts[i].frame_class);
      if (tracked[i]) {
        keys[i].key = flow::make_key(pkts[i].meta, from_lo[i]);
        hashes[i] = config_.hasher(keys[i].key);
        table_.prefetch(hashes[i]);
      }
    }
    for (uint32_t i = 0; i < chunk; ++i) {
      if (tracked[i]) table_.prefetch_entry(hashes[i]);
    }
    for (uint32_t i = 0; i < chunk; ++i) {
      const ParsedPacket& p = pkts[i];
      ++counters_.received;
      if (p.ts_ns > watermark_ns_) watermark_ns_ = p.ts_ns;
      if (tracked[i]) {
        handle(p, keys[i].key, hashes[i], from_lo[i]);
      } else {
        ++counters_.by_frame_class[static_cast<size_t>(p.frame_class)];
      }
    }
    pkts += chunk;
    n -= chunk;
  }
  maintain(/*idle=*/false);
}

void SessionEngine::advance(uint64_t now_ns) noexcept {
  if (now_ns > watermark_ns_) watermark_ns_ = now_ns;
  maintain(/*idle=*/true);
}

void SessionEngine::maintain(bool idle) noexcept {
  // Expiry sweeps run once per millisecond of packet time with a slice of high_water/1024 entries (at
  // least sweep_slice), so the whole table is walked about once per second of packet time at high rates.
  // While packets flow the slice is also capped at one entry per kPacketsPerSweptEntry packets since the
  // last sweep, so no traffic pays many entry checks per packet; when idle (advance() without packets) the
  // full slice runs. A floor keeps the walk complete at least once per quarter of bucket_settle of packet time, so a
  // finished session is always reported before its bucket is emitted (never "late" for lack of sweeping).
  // Verdicts do not depend on any of it: handle() checks expiry on every lookup.
  if (watermark_ns_ < next_sweep_ns_) return;
  const uint64_t elapsed = last_sweep_ns_ == 0 ? kSweepPeriodNs : watermark_ns_ - last_sweep_ns_;
  last_sweep_ns_ = watermark_ns_;
  next_sweep_ns_ = watermark_ns_ + kSweepPeriodNs;
  const uint32_t high_water = table_.high_water();
  const uint32_t proportional = high_water / 1024 + 1;
  uint64_t budget = proportional > config_.sweep_slice ? proportional : config_.sweep_slice;
  const uint64_t by_packets = (counters_.received - received_at_sweep_) / kPacketsPerSweptEntry;
  received_at_sweep_ = counters_.received;
  if (!idle && by_packets < budget) budget = by_packets;
  const uint64_t walk_ns = config_.bucket_settle_ns / 4 > kSweepPeriodNs ? config_.bucket_settle_ns / 4 : kSweepPeriodNs;
  const double floor = static_cast<double>(high_water) * static_cast<double>(elapsed) / static_cast<double>(walk_ns);
  if (static_cast<double>(budget) < floor) budget = static_cast<uint64_t>(floor) + 1;
  if (budget > high_water) budget = high_water;
  sweep(static_cast<uint32_t>(budget));
  settled_ns_ = watermark_ns_;
  if (bucket_sink_ != nullptr) ring_.advance(watermark_ns_, *bucket_sink_);
}

void SessionEngine::open_session(FlowEntry& e, const ParsedPacket& p, bool from_lo) noexcept {
  e.uid = flow::splitmix64(uid_seed_ + ++uid_counter_);
  tcp_session::start(e.session, p.meta, from_lo, p.ts_ns, config_.session);
  if ((p.meta.flags & (tf::kRst | tf::kSyn | tf::kFin)) == tf::kRst) ++counters_.rst_without_connection;
}

void SessionEngine::handle(const ParsedPacket& p, const flow::FlowKey& key, uint64_t hash, bool from_lo) noexcept {
  uint32_t idx = table_.find(key, hash);
  if (idx != flow::FlowTable<FlowEntry>::kNone) {
    FlowEntry& e = table_.at(idx);
    const bool expired = timed_out(e, p.ts_ns);
    if (expired || tcp_session::is_reuse(e.session, p.meta, from_lo)) {
      // Zeek removes the old connection before this packet and starts a new one on the same 5-tuple.
      finalize(idx, expired ? EndReason::kTimeout : EndReason::kReuse);
      open_session(e, p, from_lo);
    } else if ((p.meta.flags & (tf::kSyn | tf::kAck)) == tf::kSyn && p.frame_class == FrameClass::kTcp &&
               e.session.ep[0].syn > 0 && p.meta.seq == e.session.ep[0].start_seq) {
      ++counters_.syn_retransmits;
    }
  } else {
    idx = table_.insert(key, hash);
    if (idx == flow::FlowTable<FlowEntry>::kNone) {
      if (make_room() == 0) {
        ++counters_.dropped_table_full;
        return;
      }
      idx = table_.insert(key, hash);
    }
    FlowEntry& fresh = table_.at(idx);
    // Once per entry, not per session: a session reopened on the same 5-tuple (reuse, timeout) keeps them.
    fresh.lo_internal = config_.internal.contains(key.addr_lo, key.ip_version);
    fresh.hi_internal = config_.internal.contains(key.addr_hi, key.ip_version);
    open_session(fresh, p, from_lo);
  }
  FlowEntry& e = table_.at(idx);
  if (p.frame_class == FrameClass::kBadChecksum) {
    tcp_session::record_bad_checksum(e.session, from_lo);
    ++counters_.by_frame_class[static_cast<size_t>(FrameClass::kBadChecksum)];
    return;
  }
  if (tcp_session::update(e.session, p.meta, from_lo, p.ts_ns, config_.session)) {
    const uint64_t rtt = e.session.handshake_ack_ns - e.session.syn_ns;
    ++counters_.handshakes;
    counters_.handshake_rtt_ns_sum += rtt;
    size_t b = 0;
    while (b < kRttBoundsNs.size() && rtt > kRttBoundsNs[b]) ++b;
    ++counters_.handshake_rtt_hist[b];
  }
  if ((p.meta.flags & (tf::kFin | tf::kRst)) != 0 && !e.session.counted_as &&
      tcp_session::is_closed(e.session)) {
    count_verdict(e, tcp_session::conn_state(e.session), perspective_of(e));
  }
  ++counters_.by_frame_class[static_cast<size_t>(FrameClass::kTcp)];
}

uint32_t SessionEngine::make_room() noexcept {
  const uint32_t cap = table_.high_water();
  if (cap == 0) return 0;
  // Scan a bounded window: take the first expired or SYN-only entry, else the longest idle one.
  uint32_t victim = flow::FlowTable<FlowEntry>::kNone;
  uint64_t oldest = UINT64_MAX;
  bool victim_syn_only = false;
  for (uint32_t k = 0; k < config_.evict_scan; ++k) {
    const uint32_t idx = step_cursor(evict_cursor_, cap);
    if (!table_.in_use(idx)) continue;
    if (expire_if_due(idx)) return 1;
    const FlowEntry& e = table_.at(idx);
    const auto& o = e.session.ep[0];
    const auto& r = e.session.ep[1];
    const bool syn_only = o.state == tcp_session::EndpointState::kSynSent &&
                          r.state == tcp_session::EndpointState::kInactive;
    if (syn_only && !victim_syn_only) {
      victim = idx;
      victim_syn_only = true;
      oldest = e.session.last_packet_ns;
    } else if (syn_only == victim_syn_only && e.session.last_packet_ns < oldest) {
      victim = idx;
      oldest = e.session.last_packet_ns;
    }
  }
  if (victim == flow::FlowTable<FlowEntry>::kNone) return 0;
  ++(victim_syn_only ? counters_.evicted_syn_only : counters_.evicted_other);
  finalize(victim, EndReason::kEvicted);
  table_.erase(victim);
  return 1;
}

void SessionEngine::sweep(uint32_t budget) noexcept {
  const uint32_t cap = table_.high_water();
  if (cap == 0 || table_.size() == 0) return;
  for (uint32_t k = 0; k < budget; ++k) {
    const uint32_t idx = step_cursor(sweep_cursor_, cap);
    if (table_.in_use(idx)) (void)expire_if_due(idx);
  }
}

uint32_t SessionEngine::step_cursor(uint32_t& cursor, uint32_t limit) noexcept {
  // `limit` is the table's high-water mark, which never shrinks, so the cursor is always below it.
  const uint32_t idx = cursor;
  cursor = idx + 1 == limit ? 0 : idx + 1;
  return idx;
}

bool SessionEngine::expire_if_due(uint32_t idx) noexcept {
  if (!timed_out(table_.at(idx), watermark_ns_)) return false;
  finalize(idx, EndReason::kTimeout);
  table_.erase(idx);
  return true;
}

buckets::Perspective SessionEngine::perspective_of(const FlowEntry& e) const noexcept {
  const bool orig_lo = e.session.ep[0].is_lo;
  const bool orig_internal = orig_lo ? e.lo_internal : e.hi_internal;
  const bool resp_internal = orig_lo ? e.hi_internal : e.lo_internal;
  using buckets::Perspective;
  return orig_internal ? (resp_internal ? Perspective::kPrivate : Perspective::kOutbound)
                       : (resp_internal ? Perspective::kInbound : Perspective::kEdge);
}

void SessionEngine::count_verdict(FlowEntry& e, tcp_session::ConnState state,
                                  buckets::Perspective perspective) noexcept {
  // Called from handle() for a packet that closed the session, or from finalize(); Session::counted_as
  // makes it once per session.
  e.session.counted_as = state;
  ++counters_.sessions;
  ++counters_.by_state[static_cast<size_t>(state)][static_cast<size_t>(perspective)];
  if (tcp_session::is_failed(state)) ++counters_.failed[static_cast<size_t>(perspective)];
  const auto& o = e.session.ep[0];
  const auto& r = e.session.ep[1];
  counters_.teardown[static_cast<size_t>(Teardown::kOrigFin)] += o.fin > 0;
  counters_.teardown[static_cast<size_t>(Teardown::kRespFin)] += r.fin > 0;
  counters_.teardown[static_cast<size_t>(Teardown::kOrigRst)] += o.rst > 0;
  counters_.teardown[static_cast<size_t>(Teardown::kRespRst)] += r.rst > 0;
}

void SessionEngine::finalize(uint32_t idx, EndReason why) noexcept {
  FlowEntry& e = table_.at(idx);
  const tcp_session::Session& s = e.session;
  SessionRecord rec;
  rec.session = &s;
  rec.ip_version = e.key.ip_version;
  const bool orig_lo = s.ep[0].is_lo;
  rec.orig_h = orig_lo ? e.key.addr_lo : e.key.addr_hi;
  rec.resp_h = orig_lo ? e.key.addr_hi : e.key.addr_lo;
  rec.orig_p = orig_lo ? e.key.port_lo : e.key.port_hi;
  rec.resp_p = orig_lo ? e.key.port_hi : e.key.port_lo;
  rec.uid = e.uid;
  rec.state = tcp_session::conn_state(s);
  rec.end = why;
  rec.emitted_ns = watermark_ns_;
  rec.settled_ns = settled_ns_;
  rec.perspective = perspective_of(e);
  if (!s.counted_as) {
    count_verdict(e, rec.state, rec.perspective);
  } else if (*s.counted_as != rec.state) {
    ++counters_.verdict_changed_after_close;
  }
  if (bucket_sink_ != nullptr) ring_.add(summarize(rec), watermark_ns_);
  if (session_sink_ != nullptr) session_sink_->on_session(rec);
}

void SessionEngine::finish() noexcept {
  // A session whose timers had already fired by the last packet's time ended by timeout, however far the
  // lazy sweep had got; only the rest are cut by the end of input. This keeps `end` independent of sweep
  // timing (replay and a live engine that idled until the same time agree).
  for (uint32_t idx = 0; idx < table_.high_water(); ++idx) {
    if (!table_.in_use(idx)) continue;
    finalize(idx, timed_out(table_.at(idx), watermark_ns_) ? EndReason::kTimeout : EndReason::kEndOfInput);
  }
  // All reported: one clear() instead of an erase per entry (each a probe-run shift in a cold index).
  table_.clear();
  if (bucket_sink_ != nullptr) ring_.flush(*bucket_sink_);
}

}  // namespace synscope::engine
