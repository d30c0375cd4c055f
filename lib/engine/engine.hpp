// engine: SessionEngine turns bursts of parsed packets into per-connection verdicts (session records).
//
// One SessionEngine per flow-owning core (or one for the replay worker). It owns its FlowTable and is not
// thread-safe: only its owning thread calls it. It does not care where packets come from — the replay
// reader and the live DPDK RX loop both hand it ParsedPacket bursts — so verdicts are the same in both modes.
// All memory is allocated in the constructor; process_burst() never allocates, throws, locks or logs.
// Finished sessions go to a SessionSink (called on this thread, once per session, never per packet); time
// buckets are built from those records by the consumers (consumers::RecordBuckets).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "buckets/buckets.hpp"
#include "engine/network_set.hpp"
#include "flow/flow.hpp"
#include "packet/encapsulation.hpp"
#include "packet/packet.hpp"
#include "tcp_session/tcp_session.hpp"

namespace synscope::engine {

/// A frame after parsing: its verdict, the TCP fields when the verdict is kTcp or kBadChecksum, and its time.
/// No hash: the engine that owns the flow hashes the key (SessionEngine::process_burst).
struct ParsedPacket {
  uint64_t ts_ns = 0;
  packet::PacketMeta meta;
  // Last, sharing one word: 72 bytes in all (80 with them first or apart).
  packet::FrameClass frame_class : 8 = packet::FrameClass::kNotIp;
  uint32_t encapsulations : 18 = 0;  ///< packet::encapsulation_bit() of each layer the frame passed through
  /// The capture port it arrived on (a live run's DPDK port, at most 63; a replay's 0): capture loss per port.
  uint32_t rx_port : 6 = 0;
};
static_assert(packet::kEncapsulationCount <= 18 && tcp_session::kCapturePorts == 64);

/// Datagrams a parsing thread reassembles at once (packet::FragmentTable), and how long an incomplete one
/// waits in packet time (Linux's ipfrag_time is 30 s).
inline constexpr uint32_t kFragmentDatagrams = 1024;
inline constexpr uint64_t kFragmentTimeoutNs = 60'000'000'000;
static_assert(sizeof(ParsedPacket) <= 72, "a spread RX core copies one per packet to its engine");

/// True for the verdicts the engine tracks in a session (kTcp, and kBadChecksum which Zeek records in the
/// history without using it).
[[nodiscard]] constexpr bool is_tracked(packet::FrameClass v) noexcept {
  return v == packet::FrameClass::kTcp || v == packet::FrameClass::kBadChecksum;
}

/// Stage one of the data path, run wherever frames are received (the replay reader, a live RX core):
/// parses a frame. Hashing is left to the next stage: a dispatcher picks the flow's core with
/// FlowHasher::dispatch, and the engine that owns the flow hashes its full key.
/// Stateless after construction and safe to share read-only between threads.
class FrameParser {
 public:
  explicit FrameParser(const packet::ParseOptions& options) noexcept : options_(options) {}

  /// Fills `out` for one frame: verdict, time and meta (meta only when tracked). With `deferred`, the TCP
  /// checksum is left to the caller (packet::parse_frame): the frame must stay in memory until it is checked.
  /// `frame_len` as parse_frame's (a chained mbuf's pkt_len). With `fragments`, IPv4 fragments go to that
  /// table (the caller's own: it is not thread-safe) and the fragment that completes a datagram is parsed
  /// as the whole datagram, at its own time, as Zeek analyses it; the others stay kFragment.
  void parse(packet::LinkType link, const uint8_t* data, uint32_t caplen, uint64_t ts_ns, ParsedPacket& out,
             packet::DeferredChecksum* deferred = nullptr, uint32_t frame_len = 0,
             packet::FragmentTable* fragments = nullptr) const noexcept {
    out.ts_ns = ts_ns;
    uint32_t encapsulations = 0;
    packet::FragmentView fragment;
    out.frame_class = packet::parse_frame(link, data, caplen, options_, out.meta, deferred, &encapsulations, frame_len,
                                          fragments != nullptr ? &fragment : nullptr);
    if (fragments != nullptr && out.frame_class == packet::FrameClass::kFragment && fragment.ip != nullptr)
        [[unlikely]] {
      packet::Datagram datagram;
      if (fragments->add(fragment, ts_ns, datagram)) {
        out.frame_class = packet::parse_datagram(datagram, options_, out.meta, &encapsulations);
      }
    }
    out.encapsulations = encapsulations;
  }

