// top: bounded-memory heavy hitters of finished sessions over sliding windows — the live drill-down ("which
// servers and clients fail or reset right now"): top servers (ip:port), clients, server ports and
// conversations by failed sessions (with their reasons), servers and clients by RSTs they sent, servers by
// SYN retries.
//
// Each kind keeps a Space-Saving summary (Metwally et al.) of kCounters counters per minute of session start
// time for the last hour, and per quarter hour for the last day. A window's answer merges the summaries of
// its slots: a key's count is over-estimated by at most its error, never under-estimated (error = what it
// inherited when it took a counter, plus, for each slot where it is not tracked, that slot's smallest
// counter). Memory is fixed whatever the number of distinct keys: kKinds × (60 + 96) × kCounters counters.
//
// Owned by the consumers' thread (the stats core live, the reader in replay); snapshot() produces a small
// trivially copyable View that other threads read (the live stats core publishes it through a seqlock).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.hpp"
#include "packet/packet.hpp"

namespace synscope::top {

enum class Kind : uint8_t { kServers, kClients, kServerPorts, kConversations, kServerRst, kClientRst, kSynRetries };
inline constexpr size_t kKinds = 7;
[[nodiscard]] std::string_view kind_name(Kind k) noexcept;

enum class Window : uint8_t { kBucket, k15m, k1h, k24h };
inline constexpr size_t kWindows = 4;
[[nodiscard]] std::string_view window_name(Window w) noexcept;

inline constexpr size_t kCounters = 32;  ///< counters per kind and slot
inline constexpr size_t kShown = 10;     ///< entries per kind and window in a View
inline constexpr size_t kReasons = 6;    ///< tcp_session::kFailedStates, in that order

/// What is counted: a server (addr, port), a client (addr), a port, or a conversation (client addr, server
/// addr and port).
struct Key {
  packet::IpAddr addr{};
  packet::IpAddr peer{};
  uint16_t port = 0;
  uint8_t ip_version = 4;
  bool operator==(const Key&) const noexcept = default;
};

/// One counter: the key's count, its error bound and, for failed sessions, the count per reason seen while
/// it held this counter (a lower bound of each).
struct Counter {
  Key key{};
  uint64_t count = 0;
  uint64_t error = 0;
  std::array<uint32_t, kReasons> reasons{};
};

/// The top entries of every kind for every window: trivially copyable, fixed size.
struct View {
  struct List {
    uint32_t size = 0;
    std::array<Counter, kShown> entries{};
  };
  std::array<std::array<List, kKinds>, kWindows> lists{};
  std::array<uint64_t, kWindows> from_s{};  ///< each window's first second (session start time)
  std::array<uint64_t, kWindows> to_s{};    ///< and its end (exclusive)
  uint64_t late_sessions = 0;               ///< sessions older than the day kept: not counted
};

/// Appends `v` as one JSON document (and a newline): {"version":1,"late_sessions":N,"windows":{"bucket":
/// {"from":S,"to":S,"servers":[{"key":"10.0.0.7:5432","count":N,"error":N,"reasons":{"rejected":N}}],...},
/// "15m":...,"1h":...,"24h":...}}. docs/metrics.md has the schema.
void append_json(const View& v, std::string& out);

/// The text of a key of kind `k` ("10.0.0.7:5432", "203.0.113.9", "5432", "203.0.113.9 -> 10.0.0.7:5432").
[[nodiscard]] std::string key_text(Kind k, const Key& key);

class TopViews {
 public:
  /// `bucket_span_ns`: the record bucket, which the "bucket" window covers (whole minutes, at least one).
  explicit TopViews(uint64_t bucket_span_ns);
  /// The memory a TopViews holds (its slots), for the start-up memory check.
  [[nodiscard]] static uint64_t bytes() noexcept;

  /// Counts one finished session in the minute and quarter hour it started in.
  void add(const engine::SessionRecord& record) noexcept;
  /// The newest record bucket was emitted: the "bucket" window is now the one starting at `start_ns`.
  void on_bucket(uint64_t start_ns) noexcept { bucket_start_ns_ = start_ns; }
  /// The top kShown of every kind and window, as of the newest session seen.
  [[nodiscard]] View snapshot() const;

 private:
  static constexpr size_t kMinutes = 60;
  static constexpr size_t kQuarters = 96;
  struct Slot {
    uint64_t tag = UINT64_MAX;  ///< minute (or quarter hour) since the epoch it holds
    std::array<std::array<Counter, kCounters>, kKinds> kinds{};
  };
  static void count(Slot& slot, Kind kind, const Key& key, uint64_t n, int reason) noexcept;
  [[nodiscard]] Slot* slot_for(std::vector<Slot>& ring, uint64_t tag, uint64_t newest) noexcept;
  void merge(const std::vector<const Slot*>& slots, Kind kind, View::List& out) const;

  uint64_t bucket_span_ns_;
  uint64_t bucket_start_ns_ = 0;
  uint64_t newest_minute_ = 0;
  uint64_t late_ = 0;
  std::vector<Slot> minutes_;
  std::vector<Slot> quarters_;
};

}  // namespace synscope::top
