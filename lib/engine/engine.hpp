// engine: SessionEngine turns bursts of parsed packets into per-connection verdicts and time buckets.
//
// One SessionEngine per RX core (or one for the replay loop). It owns its FlowTable and BucketRing and is
// not thread-safe: only its owning thread calls it. It does not care where packets come from — the replay
// reader and the live DPDK RX loop both hand it ParsedPacket bursts — so verdicts are the same in both modes.
// All memory is allocated in the constructor; process_burst() never allocates, throws, locks or logs.
// Finished sessions go to a SessionSink and settled buckets to a BucketSink (both called on this thread,
// once per session or bucket, never per packet).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "buckets/buckets.hpp"
#include "flow/flow.hpp"
#include "packet/packet.hpp"
#include "tcp_session/tcp_session.hpp"

namespace synscope::engine {

/// A frame after parsing: its verdict, the TCP fields when the verdict is kTcp or kBadChecksum, and its time.
/// No hash: the engine that owns the flow hashes the key (SessionEngine::process_burst).
struct ParsedPacket {
  uint64_t ts_ns = 0;
  packet::PacketMeta meta;
  packet::FrameClass frame_class = packet::FrameClass::kNotIp;  // last: 72 bytes in all, not 80 with it first
};
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
  void parse(packet::LinkType link, const uint8_t* data, uint32_t caplen, uint64_t ts_ns, ParsedPacket& out,
                packet::DeferredChecksum* deferred = nullptr) const noexcept {
    out.ts_ns = ts_ns;
    out.frame_class = packet::parse_frame(link, data, caplen, options_, out.meta, deferred);
  }

 private:
  packet::ParseOptions options_;
};

/// An IPv4/IPv6 prefix list ("internal networks").
class NetworkSet {
 public:
  /// Adds a CIDR such as "10.0.0.0/8" or "fc00::/7"; false (and nothing added) when malformed.
  [[nodiscard]] bool add(std::string_view cidr);
  [[nodiscard]] bool contains(const packet::IpAddr& addr, uint8_t ip_version) const noexcept;
  /// RFC 1918, 100.64.0.0/10 (CGNAT), 169.254.0.0/16, fc00::/7 and fe80::/10.
  static NetworkSet defaults();
  [[nodiscard]] const std::vector<std::string>& text() const noexcept { return text_; }

 private:
  /// A prefix as two masked 64-bit words (network byte order in memory), so a match is two ANDs and
  /// compares instead of a memcmp call per prefix (asked for both addresses of every new session).
  struct Prefix {
    uint64_t word[2];
    uint64_t mask[2];
    uint8_t ip_version;
  };
  std::vector<Prefix> prefixes_;
  std::vector<std::string> text_;
};

/// Why a session record was written.
enum class EndReason : uint8_t { kTimeout, kReuse, kEvicted, kEndOfInput };
[[nodiscard]] std::string_view end_reason_name(EndReason r) noexcept;

/// A finished session, in Zeek's orientation (orig/resp).
struct SessionRecord {
  const tcp_session::Session* session = nullptr;
  packet::IpAddr orig_h, resp_h;
  uint16_t orig_p = 0, resp_p = 0;
  uint8_t ip_version = 4;
  uint64_t uid = 0;
  tcp_session::ConnState state = tcp_session::ConnState::kOTH;
  buckets::Perspective perspective = buckets::Perspective::kEdge;
  EndReason end = EndReason::kTimeout;
  uint64_t emitted_ns = 0;  ///< the engine's time when it wrote the record
  uint64_t settled_ns = 0;  ///< the time the engine's bucket ring had been settled to then (see settled_ns())
  /// The record's output line when the thread that sent it already wrote it (channel::SessionChannel does
  /// while its consumer falls behind), else empty: a writer then copies it instead of formatting the record.
  std::string_view prepared_line;
};

/// What a finished session contributes to its time bucket (the engine's own BucketRing and the live
/// stats core's use the same rule).
[[nodiscard]] buckets::SessionSummary summarize(const SessionRecord& record) noexcept;

class SessionSink {
 public:
  virtual ~SessionSink() = default;
  virtual void on_session(const SessionRecord& record) = 0;
};