 private:
  packet::ParseOptions options_;
};

/// Why a session left the flow table (its record's `removed`): Zeek's timers, a new connection on the same
/// 5-tuple, eviction from a full table, the end of a capture, or a live run's shutdown.
enum class EndReason : uint8_t { kTimeout, kReuse, kEvicted, kEndOfInput, kShutdown };
[[nodiscard]] std::string_view end_reason_name(EndReason r) noexcept;

/// How the connection itself ended on the wire (its record's `end`), apart from why it left the table: both
/// sides closed with FIN, a RST from either side, or still open when a timer (idle, attempt, half-closed
/// linger), a new connection on its 5-tuple, eviction, the end of input or shutdown removed it.
enum class SessionEnd : uint8_t { kFin, kRstOrig, kRstResp, kIdle, kReused, kEvicted, kEndOfInput, kShutdown };
[[nodiscard]] std::string_view session_end_name(SessionEnd e) noexcept;

/// A finished session, in Zeek's orientation (orig/resp). A record is a view: `session` points into the
/// sender's memory (the engine's flow table, a channel slot) and is valid only during the on_session() call
/// that hands the record over. A consumer that keeps a record copies the Session with it
/// (channel::SessionChannel does).
struct SessionRecord {
  const tcp_session::Session* session = nullptr;  ///< never null in a record handed to a SessionSink
  packet::IpAddr orig_h, resp_h;
  uint16_t orig_p = 0, resp_p = 0;
  uint8_t ip_version = 4;
  uint64_t uid = 0;
  uint64_t missed_bytes = 0;  ///< bytes of the content gaps Zeek would report (conn.log's missed_bytes)
  tcp_session::ConnState state = tcp_session::ConnState::kOTH;
  buckets::Perspective perspective = buckets::Perspective::kEdge;
  EndReason end = EndReason::kTimeout;
  uint64_t emitted_ns = 0;  ///< the engine's time when it wrote the record
  uint64_t settled_ns = 0;  ///< the time the engine's bucket ring had been settled to then (see settled_ns())
  /// The record's output line when the thread that sent it already wrote it (channel::SessionChannel does
  /// while its consumer falls behind), else empty: a writer then copies it instead of formatting the record.
  std::string_view prepared_line;
};

/// How the record's connection ended: a RST (by the side whose reset Zeek's conn_state names: the
/// originator's first, as in RSTO/RSTOS0) or both FINs when the wire says so, else the removal reason.
[[nodiscard]] SessionEnd session_end(const SessionRecord& record) noexcept;

/// What a finished session contributes to its time bucket.
[[nodiscard]] buckets::SessionSummary summarize(const SessionRecord& record) noexcept;

class SessionSink {
 public:
  virtual ~SessionSink() = default;
  virtual void on_session(const SessionRecord& record) = 0;
};

/// Most frames EngineConfig::time_jump_frames may ask to confirm a time jump.
inline constexpr uint32_t kMaxTimeJumpFrames = 64;

struct EngineConfig {
  tcp_session::SessionConfig session;
  uint32_t flow_capacity = 1u << 20;
  flow::IndexSizing index_sizing = flow::IndexSizing::kFull;  ///< replay grows the index (see IndexSizing)
  NetworkSet internal = NetworkSet::defaults();
  uint64_t bucket_span_ns = 60'000'000'000;
  uint64_t bucket_settle_ns = 360'000'000'000;  ///< covers Zeek's 5-minute inactivity timeout
  uint32_t sweep_slice = 256;                   ///< minimum entries examined per millisecond of packet time
  uint32_t evict_scan = 32;                     ///< entries examined to pick a victim when the table is full
  /// Implausible time jumps: a frame stamped more than max_time_jump_ns after the engine's time is held
  /// until time_jump_frames consecutive frames agree (none going back by more than the bound); then the
  /// clock jumps and they are processed in order. A frame within the bound first means the held ones were
  /// stray stamps: they are dropped and counted (EngineCounters::dropped_implausible_time). 1: every jump is
  /// taken at once.
  uint64_t max_time_jump_ns = 300'000'000'000;
  uint32_t time_jump_frames = 8;  ///< 1..kMaxTimeJumpFrames
  uint16_t core_id = 0;           ///< mixed into session uids so they are unique across cores
  flow::FlowHasher hasher;        ///< per-run random seed (the dispatcher shares it)
};

/// Upper bounds of the handshake RTT histogram (SYN to the originator's ACK), nanoseconds; one more
/// bucket (+Inf) follows the last bound.
inline constexpr std::array<uint64_t, 15> kRttBoundsNs = {
    50'000,     100'000,    250'000,     500'000,     1'000'000,   2'500'000,     5'000'000,    10'000'000,
    25'000'000, 50'000'000, 100'000'000, 250'000'000, 500'000'000, 1'000'000'000, 2'500'000'000};

/// How a connection was torn down, per side (a session can count in several).
enum class Teardown : uint8_t { kOrigFin, kRespFin, kOrigRst, kRespRst, kCount };
inline constexpr size_t kTeardownCount = static_cast<size_t>(Teardown::kCount);

/// Counters owned by the engine's thread; read them only from that thread or after it stopped
/// (the live path publishes copies through a channel::Mirror). Only uint64_t members: the mirror copies
/// it as an array of words.
struct EngineCounters {
  uint64_t received = 0;
  std::array<uint64_t, packet::kFrameClassCount> by_frame_class{};  ///< kTcp here means classified (tracked)
  /// Frames received that passed through each encapsulation (a frame counts once in each it met).
  std::array<uint64_t, packet::kEncapsulationCount> by_encapsulation{};
  uint64_t dropped_table_full = 0;  ///< TCP segments not tracked: no entry could be freed
  /// Frames dropped because their time jumped ahead of the engine's by more than max_time_jump_ns and the
  /// frames after them did not confirm it (a stray timestamp).
  uint64_t dropped_implausible_time = 0;
  uint64_t time_jumps = 0;  ///< jumps beyond max_time_jump_ns confirmed by time_jump_frames frames
  /// Frames held for a jump still unconfirmed at the end of input: processed with their own times, the
  /// engine's clock left where it was (so the open sessions still end as at the last plausible time).
  uint64_t time_jump_unconfirmed_at_end = 0;
  uint64_t evicted_syn_only = 0;  ///< live entries evicted to make room, SYN-only ones first
  uint64_t evicted_other = 0;
  /// Sessions by conn_state and perspective, each counted once: when it closes on the wire (a RST, or
  /// both FINs — the verdict is settled then, so a refused connection shows at once) or, if it never
  /// closes, when it ends (timeout, reuse, eviction, end of input).
  uint64_t sessions = 0;
  std::array<std::array<uint64_t, buckets::kPerspectiveCount>, tcp_session::kConnStateCount> by_state{};
  std::array<uint64_t, buckets::kPerspectiveCount> failed{};
  std::array<uint64_t, kTeardownCount> teardown{};
  uint64_t verdict_changed_after_close = 0;  ///< the record's conn_state differs from the one counted
  uint64_t rst_without_connection = 0;       ///< a RST that opened a session (nothing else seen)
  uint64_t syn_retransmits = 0;              ///< SYNs repeating an attempt's sequence number
  uint64_t handshakes = 0;                   ///< completed three-way handshakes (with an RTT sample)
  uint64_t handshake_rtt_ns_sum = 0;
  std::array<uint64_t, kRttBoundsNs.size() + 1> handshake_rtt_hist{};  ///< per bucket, not cumulative
  /// Content gaps, as Zeek's capture-loss counts them (tcp_session::ContentStats), and the bytes of the gaps
  /// reported in finished sessions' missed_bytes.
  tcp_session::ContentStats content{};
  uint64_t missed_bytes = 0;

