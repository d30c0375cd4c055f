// content: Zeek's TCP reassembler without the payload. Which byte ranges of each direction the capture
// carried, delivered (contiguous from the start) and had acknowledged, so that an ACK for bytes the capture
// never carried becomes a content gap: conn.log's missed_bytes, the 'G'/'g' history letters (logarithmic,
// as 'T'), and Zeek's capture-loss counts (ACKs for data never seen).
//
// Most sessions never need more than one number per direction: while a direction's data arrives in order,
// the end of what Zeek would have delivered is kept inline in its Endpoint (content_end) and a plain
// segment pays one comparison. The first segment that opens a hole, an ACK beyond what was seen, or a FIN
// that does not end the data moves the session to a slot of a ContentPool: both directions' reassembler
// state (delivered edge, trim point, up to kContentBlocks ranges held above a hole), exactly as Zeek's
// Reassembler and TCP_Reassembler move them. The pool is sized once; when it is empty a session keeps the
// inline state (its later holes are not tracked) and the pool counts it.
//
// A pool belongs to the RX core whose FlowTable holds the sessions: not thread-safe, and no need to be.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace synscope::tcp_session {

/// Ranges of one direction held above a hole (received, not yet deliverable). Zeek keeps any number; past
/// this many, the two closest are merged (the bytes between them count as seen) and the pool counts it.
inline constexpr size_t kContentBlocks = 4;

/// Zeek's defaults for giving up on a direction's reassembly (init-bare.zeek).
inline constexpr uint64_t kMaxAboveHoleWithoutAcks = 16384;         ///< tcp_max_above_hole_without_any_acks
inline constexpr uint64_t kExcessiveDataWithoutAcks = 10ull << 20;  ///< tcp_excessive_data_without_further_acks
inline constexpr uint64_t kMaxInitialWindow = 16384;                ///< tcp_max_initial_window

/// A range of relative sequence numbers, [begin, end).
struct ContentRange {
  uint64_t begin = 0;
  uint64_t end = 0;
};

/// One direction's reassembler, in Zeek's relative sequence space (the first data byte is 1).
struct DirectionContent {
  uint64_t last_reassem = 1;  ///< everything below was delivered (or declared missing)
  uint64_t trim = 1;          ///< the highest ACK processed: data below it is forgotten
  uint64_t fin_seq = 0;       ///< one past the last FIN's sequence octet (0: no FIN seen)
  uint64_t missed_bytes = 0;  ///< bytes of the content gaps Zeek reports (conn.log's missed_bytes)
  uint32_t gap_cnt = 0;       ///< content gaps recorded for the 'G' letter
  uint8_t gap_level = 0;      ///< the letter's logarithmic level (see scaled_history)
  bool skip = false;          ///< Zeek's skip_deliveries: reassembly given up for this direction
  uint8_t blocks_n = 0;
  std::array<ContentRange, kContentBlocks> blocks{};  ///< above last_reassem, sorted, disjoint, not adjacent
};

/// Both directions of one session, indexed by the key's side (0: the lo address), which role flips keep.
struct SessionContent {
  std::array<DirectionContent, 2> side{};
};

/// Capture ports told apart in ContentStats (a live run's DPDK ports; a replay is port 0). Higher port
/// numbers count in the last.
inline constexpr size_t kCapturePorts = 64;

/// Zeek's get_gap_summary(): ACKs that advanced a direction of an established connection, and those that
/// acknowledged bytes never seen. capture-loss.zeek reports gap_events / ack_events; a sensor on several
/// taps wants it per port, so the events are also counted by the port the ACK arrived on. Only uint64_t
/// members (engine counters are copied as words).
struct ContentStats {
  uint64_t ack_events = 0;
  uint64_t ack_bytes = 0;
  uint64_t gap_events = 0;
  uint64_t gap_bytes = 0;
  uint64_t slots_exhausted = 0;  ///< sessions that needed a slot when none was free (their gaps go unseen)
  uint64_t blocks_merged = 0;    ///< ranges merged because a direction held more than kContentBlocks
  std::array<uint64_t, kCapturePorts> port_ack_events{};
  std::array<uint64_t, kCapturePorts> port_gap_events{};
};

