// engine: see engine.hpp.
#include "engine/engine.hpp"

#include <cstring>
#include <type_traits>

namespace synscope::engine {

using packet::FrameClass;
using tcp_session::ConnState;
namespace tf = packet::tcp_flag;

namespace {

// Sweeping reads a few lines of an entry that is usually not in cache, so while packets flow a sweep visits
// at most one entry per four packets (the walk floor in maintain() still bounds how late a finished session
// is reported). Verdicts never depend on it: every lookup checks expiry itself.
constexpr uint64_t kPacketsPerSweptEntry = 4;

}  // namespace

std::string_view end_reason_name(EndReason r) noexcept {
  switch (r) {
    case EndReason::kTimeout: return "timeout";
    case EndReason::kReuse: return "reuse";
    case EndReason::kEvicted: return "evicted";
    case EndReason::kEndOfInput: return "end_of_input";
    case EndReason::kShutdown: return "shutdown";
  }
  return "timeout";
}

std::string_view session_end_name(SessionEnd e) noexcept {
  switch (e) {
    case SessionEnd::kFin: return "fin";
    case SessionEnd::kRstOrig: return "rst_orig";
    case SessionEnd::kRstResp: return "rst_resp";
    case SessionEnd::kIdle: return "idle";
    case SessionEnd::kReused: return "reused";
    case SessionEnd::kEvicted: return "evicted";
    case SessionEnd::kEndOfInput: return "end_of_input";
    case SessionEnd::kShutdown: return "shutdown";
  }
  return "idle";
}

SessionEnd session_end(const SessionRecord& record) noexcept {
  using tcp_session::EndpointState;
  const tcp_session::Session& s = *record.session;
  // ep[0] is the originator (the record's orientation), so the states say who reset or closed.
  if (s.ep[0].state == EndpointState::kReset) return SessionEnd::kRstOrig;
  if (s.ep[1].state == EndpointState::kReset) return SessionEnd::kRstResp;
  if (s.ep[0].state == EndpointState::kClosed && s.ep[1].state == EndpointState::kClosed) return SessionEnd::kFin;
  switch (record.end) {
    case EndReason::kTimeout: return SessionEnd::kIdle;
    case EndReason::kReuse: return SessionEnd::kReused;
    case EndReason::kEvicted: return SessionEnd::kEvicted;
    case EndReason::kEndOfInput: return SessionEnd::kEndOfInput;
    case EndReason::kShutdown: return SessionEnd::kShutdown;
  }
  return SessionEnd::kIdle;
}

uint64_t EngineCounters::accounted() const noexcept {
  uint64_t sum = dropped_table_full + dropped_implausible_time;
  for (uint64_t v : by_frame_class) sum += v;
  return sum;
}

namespace {
template <class T, size_t N>
void add_each(std::array<T, N>& to, const std::array<T, N>& from) noexcept {
  for (size_t i = 0; i < N; ++i) {
    if constexpr (std::is_integral_v<T>) {
      to[i] += from[i];
    } else {
      add_each(to[i], from[i]);
    }
  }
}
}  // namespace

EngineCounters& EngineCounters::operator+=(const EngineCounters& o) noexcept {
  // Every member by name: a new counter that is not added here fails the size check below.
  static_assert(sizeof(EngineCounters) ==
                    sizeof(uint64_t) * (14 + packet::kFrameClassCount + packet::kEncapsulationCount +
                                        tcp_session::kConnStateCount * buckets::kPerspectiveCount +
                                        buckets::kPerspectiveCount + kTeardownCount + kRttBoundsNs.size() + 1) +
                        sizeof(tcp_session::ContentStats),
                "EngineCounters gained a member: add it to operator+=");
  received += o.received;
  add_each(by_frame_class, o.by_frame_class);
  add_each(by_encapsulation, o.by_encapsulation);
  dropped_table_full += o.dropped_table_full;
  dropped_implausible_time += o.dropped_implausible_time;
  time_jumps += o.time_jumps;
  time_jump_unconfirmed_at_end += o.time_jump_unconfirmed_at_end;
  evicted_syn_only += o.evicted_syn_only;
  evicted_other += o.evicted_other;
  sessions += o.sessions;
  add_each(by_state, o.by_state);
  add_each(failed, o.failed);
  add_each(teardown, o.teardown);
  verdict_changed_after_close += o.verdict_changed_after_close;
  rst_without_connection += o.rst_without_connection;
  syn_retransmits += o.syn_retransmits;
  handshakes += o.handshakes;
  handshake_rtt_ns_sum += o.handshake_rtt_ns_sum;
  add_each(handshake_rtt_hist, o.handshake_rtt_hist);
  static_assert(sizeof(tcp_session::ContentStats) == (6 + 2 * tcp_session::kCapturePorts) * sizeof(uint64_t),
                "ContentStats gained a member");
  content.ack_events += o.content.ack_events;
  content.ack_bytes += o.content.ack_bytes;
  content.gap_events += o.content.gap_events;
  content.gap_bytes += o.content.gap_bytes;
  content.slots_exhausted += o.content.slots_exhausted;
  content.blocks_merged += o.content.blocks_merged;
  add_each(content.port_ack_events, o.content.port_ack_events);
  add_each(content.port_gap_events, o.content.port_gap_events);
  missed_bytes += o.missed_bytes;
  return *this;
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
  sum.orig_rst = s.marks[0].rst > 0;
  sum.resp_rst = s.marks[1].rst > 0;
  sum.orig_fin = s.marks[0].fin > 0;
  sum.resp_fin = s.marks[1].fin > 0;
  return sum;
}

// ---- SessionEngine ------------------------------------------------------------------------------------

SessionEngine::SessionEngine(const EngineConfig& config, SessionSink& sessions)
    : config_(config),
      session_sink_(sessions),
      table_(config.flow_capacity, config.hasher, config.index_sizing),
      syn_opened_(syn_queue_capacity(config.flow_capacity)),
      content_(content_slot_count(config.flow_capacity), counters_.content),
      uid_seed_(table_.hash(flow::FlowKey{}) ^ (uint64_t{config.core_id} << 48)) {}

uint64_t SessionEngine::flow_state_bytes(uint32_t capacity) noexcept {
  return flow::FlowTable<FlowEntry>::bytes_when_full(capacity) +
         flow::EntryQueue::bytes_when_full(syn_queue_capacity(capacity)) +
         tcp_session::ContentPool::bytes_for(content_slot_count(capacity));
}

uint64_t SessionEngine::bytes_when_full(const EngineConfig& config) noexcept {
  return sizeof(SessionEngine) + flow_state_bytes(config.flow_capacity);
}

uint64_t SessionEngine::capacity_for(uint64_t bytes) noexcept {
  // The memory grows with capacity (the index in powers of two): the largest fitting capacity by bisection.
  uint64_t lo = 0, hi = uint64_t{1} << 28;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo + 1) / 2;
    if (flow_state_bytes(static_cast<uint32_t>(mid)) <= bytes) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

void SessionEngine::process_burst(const ParsedPacket* pkts, uint32_t n) noexcept {
  // A software pipeline over the burst, three stages kPrefetchDistance packets apart: (1) the key and its
  // keyed hash, prefetching the index line; (2) reading that index line, prefetching the matching entry's
  // lines (or, for a flow not in the table, the entry the next insert will take); (3) handling the packet,
  // in order. Once the live entries outgrow the cache every packet costs an index miss and entry misses
  // (and, on a VM, page walks); the pipeline keeps a bounded number of them in flight, overlapped with the
  // handling of earlier packets, where whole-chunk passes issued hundreds at once and then waited for them.
  const uint64_t max_jump = config_.max_time_jump_ns;
  // Key slots left uninitialised: FlowKey's member initialisers would zero them on every call (a `rep
  // stos`), and a slot is only read where tracked[] says it was written.
  union KeySlot {
    KeySlot() noexcept {}
    flow::FlowKey key;
  };
  KeySlot keys[kPipelineSlots];
  uint64_t hashes[kPipelineSlots];
  bool from_lo[kPipelineSlots];
  bool tracked[kPipelineSlots];
  // Inserts stage 2 expects and stage 3 has made since: which free entry the next expected insert takes.
  uint32_t inserts_expected = 0;
  const uint64_t inserts_before = inserts_;
  for (uint32_t i = 0; i < n + 2 * kPrefetchDistance; ++i) {
    if (i < n) {
      const uint32_t k = i % kPipelineSlots;
      tracked[k] = is_tracked(pkts[i].frame_class);
      if (tracked[k]) {
        keys[k].key = flow::make_key(pkts[i].meta, from_lo[k]);
        hashes[k] = config_.hasher(keys[k].key);
        table_.prefetch(hashes[k]);
      }
    }
    if (i >= kPrefetchDistance && i - kPrefetchDistance < n) {
      const uint32_t j = i - kPrefetchDistance;
      const uint32_t k = j % kPipelineSlots;
      if (tracked[k]) {
        // A plain segment reads three of the entry's four lines; a SYN, FIN or RST all of them.
        const bool control = (pkts[j].meta.flags & (tf::kSyn | tf::kFin | tf::kRst)) != 0;
        if (!table_.prefetch_entry(hashes[k], control ? sizeof(FlowEntry) : kPlainSegmentBytes)) {
          const uint64_t made = inserts_ - inserts_before;
          table_.prefetch_free(made < inserts_expected ? inserts_expected - static_cast<uint32_t>(made) : 0);
          ++inserts_expected;
        }
      }
    }
    if (i < 2 * kPrefetchDistance || i - 2 * kPrefetchDistance >= n) continue;
    const uint32_t j = i - 2 * kPrefetchDistance;
    const uint32_t k = j % kPipelineSlots;
    const ParsedPacket& p = pkts[j];
    // Frames far ahead of the engine's time, and every frame while some are held, take the (cold, out of
    // line) path that confirms or drops the jump; the common path adds a test of held_n_ and one compare.
    if (__builtin_expect(held_n_ != 0, 0)) {
      admit_unsettled_time(p, p.ts_ns <= watermark_ns_ || p.ts_ns - watermark_ns_ <= max_jump, j + 1 == n);
      continue;
    }
    if (p.ts_ns > watermark_ns_) {
      if (__builtin_expect(p.ts_ns - watermark_ns_ > max_jump, 0)) {
        admit_unsettled_time(p, false, j + 1 == n);
        continue;
      }
      watermark_ns_ = p.ts_ns;
    }
    ++counters_.received;
    if (__builtin_expect(p.encapsulations != 0, 0)) count_encapsulations(p.encapsulations);
    if (tracked[k]) {
      handle(p, keys[k].key, hashes[k], from_lo[k]);
    } else {
      ++counters_.by_frame_class[static_cast<size_t>(p.frame_class)];
    }
  }
  // With frames held, the burst's last frame is among them: its sweep runs when they are released.
  if (held_n_ == 0) maintain(SweepPace::kWithTraffic);
}

void SessionEngine::count_encapsulations(uint32_t set) noexcept {
  for (; set != 0; set &= set - 1) ++counters_.by_encapsulation[static_cast<size_t>(__builtin_ctz(set))];
}

[[gnu::noinline, gnu::cold]] void SessionEngine::admit_unsettled_time(const ParsedPacket& p, bool in_bound,
                                                                      bool ends_burst) noexcept {
  if (in_bound) {
    // Back within the bound before the jump was confirmed: what is held carried stray stamps.
    drop_held();
    process_one(p, true);
    return;
  }
  if (held_n_ != 0) {
    const uint64_t last = held_[held_n_ - 1].ts_ns;
    if (last > p.ts_ns && last - p.ts_ns > config_.max_time_jump_ns) drop_held();  // not one run of time
  }
  held_ends_burst_[held_n_] = ends_burst;
  held_[held_n_++] = p;
  if (held_n_ >= config_.time_jump_frames || held_n_ == kMaxTimeJumpFrames) {
    counters_.time_jumps += watermark_ns_ != 0;  // the first frames of a run set the clock: not a jump
    release_held(true);
  }
}

void SessionEngine::process_one(const ParsedPacket& p, bool move_clock) noexcept {
  ++counters_.received;
  if (p.encapsulations != 0) count_encapsulations(p.encapsulations);
  if (move_clock && p.ts_ns > watermark_ns_) watermark_ns_ = p.ts_ns;
  if (is_tracked(p.frame_class)) {
    bool from_lo;
    const flow::FlowKey key = flow::make_key(p.meta, from_lo);
    handle(p, key, config_.hasher(key), from_lo);
  } else {
    ++counters_.by_frame_class[static_cast<size_t>(p.frame_class)];
  }
}

void SessionEngine::release_held(bool move_clock) noexcept {
  const uint32_t n = held_n_;
  held_n_ = 0;
  for (uint32_t i = 0; i < n; ++i) {
    process_one(held_[i], move_clock);
    // The sweep that would have followed this frame's burst runs here, so a confirmed jump gives exactly
    // the records (and their order and settle times) of an engine that took it at once.
    if (held_ends_burst_[i]) maintain(SweepPace::kWithTraffic);
  }
}

void SessionEngine::drop_held() noexcept {
  counters_.received += held_n_;
  counters_.dropped_implausible_time += held_n_;
  held_n_ = 0;
}

void SessionEngine::advance(uint64_t now_ns) noexcept {
  if (now_ns > watermark_ns_ && (watermark_ns_ == 0 || now_ns - watermark_ns_ <= config_.max_time_jump_ns)) {
    watermark_ns_ = now_ns;
  }
  if (held_n_ != 0 && (held_[0].ts_ns <= watermark_ns_ || held_[0].ts_ns - watermark_ns_ <= config_.max_time_jump_ns)) {
    release_held(true);  // time caught up with them: plausible after all
  }
  maintain(SweepPace::kIdle);
}

void SessionEngine::maintain(SweepPace pace) noexcept {
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
  if (pace == SweepPace::kWithTraffic && by_packets < budget) budget = by_packets;
  const uint64_t walk_ns =
      config_.bucket_settle_ns / 4 > kSweepPeriodNs ? config_.bucket_settle_ns / 4 : kSweepPeriodNs;
  const double floor = static_cast<double>(high_water) * static_cast<double>(elapsed) / static_cast<double>(walk_ns);
  if (static_cast<double>(budget) < floor) budget = static_cast<uint64_t>(floor) + 1;
  if (budget > high_water) budget = high_water;
  sweep(static_cast<uint32_t>(budget));
  settled_ns_ = watermark_ns_;
}

void SessionEngine::open_session(uint32_t idx, const ParsedPacket& p, bool from_lo) noexcept {
  FlowEntry& e = table_.at(idx);
  tcp_session::start(e.session, p.meta, from_lo, p.ts_ns, config_.session);
  e.session.uid = flow::splitmix64(uid_seed_ + ++uid_counter_);
  const uint8_t control = p.meta.flags & (tf::kRst | tf::kSyn | tf::kFin | tf::kAck);
  if ((control & ~tf::kAck) == tf::kRst) ++counters_.rst_without_connection;
  if (control == tf::kSyn) syn_opened_.push({idx, static_cast<uint32_t>(e.session.uid)});
}

void SessionEngine::handle(const ParsedPacket& p, const flow::FlowKey& key, uint64_t hash, bool from_lo) noexcept {
  uint32_t idx = table_.find(key, hash);
  if (idx != flow::FlowTable<FlowEntry>::kNone) {
    FlowEntry& e = table_.at(idx);
    const bool expired = timed_out(e, p.ts_ns);
    if (expired || tcp_session::is_reuse(e.session, p.meta)) {
      // Zeek removes the old connection before this packet and starts a new one on the same 5-tuple.
      finalize(idx, expired ? EndReason::kTimeout : EndReason::kReuse);
      open_session(idx, p, from_lo);
    } else if ((p.meta.flags & (tf::kSyn | tf::kAck)) == tf::kSyn && p.frame_class == FrameClass::kTcp &&
               e.session.marks[0].syn > 0 && p.meta.seq == e.session.ep[0].start_seq) {
      ++counters_.syn_retransmits;
    }
  } else {
    idx = table_.insert(key, hash);
    ++inserts_;
    if (idx == flow::FlowTable<FlowEntry>::kNone) {
      if (make_room() == 0) {
        ++counters_.dropped_table_full;
        return;
      }
      idx = table_.insert(key, hash);
    }
    // Once per entry, not per session: a session reopened on the same 5-tuple (reuse, timeout) keeps them.
    table_.at(idx).session.owner_bits =
        static_cast<uint8_t>((config_.internal.contains(key.addr_lo, key.ip_version) ? kLoInternal : 0) |
                             (config_.internal.contains(key.addr_hi, key.ip_version) ? kHiInternal : 0));
    open_session(idx, p, from_lo);
  }
  FlowEntry& e = table_.at(idx);
  if (p.frame_class == FrameClass::kBadChecksum) {
    tcp_session::record_bad_checksum(e.session, from_lo);
    ++counters_.by_frame_class[static_cast<size_t>(FrameClass::kBadChecksum)];
    return;
  }
  content_.set_port(static_cast<uint8_t>(p.rx_port));
  if (tcp_session::update(e.session, p.meta, from_lo, p.ts_ns, config_.session, &content_)) {
    const uint64_t rtt = uint64_t{e.session.handshake_ack_mark - e.session.syn_mark} * 1000;
    ++counters_.handshakes;
    counters_.handshake_rtt_ns_sum += rtt;
    size_t b = 0;
    while (b < kRttBoundsNs.size() && rtt > kRttBoundsNs[b]) ++b;
    ++counters_.handshake_rtt_hist[b];
  }
  if ((p.meta.flags & (tf::kFin | tf::kRst)) != 0 && !e.session.counted_as && tcp_session::is_closed(e.session)) {
    count_verdict(e, tcp_session::conn_state(e.session), perspective_of(e));
  }
  ++counters_.by_frame_class[static_cast<size_t>(FrameClass::kTcp)];
}

bool SessionEngine::is_syn_only(const FlowEntry& e) noexcept {
  return e.session.ep[0].state == tcp_session::EndpointState::kSynSent &&
         e.session.ep[1].state == tcp_session::EndpointState::kInactive;
}

void SessionEngine::evict(uint32_t idx, bool syn_only) noexcept {
  ++(syn_only ? counters_.evicted_syn_only : counters_.evicted_other);
  finalize(idx, EndReason::kEvicted);
  table_.erase(idx);
}

uint32_t SessionEngine::make_room() noexcept {
  const uint32_t cap = table_.high_water();
  if (cap == 0) return 0;
  // The oldest session a bare SYN opened that is still SYN-only (or already due): a flood's own entries go
  // first, in the order they came. Items whose session moved on, ended or was replaced are skipped (an
  // entry freed and handed to a newer session has another uid: evicting that one would take a young
  // session for an old one). Each item is pushed once and popped once, so the skipping costs one pop per
  // SYN-opened session overall; the bound only caps what one packet can wait for.
  constexpr uint32_t kQueueTries = 4096;
  flow::EntryQueue::Item item{};
  for (uint32_t k = 0; k < kQueueTries && syn_opened_.pop(item); ++k) {
    if (!table_.in_use(item.entry)) continue;
    const FlowEntry& e = table_.at(item.entry);
    if (static_cast<uint32_t>(e.session.uid) != item.tag) continue;
    if (expire_if_due(item.entry)) return 1;
    if (!is_syn_only(e)) continue;
    evict(item.entry, true);
    return 1;
  }
  uint32_t idx = 0;
  // Otherwise scan a bounded window: take the first expired or SYN-only entry, else the longest idle one.
  uint32_t victim = flow::FlowTable<FlowEntry>::kNone;
  uint64_t oldest = UINT64_MAX;
  bool victim_syn_only = false;
  for (uint32_t k = 0; k < config_.evict_scan; ++k) {
    idx = step_cursor(evict_cursor_, cap);
    if (!table_.in_use(idx)) continue;
    if (expire_if_due(idx)) return 1;
    const FlowEntry& e = table_.at(idx);
    const bool syn_only = is_syn_only(e);
    if (syn_only && !victim_syn_only) {
      victim = idx;
      victim_syn_only = true;
      oldest = e.session.last_ns;
    } else if (syn_only == victim_syn_only && e.session.last_ns < oldest) {
      victim = idx;
      oldest = e.session.last_ns;
    }
  }
  if (victim == flow::FlowTable<FlowEntry>::kNone) return 0;
  evict(victim, victim_syn_only);
  return 1;
}

void SessionEngine::sweep(uint32_t budget) noexcept {
  const uint32_t cap = table_.high_water();
  if (cap == 0 || table_.size() == 0) return;
  // A sweep step reads an entry's first line, which is usually not in the cache: the entry a few steps
  // ahead is prefetched, so the walk waits for memory about once per slice instead of once per step.
  constexpr uint32_t kAhead = 4;
  for (uint32_t k = 0; k < budget; ++k) {
    const uint32_t idx = step_cursor(sweep_cursor_, cap);
    const uint32_t ahead = idx + kAhead < cap ? idx + kAhead : idx + kAhead - cap;
    if (ahead < cap) table_.prefetch_at(ahead);
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
  const bool lo_internal = (e.session.owner_bits & kLoInternal) != 0;
  const bool hi_internal = (e.session.owner_bits & kHiInternal) != 0;
  const bool orig_internal = orig_lo ? lo_internal : hi_internal;
  const bool resp_internal = orig_lo ? hi_internal : lo_internal;
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
  const auto& o = e.session.marks[0];
  const auto& r = e.session.marks[1];
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
  rec.uid = s.uid;
  rec.missed_bytes = tcp_session::missed_bytes(s, content_);
  counters_.missed_bytes += rec.missed_bytes;
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
  session_sink_.on_session(rec);
  tcp_session::release_content(e.session, content_);
}

void SessionEngine::finish(EndReason cut) noexcept {
  // Frames still held wait for a jump nothing confirmed. With no time yet they are all there is; otherwise
  // they are processed with their own times but leave the clock alone, so a stray stamp on the last frames
  // cannot turn every open session into a timeout (and a real gap before them loses no frame).
  if (held_n_ != 0) {
    if (watermark_ns_ != 0) counters_.time_jump_unconfirmed_at_end += held_n_;
    release_held(watermark_ns_ == 0);
  }
  // A session whose timers had already fired by the last packet's time ended by timeout, however far the
  // lazy sweep had got; only the rest are cut by the end of input. This keeps `end` independent of sweep
  // timing (replay and a live engine that idled until the same time agree).
  for (uint32_t idx = 0; idx < table_.high_water(); ++idx) {
    if (!table_.in_use(idx)) continue;
    finalize(idx, timed_out(table_.at(idx), watermark_ns_) ? EndReason::kTimeout : cut);
  }
  // All reported: one clear() instead of an erase per entry (each a probe-run shift in a cold index).
  table_.clear();
}

}  // namespace synscope::engine