  /// received == sum(by_frame_class) + dropped_table_full + dropped_implausible_time, by construction;
  /// tests check it. A frame held for a time jump is received once it is processed or dropped.
  [[nodiscard]] uint64_t accounted() const noexcept;
  /// Adds another engine's counters (a stats core's totals over every engine core).
  EngineCounters& operator+=(const EngineCounters& other) noexcept;
};

class SessionEngine {
 public:
  /// Reserves the flow table. `sessions` receives every finished session and must outlive the engine;
  /// buckets are built from those records by whoever consumes them (consumers::RecordBuckets), using each
  /// record's settled_ns. Check ok() before use: false when memory could not be reserved.
  SessionEngine(const EngineConfig& config, SessionSink& sessions);
  [[nodiscard]] bool ok() const noexcept { return table_.ok() && syn_opened_.ok(); }
  /// The memory an engine with `config` uses once its flow table is full (start-up memory checks).
  [[nodiscard]] static uint64_t bytes_when_full(const EngineConfig& config) noexcept;
  /// The most flows whose state (table, index, flood queue, content slots) fits in `bytes`, at most 2^28 (--flow-memory);
  /// 0 when not even one does.
  [[nodiscard]] static uint64_t capacity_for(uint64_t bytes) noexcept;
  /// The memory of the flow state for `capacity` flows when full: table, index, flood queue and content slots.
  [[nodiscard]] static uint64_t flow_state_bytes(uint32_t capacity) noexcept;