/// An engine's bucket records rebuilt from its session records on another thread (the live stats core, the
/// two-thread replay), which is how an engine with no bucket sink still yields buckets. Each record carries
/// the time its engine had settled its own buckets to (settled_ns); settling to exactly that before adding
/// the record gives the bucket records the engine itself would have written.
class RecordBuckets {
 public:
  RecordBuckets(uint64_t span_ns, uint64_t settle_ns) : ring_(span_ns, settle_ns) {}
  /// Emits the buckets settled by time `t` to `sink`; earlier or equal times change nothing.
  void settle(uint64_t t, buckets::BucketSink& sink) {
    if (t <= settled_ns_) return;
    settled_ns_ = t;
    ring_.advance(t, sink);
  }
  /// Counts a record in its bucket: call settle(record.settled_ns, ...) first.
  void add(const SessionRecord& record) noexcept { ring_.add(summarize(record), record.emitted_ns); }
  /// After the last record: emits every bucket held.
  void flush(buckets::BucketSink& sink) { ring_.flush(sink); }
  [[nodiscard]] uint64_t settled_ns() const noexcept { return settled_ns_; }
  [[nodiscard]] uint64_t late_sessions() const noexcept { return ring_.late_sessions(); }

 private:
  buckets::BucketRing ring_;
  uint64_t settled_ns_ = 0;
};

struct EngineConfig {
  tcp_session::SessionConfig session;
  uint32_t flow_capacity = 1u << 20;
  flow::IndexSizing index_sizing = flow::IndexSizing::kFull;  ///< replay grows the index (see IndexSizing)
  NetworkSet internal = NetworkSet::defaults();
  uint64_t bucket_span_ns = 60'000'000'000;
  uint64_t bucket_settle_ns = 360'000'000'000;  ///< covers Zeek's 5-minute inactivity timeout
  uint32_t sweep_slice = 256;                   ///< minimum entries examined per millisecond of packet time
  uint32_t evict_scan = 32;                     ///< entries examined to pick a victim when the table is full
  uint16_t core_id = 0;                         ///< mixed into session uids so they are unique across cores
  flow::FlowHasher hasher;                      ///< per-run random seed; Classifier must share it
};

/// Upper bounds of the handshake RTT histogram (SYN to the originator's ACK), nanoseconds; one more
/// bucket (+Inf) follows the last bound.
inline constexpr std::array<uint64_t, 15> kRttBoundsNs = {
    50'000, 100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000, 25'000'000,
    50'000'000, 100'000'000, 250'000'000, 500'000'000, 1'000'000'000, 2'500'000'000};

/// How a connection was torn down, per side (a session can count in several).
enum class Teardown : uint8_t { kOrigFin, kRespFin, kOrigRst, kRespRst, kCount };
inline constexpr size_t kTeardownCount = static_cast<size_t>(Teardown::kCount);

/// Counters owned by the engine's thread; read them only from that thread or after it stopped
/// (the live path publishes copies through a channel::Mirror). Only uint64_t members: the mirror copies
/// it as an array of words.
struct EngineCounters {
  uint64_t received = 0;
  std::array<uint64_t, packet::kFrameClassCount> by_frame_class{};  ///< kTcp here means classified (tracked)
  uint64_t dropped_table_full = 0;     ///< TCP segments not tracked: no entry could be freed
  uint64_t evicted_syn_only = 0;       ///< live entries evicted to make room, SYN-only ones first
  uint64_t evicted_other = 0;
  /// Sessions by conn_state and perspective, each counted once: when it closes on the wire (a RST, or
  /// both FINs — the verdict is settled then, so a refused connection shows at once) or, if it never
  /// closes, when it ends (timeout, reuse, eviction, end of input).
  uint64_t sessions = 0;
  std::array<std::array<uint64_t, buckets::kPerspectiveCount>, tcp_session::kConnStateCount> by_state{};
  std::array<uint64_t, buckets::kPerspectiveCount> failed{};
  std::array<uint64_t, kTeardownCount> teardown{};
  uint64_t verdict_changed_after_close = 0;  ///< the record's conn_state differs from the one counted
  uint64_t rst_without_connection = 0; ///< a RST that opened a session (nothing else seen)
  uint64_t syn_retransmits = 0;        ///< SYNs repeating an attempt's sequence number
  uint64_t handshakes = 0;             ///< completed three-way handshakes (with an RTT sample)
  uint64_t handshake_rtt_ns_sum = 0;
  std::array<uint64_t, kRttBoundsNs.size() + 1> handshake_rtt_hist{};  ///< per bucket, not cumulative

  /// received == sum(by_frame_class) + dropped_table_full, by construction; tests check it.
  [[nodiscard]] uint64_t accounted() const noexcept;
};

class SessionEngine {
 public:
  /// Reserves the flow table and bucket ring. Sinks must outlive the engine. A null session sink discards
  /// the records; a null bucket sink means the engine keeps no buckets at all (bucket_ring() stays empty):
  /// the caller rebuilds them from the records' settled_ns, as the live stats core and the two-thread
  /// replay do. Check ok() before use: false when memory could not be reserved.
  SessionEngine(const EngineConfig& config, SessionSink* sessions, buckets::BucketSink* buckets);
  [[nodiscard]] bool ok() const noexcept { return table_.ok(); }