/// Slots for sessions whose content left the inline fast path. Allocated once; acquire/release never
/// allocate.
class ContentPool {
 public:
  /// A Session's slot field when it needed a slot and none was free: its content stays inline for good.
  static constexpr uint32_t kUntracked = (1u << 24) - 1;
  /// Largest slot number a Session can hold (24 bits, less kUntracked).
  static constexpr uint32_t kMaxSlots = kUntracked - 1;
  /// True when a Session's slot field `n` names a slot (not 0, "none yet", nor kUntracked).
  [[nodiscard]] static constexpr bool is_slot(uint32_t n) noexcept { return n != 0 && n != kUntracked; }

  /// `slots` (at most kMaxSlots) sessions can be tracked at once; the counts go to `stats`, which must
  /// outlive the pool (an engine keeps them with its other counters).
  ContentPool(uint32_t slots, ContentStats& stats);

  /// A zeroed slot's number (1..), or 0 when none is free (counted in stats().slots_exhausted).
  [[nodiscard]] uint32_t acquire() noexcept;
  /// Returns slot `n` (from acquire()) to the pool.
  void release(uint32_t n) noexcept;
  [[nodiscard]] SessionContent& at(uint32_t n) noexcept { return slots_[n]; }
  [[nodiscard]] const SessionContent& at(uint32_t n) const noexcept { return slots_[n]; }
  [[nodiscard]] uint32_t in_use() const noexcept { return static_cast<uint32_t>(slots_.size() - 1 - free_.size()); }
  /// The capture port of the packets that follow (min(port, kCapturePorts - 1)); the caller sets it per packet.
  void set_port(uint8_t port) noexcept { port_ = port < kCapturePorts ? port : kCapturePorts - 1; }
  [[nodiscard]] uint8_t port() const noexcept { return port_; }
  /// Counts one ACK that advanced a direction by `bytes`, on the current port.
  void count_ack(uint64_t bytes) noexcept {
    ++stats_.ack_events;
    stats_.ack_bytes += bytes;
    ++stats_.port_ack_events[port_];
  }
  /// Counts one ACK that acknowledged `bytes` never seen, on the current port.
  void count_gap(uint64_t bytes) noexcept {
    ++stats_.gap_events;
    stats_.gap_bytes += bytes;
    ++stats_.port_gap_events[port_];
  }
  [[nodiscard]] ContentStats& stats() noexcept { return stats_; }
  [[nodiscard]] const ContentStats& stats() const noexcept { return stats_; }
  /// The memory of a pool of `slots`.
  [[nodiscard]] static uint64_t bytes_for(uint32_t slots) noexcept {
    return (uint64_t{slots} + 1) * (sizeof(SessionContent) + sizeof(uint32_t));
  }

 private:
  std::vector<SessionContent> slots_;  // [0] unused: 0 means "no slot"
  std::vector<uint32_t> free_;
  ContentStats& stats_;
  uint8_t port_ = 0;
};

/// What Zeek's TCP endpoints say about a direction when its reassembler acts.
struct ContentContext {
  bool clean = false;          ///< both endpoints established or cleanly closing: gaps are reported
  bool active = false;         ///< both endpoints established: the ACK counts in ContentStats
  bool partial = false;        ///< Zeek's is_partial (the connection did not start with a SYN each way)
  bool no_data_acked = false;  ///< the peer has acknowledged none of this direction's data
  uint64_t size = 0;           ///< the direction's payload size (Zeek's TCP_Endpoint::Size)
};

/// Zeek's TCP_Reassembler::DataSent for `len` payload bytes at relative `seq`, with `ack` the highest relative
/// ACK the peer sent for this direction.
void content_data(DirectionContent& d, uint64_t seq, uint64_t len, uint64_t ack, const ContentContext& c,
                  ContentStats& stats) noexcept;

/// Zeek's TCP_Reassembler::AckReceived for relative `ack` (already limited to the FIN). Returns how many
/// content gaps it reported (each one 'G' letter step); their bytes are added to d.missed_bytes. The ACK
/// counts in `pool`'s stats on its current port.
[[nodiscard]] uint32_t content_ack(DirectionContent& d, uint64_t ack, const ContentContext& c,
                                   ContentPool& pool) noexcept;

/// The 64-bit relative sequence number whose low 32 bits are `rel32`, nearest to `ref`.
[[nodiscard]] inline uint64_t unwrap_relative(uint64_t ref, uint32_t rel32) noexcept {
  const int32_t d = static_cast<int32_t>(rel32 - static_cast<uint32_t>(ref));
  const int64_t v = static_cast<int64_t>(ref) + d;
  return v < 0 ? 0 : static_cast<uint64_t>(v);
}

}  // namespace synscope::tcp_session