  /// Processes a burst in order; time never goes backwards for expiry (the watermark is the max seen), and
  /// jumps ahead by more than EngineConfig::max_time_jump_ns only when confirmed (held frames wait for it).
  /// The table hash of each packet is computed here, on the flow's own core (see FlowHasher::dispatch).
  void process_burst(const ParsedPacket* pkts, uint32_t n) noexcept;

  /// For one other thread with time to spare, while this engine runs: faults in flow-table memory ahead of
  /// use (flow::FlowTable::populate_ahead). True when it did some work.
  bool populate_table_ahead() noexcept { return table_.populate_ahead(); }

  /// Lets time pass without packets (idle live ports): expires a slice and settles buckets. A `now_ns` more
  /// than max_time_jump_ns ahead of the engine's time is ignored once the engine has a time (a feeder's
  /// stray packet time must not move it); held frames that are within the bound of the new time are processed.
  void advance(uint64_t now_ns) noexcept;

  /// Ends every open session (as Zeek does at the end of a trace), after processing any frames still held
  /// for an unconfirmed time jump (EngineCounters::time_jump_unconfirmed_at_end). `cut` is why the sessions
  /// whose timers had not fired leave: the end of a capture, or a live run's shutdown.
  void finish(EndReason cut = EndReason::kEndOfInput) noexcept;

  [[nodiscard]] const EngineCounters& counters() const noexcept { return counters_; }
  /// Sessions holding a content slot now.
  [[nodiscard]] uint32_t content_slots_in_use() const noexcept { return content_.in_use(); }
  [[nodiscard]] uint32_t active_flows() const noexcept { return table_.size(); }
  [[nodiscard]] uint32_t flow_capacity() const noexcept { return table_.capacity(); }
  [[nodiscard]] uint64_t watermark_ns() const noexcept { return watermark_ns_; }
  /// The packet time of the engine's last expiry sweep (sweeps run every millisecond of packet time, not
  /// every packet): every session that ended by then has been reported. Records carry it, and bucket
  /// consumers settle their buckets to it before adding the record, so bucket records do not depend on
  /// which thread rebuilds them or how many engines are merged.
  [[nodiscard]] uint64_t settled_ns() const noexcept { return settled_ns_; }

 private:
  // A flow's entry: four cache lines, laid out by who reads them (tcp_session::Session). Line 0 is the key,
  // the timers' inline test and small flags: a lookup and a sweep step read nothing else until a timer may
  // be due. A data segment also reads lines 1 and 2; only control segments and rare events touch line 3.
  // The table recomputes the hash from the key when it needs it (erase, an index rehash): the 8 bytes are
  // worth more in line 0 than a few multiplies once per session.
  struct alignas(64) FlowEntry {
    flow::FlowKey key;
    tcp_session::Session session;
  };
  static_assert(sizeof(FlowEntry) == 256, "four cache lines per tracked flow");
  static_assert(offsetof(FlowEntry, session) + offsetof(tcp_session::Session, delete_at_ns) + sizeof(uint64_t) <= 64,
                "a lookup's key compare and expiry test read the entry's first 64 bytes only");
  /// Session::owner_bits: which of the key's addresses are internal (--internal-nets), looked up once when
  /// the entry is inserted: the roles may still flip, the addresses do not.
  static constexpr uint8_t kLoInternal = 1, kHiInternal = 2;
  /// Bytes of an entry a packet will touch: lines 0-2, and line 3 for a SYN, FIN or RST.
  static constexpr uint32_t kPlainSegmentBytes = 192;