  /// Processes a burst in order; time never goes backwards for expiry (the watermark is the max seen).
  /// The table hash of each packet is computed here, on the flow's own core (see FlowHasher::dispatch).
  void process_burst(const ParsedPacket* pkts, uint32_t n) noexcept;

  /// For one other thread with time to spare, while this engine runs: faults in flow-table memory ahead of
  /// use (flow::FlowTable::populate_ahead). True when it did some work.
  bool populate_table_ahead() noexcept { return table_.populate_ahead(); }

  /// Lets time pass without packets (idle live ports): expires a slice and settles buckets.
  void advance(uint64_t now_ns) noexcept;

  /// Ends every open session (as Zeek does at the end of a trace) and emits every bucket.
  void finish() noexcept;

  [[nodiscard]] const EngineCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] uint32_t active_flows() const noexcept { return table_.size(); }
  [[nodiscard]] uint32_t flow_capacity() const noexcept { return table_.capacity(); }
  [[nodiscard]] uint64_t watermark_ns() const noexcept { return watermark_ns_; }
  /// The time the engine last settled its own buckets to (expiry sweeps run every millisecond of packet
  /// time, not every packet). Records carry it, so a stats core merging several engines settles its
  /// buckets at exactly the moments this engine would have: live and replay bucket records match.
  [[nodiscard]] uint64_t settled_ns() const noexcept { return settled_ns_; }
  [[nodiscard]] const buckets::BucketRing& bucket_ring() const noexcept { return ring_; }

 private:
  // The first 64 bytes hold what is read before the session is known to be alive: the key (lookup) and
  // the session's first two fields (expired()'s inline test, also all a sweep step reads). The hash sits
  // between them; only erase() (to find the entry's slot) and an index rehash read it.
  struct FlowEntry {
    flow::FlowKey key;
    uint64_t hash;
    tcp_session::Session session;
    uint64_t uid;
    // Which of the key's addresses are internal (--internal-nets), looked up once when the entry is
    // inserted: the roles may still flip, the addresses do not, and perspective_of() asks twice per session.
    bool lo_internal;
    bool hi_internal;
  };
  static_assert(offsetof(FlowEntry, session) + offsetof(tcp_session::Session, delete_at_ns) + sizeof(uint64_t) <= 64,
                "a lookup's key compare and expiry test read the entry's first 64 bytes only");

  void handle(const ParsedPacket& p, const flow::FlowKey& key, uint64_t hash, bool from_lo) noexcept;
  uint32_t make_room() noexcept;
  void open_session(FlowEntry& e, const ParsedPacket& p, bool from_lo) noexcept;
  void finalize(uint32_t idx, EndReason why) noexcept;
  /// Counts the session's verdict in counters_ (once per session; see EngineCounters::by_state).
  void count_verdict(FlowEntry& e, tcp_session::ConnState state, buckets::Perspective perspective) noexcept;
  [[nodiscard]] buckets::Perspective perspective_of(const FlowEntry& e) const noexcept;
  void sweep(uint32_t budget) noexcept;
  void maintain(bool idle) noexcept;
  /// Returns the cursor's entry index in [0, limit) and advances the cursor round-robin.
  static uint32_t step_cursor(uint32_t& cursor, uint32_t limit) noexcept;
  /// Finalizes and erases live entry `idx` if Zeek's timers would have removed it by the watermark.
  bool expire_if_due(uint32_t idx) noexcept;
  /// True when Zeek's timers would have removed entry `e`'s session by `now_ns` (tcp_session::expired()).
  [[nodiscard]] bool timed_out(const FlowEntry& e, uint64_t now_ns) const noexcept {
    return tcp_session::expired(e.session, now_ns, config_.session, e.key.port_lo, e.key.port_hi);
  }

  static constexpr uint64_t kSweepPeriodNs = 1'000'000;

  EngineConfig config_;
  SessionSink* session_sink_;
  buckets::BucketSink* bucket_sink_;
  flow::FlowTable<FlowEntry> table_;
  buckets::BucketRing ring_;
  EngineCounters counters_;
  uint64_t watermark_ns_ = 0;
  uint32_t sweep_cursor_ = 0;
  uint64_t next_sweep_ns_ = 0;
  uint64_t last_sweep_ns_ = 0;
  uint64_t settled_ns_ = 0;
  uint64_t received_at_sweep_ = 0;
  uint32_t evict_cursor_ = 0;
  uint64_t uid_counter_ = 0;
  uint64_t uid_seed_;
};

/// Zeek-style connection uid text ("C" + base62) for a uid number; writes into `buf` (>= 16 bytes).
size_t format_uid(uint64_t uid, char* buf) noexcept;

}  // namespace synscope::engine