  void handle(const ParsedPacket& p, const flow::FlowKey& key, uint64_t hash, bool from_lo) noexcept;
  /// Counts a frame in each encapsulation of `set` (packet::encapsulation_bit()).
  void count_encapsulations(uint32_t set) noexcept;
  /// A frame outside the jump bound, or any frame while some are held: holds, confirms or drops (see
  /// EngineConfig::max_time_jump_ns). `in_bound`: `p` is within the bound of the engine's time.
  /// `ends_burst`: `p` is the last packet of its process_burst() call (whose sweep release_held() replays).
  void admit_unsettled_time(const ParsedPacket& p, bool in_bound, bool ends_burst) noexcept;
  /// One frame outside the batched passes (held frames): keys, hashes and handles it; moves the clock when
  /// `move_clock`.
  void process_one(const ParsedPacket& p, bool move_clock) noexcept;
  void release_held(bool move_clock) noexcept;
  void drop_held() noexcept;
  uint32_t make_room() noexcept;
  void open_session(uint32_t idx, const ParsedPacket& p, bool from_lo) noexcept;
  /// Evicts live entry `idx` to make room (counted by kind).
  void evict(uint32_t idx, bool syn_only) noexcept;
  [[nodiscard]] static bool is_syn_only(const FlowEntry& e) noexcept;
  void finalize(uint32_t idx, EndReason why) noexcept;
  /// Counts the session's verdict in counters_ (once per session; see EngineCounters::by_state).
  void count_verdict(FlowEntry& e, tcp_session::ConnState state, buckets::Perspective perspective) noexcept;
  [[nodiscard]] buckets::Perspective perspective_of(const FlowEntry& e) const noexcept;
  void sweep(uint32_t budget) noexcept;
  /// How much of a sweep slice may run: while packets flow it is capped by the packets since the last sweep
  /// (no traffic pays many entry checks per packet); idle (advance() without packets) the full slice runs.
  enum class SweepPace : uint8_t { kWithTraffic, kIdle };
  void maintain(SweepPace pace) noexcept;
  /// Returns the cursor's entry index in [0, limit) and advances the cursor round-robin.
  static uint32_t step_cursor(uint32_t& cursor, uint32_t limit) noexcept;
  /// Finalizes and erases live entry `idx` if Zeek's timers would have removed it by the watermark.
  bool expire_if_due(uint32_t idx) noexcept;
  /// True when Zeek's timers would have removed entry `e`'s session by `now_ns` (tcp_session::expired()).
  [[nodiscard]] bool timed_out(const FlowEntry& e, uint64_t now_ns) const noexcept {
    return tcp_session::expired(e.session, now_ns, config_.session, e.key.port_lo, e.key.port_hi);
  }

  static constexpr uint64_t kSweepPeriodNs = 1'000'000;
  /// process_burst's pipeline: packets between its stages, and the slots that hold a packet's key from the
  /// first stage to the last (a power of two above twice the distance).
  static constexpr uint32_t kPrefetchDistance = 8;
  static constexpr uint32_t kPipelineSlots = 32;
  static_assert(kPipelineSlots > 2 * kPrefetchDistance && (kPipelineSlots & (kPipelineSlots - 1)) == 0);

  EngineConfig config_;
  SessionSink& session_sink_;
  flow::FlowTable<FlowEntry> table_;
  /// Entries whose session a bare SYN opened, oldest first: a full table evicts the oldest of them that is
  /// still SYN-only before anything else, so a SYN flood displaces its own entries, not established sessions.
  flow::EntryQueue syn_opened_;
  /// The queue holds twice the table: besides the live SYN-only sessions (at most the table) it holds stale
  /// items (sessions that moved on or ended) until they are popped, and a full queue forgets its oldest
  /// item. Sized at the table, a flood filled it, live flood entries fell out of it (then only the bounded
  /// scan could find them) and the queue's oldest were real clients' fresh SYNs.
  /// Sessions whose content can leave the inline path at once (tcp_session::ContentPool): an eighth of the
  /// table, the sessions with a hole or a gap at a time even on a lossy tap; at least 16.
  [[nodiscard]] static uint32_t content_slot_count(uint32_t flow_capacity) noexcept {
    return flow_capacity / 8 > 16 ? flow_capacity / 8 : 16;
  }
  [[nodiscard]] static uint32_t syn_queue_capacity(uint32_t flow_capacity) noexcept {
    return flow_capacity <= UINT32_MAX / 2 ? flow_capacity * 2 : UINT32_MAX;
  }
  EngineCounters counters_;
  /// Slots for sessions whose content left the inline path (holes, gaps); counts into counters_.content.
  tcp_session::ContentPool content_;
  uint64_t watermark_ns_ = 0;
  uint32_t sweep_cursor_ = 0;
  uint64_t next_sweep_ns_ = 0;
  uint64_t last_sweep_ns_ = 0;
  uint64_t settled_ns_ = 0;
  uint64_t received_at_sweep_ = 0;
  uint32_t evict_cursor_ = 0;
  uint64_t uid_counter_ = 0;
  uint64_t inserts_ = 0;  ///< table inserts tried (process_burst's prefetch of free entries follows them)
  uint64_t uid_seed_;
  uint32_t held_n_ = 0;
  std::array<ParsedPacket, kMaxTimeJumpFrames> held_{};  ///< frames waiting for a time jump to be confirmed
  std::array<bool, kMaxTimeJumpFrames> held_ends_burst_{};
};

}  // namespace synscope::engine
