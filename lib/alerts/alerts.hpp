// alerts: the seasonal detector applied to the failed-session buckets, with attribution.
//
// An AlertEngine sits where buckets and finished sessions are consumed (the replay loop, or the live stats
// core — never an RX lcore). Per perspective it keeps one detector::SeriesModel of failed sessions per
// bucket and one AlertState (hysteresis, de-duplication, minimum excess). Buckets nobody emitted (no
// session) are observed as zeros, so quiet periods teach the model too. For attribution it counts, for each
// bucket still open, the failed sessions per server (ip:port) with a small Space-Saving summary per
// perspective (bounded memory whatever the number of servers), and reads the conn_states from the bucket.
// Each transition (firing, escalated, resolved) becomes one JSON line (docs/outputs.md, "alerts").
//
// The total series: failed sessions of all four perspectives together (perspective "all"). A rise spread
// over perspectives — a few more failures in each, at a quiet hour — is at the noise floor of every
// perspective series but plain in their sum. It reports only what no perspective alert already reports: its
// firing line is written when no perspective series fires in that bucket (de-duplication), and only an
// alert it reported is later escalated or resolved.
//
// Per-server series: beside the four perspective series it keeps up to `AlertPolicy::server_series`
// series of one server's failed sessions (partition "ip:port"): the servers with the most failed sessions,
// ranked by an exponentially decayed count (half-life one day). Each bucket's busiest untracked servers
// (the Space-Saving summary above) may take the place of the tracked series with the smallest rank that is
// not firing, so memory is fixed and a new hot spot gets a series at once (it then warms up like any new
// series). This is what finds one server's outage inside a perspective whose total barely moves.
// Those series are scored with a oneTBB parallel_for (the caller's thread joins in; in live mode that is
// the stats core on the main lcore, and TBB's workers inherit its CPU set, never an RX lcore's).
//
// The AlertEngine's own methods are called from one thread; it owns everything it allocates (all at
// construction: series, index and per-bucket counters are fixed-size).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "buckets/buckets.hpp"
#include "detector/detector.hpp"
#include "engine/engine.hpp"
#include "output/output.hpp"

namespace synscope::alerts {

/// Space-Saving (Metwally et al.): the k most frequent keys of a stream in k counters; a key's count is
/// over-estimated by at most the smallest counter. Fixed size, no allocation.
template <class Key, size_t K>
class SpaceSaving {
 public:
  struct Entry {
    Key key{};
    uint64_t count = 0;
  };
  void add(const Key& key) noexcept {
    Entry* min = &entries_[0];
    for (Entry& e : entries_) {
      if (e.count != 0 && e.key == key) {
        ++e.count;
        return;
      }
      if (e.count < min->count) min = &e;
    }
    min->key = key;  // replaces the smallest (or an empty) counter, inheriting its count
    ++min->count;
  }
  void clear() noexcept { entries_ = {}; }
  /// The entries with a count, largest first.
  [[nodiscard]] std::vector<Entry> top(size_t n) const {
    std::vector<Entry> out;
    for (const Entry& e : entries_) {
      if (e.count != 0) out.push_back(e);
    }
    std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.count > b.count; });
    if (out.size() > n) out.resize(n);
    return out;
  }

 private:
  std::array<Entry, K> entries_{};
};

/// A server: responder address and port.
struct ServerKey {
  packet::IpAddr addr{};
  uint16_t port = 0;
  uint8_t ip_version = 4;
  bool operator==(const ServerKey& o) const noexcept {
    return port == o.port && ip_version == o.ip_version && addr.bytes == o.addr.bytes;
  }
};

/// The detector settings for failed-session series. One large incident (a SYN flood scoring z = 50) must
/// not make the model blind to the next one for days, so a series' typical maximum z may grow only 25% per
/// bucket here (the backtest's metric-series settings allow 4x, which suits NAB's one-detection-per-window scoring).
/// Network traffic is quieter at weekends: before a week of history exists, weekend hours learn their own
/// profile, so Monday morning is not compared with Sunday (on a 12-day generated capture with weekends at
/// 30% this removed 5 of 6 Monday-morning false alerts; NAB's tweet series score 1.7 points lower with it,
/// so `backtest` leaves it off unless asked).
/// An incident does not teach a series what "large" means (tail_freeze_score = the fire score): after a
/// flood at z = 40 the typical maximum z stays at the normal noise's, so the next, small rise still scores.
inline detector::DetectorConfig failed_session_detector() noexcept {
  detector::DetectorConfig c;
  c.tail_growth = 1.25;
  c.weekend_profile = true;
  c.tail_freeze_score = 50;
  return c;
}

/// Perspective-level series: one per perspective, then the total of all four (kTotalSeries, "all").
inline constexpr size_t kTotalSeries = buckets::kPerspectiveCount;
inline constexpr size_t kPerspectiveSeries = buckets::kPerspectiveCount + 1;
/// "inbound" ... "edge" for a perspective series, "all" for the total.
[[nodiscard]] std::string_view series_name(size_t series) noexcept;

/// A client's failed attempts at one server: the unit of the client-over-server view.
struct ClientServerKey {
  ServerKey server;
  packet::IpAddr client{};
  bool operator==(const ClientServerKey& o) const noexcept {
    return server == o.server && client.bytes == o.client.bytes;
  }
};

struct AlertConfig {
  detector::DetectorConfig detector = failed_session_detector();
  detector::AlertPolicy policy;
  /// Client-over-server view (ElastiFlow's "high count over clients, partitioned by server"): a client
  /// fires `failed_sessions_client` when, in one bucket, its failed attempts at a server reach
  /// `client_min` and are at least `client_ratio` times those of that server's next busiest client.
  uint64_t client_min = 20;
  double client_ratio = 10;
  uint64_t bucket_span_ns = 60'000'000'000;
  uint64_t bucket_settle_ns = 360'000'000'000;
};

/// The alert settings for buckets of `span_ns` that wait `settle_ns` for running sessions (the engine's
/// bucket settings: replay and the live stats core build the engine the same way).
inline AlertConfig alert_config(const detector::AlertPolicy& policy, uint64_t span_ns, uint64_t settle_ns) {
  AlertConfig c;
  c.policy = policy;
  c.bucket_span_ns = span_ns;
  c.bucket_settle_ns = settle_ns;
  return c;
}

/// One firing alert with a partition (a server or a client), for Prometheus while it fires.
struct FiringPartition {
  packet::IpAddr addr{};
  uint16_t port = 0;             ///< 0 for a client partition
  uint8_t ip_version = 4;
  uint8_t perspective = 0;       ///< buckets::Perspective
  uint8_t client = 0;            ///< 1: metric failed_sessions_client (partition = client ip)
  uint8_t pad[3] = {};
  double actual = 0, typical = 0, upper = 0, score = 0;
};
/// "ip:port" (IPv6 in brackets) for a server partition, the address for a client partition.
[[nodiscard]] std::string partition_text(const FiringPartition& f);

class AlertEngine final : public buckets::BucketSink, public engine::SessionSink {
 public:
  /// Writes one JSON line per alert transition to `out` (which must outlive the engine).
  AlertEngine(const AlertConfig& config, output::OutputFile& out);

  void on_session(const engine::SessionRecord& r) override;  ///< attribution only
  void on_bucket(const buckets::Bucket& b) override;          ///< scores, alerts

  [[nodiscard]] uint64_t alerts_written() const noexcept { return written_; }

  /// Model state (every series model, alert state and the bucket clock) to a versioned file, so a restart
  /// keeps its baseline instead of warming up again. Returns false with `error` set when it cannot write.
  [[nodiscard]] bool save(const std::string& path, std::string& error) const;
  /// Loads a file written by save(). A missing, corrupt, truncated or mismatched file (other format
  /// version, other bucket span) leaves the engine fresh and returns false with `warning` saying why;
  /// never throws or crashes on bad input.
  [[nodiscard]] bool load(const std::string& path, std::string& warning);
  /// Alerts firing now: perspectives, servers and clients.
  [[nodiscard]] uint32_t firing() const noexcept;
  /// Per-server series in use (at most AlertPolicy::server_series).
  [[nodiscard]] uint32_t server_series() const noexcept { return used_series_; }
  /// Copies up to `max` firing partition alerts (servers first) to `out`; returns how many fire in all.
  uint32_t firing_partitions(FiringPartition* out, uint32_t max) const noexcept;
  /// The newest bucket's score of one perspective series, or of the total (kTotalSeries); zeros before the
  /// first bucket.
  [[nodiscard]] const detector::Scored& last(size_t series) const noexcept { return last_[series]; }

 private:
  static constexpr size_t kTopServers = 16;
  static constexpr size_t kTopPairs = 64;
  struct Slot {
    uint64_t index = UINT64_MAX;  ///< bucket index (start / span) these counters belong to
    std::array<SpaceSaving<ServerKey, kTopServers>, buckets::kPerspectiveCount> servers;
    std::array<SpaceSaving<ClientServerKey, kTopPairs>, buckets::kPerspectiveCount> pairs;
    std::vector<uint32_t> series_counts;  ///< failed sessions per tracked server series (server_series)
  };
  /// One server's series (trivially copyable: saved as bytes in the model file).
  struct ServerSeries {
    ServerKey server;
    uint8_t perspective = 0;
    double rank = 0;  ///< failed sessions, decayed (half-life one day): what "the most failed sessions" means
    detector::SeriesModel model;
    detector::AlertState state;
    detector::Scored last;
  };
  /// (perspective, server) -> series index: open addressing with linear probing over a fixed array.
  [[nodiscard]] static uint64_t series_hash(uint8_t perspective, const ServerKey& k) noexcept;
  [[nodiscard]] uint32_t find_series(uint8_t perspective, const ServerKey& k) const noexcept;
  void index_insert(uint32_t series) noexcept;
  void index_erase(uint32_t series) noexcept;
  void rebuild_index() noexcept;
  void observe_servers(uint64_t start_ns);
  /// Alert state of one client in the client-over-server view (bounded: resolved entries are dropped).
  struct ClientAlert {
    packet::IpAddr client{};
    ServerKey server;
    buckets::Perspective perspective = buckets::Perspective::kEdge;
    uint32_t quiet = 0;
    detector::Scored fired;  ///< what the firing line said (for Prometheus while it fires)
  };
  void observe_clients(uint64_t start_ns);
  void observe(uint64_t start_ns, const buckets::Bucket* b);
  void write(uint64_t start_ns, size_t series, const detector::Scored& s, const char* state,
             const buckets::Bucket* b);
  void write_server(uint64_t start_ns, const ServerSeries& series, const char* state);
  static void write_line(output::OutputFile& out, uint64_t start_ns, std::string_view perspective, const std::string& partition,
                         const detector::Scored& s, const char* state, const std::string& top);

  AlertConfig config_;
  output::OutputFile& out_;
  std::array<detector::SeriesModel, kPerspectiveSeries> models_{};
  std::array<detector::AlertState, kPerspectiveSeries> states_{};
  std::array<detector::Scored, kPerspectiveSeries> last_{};
  bool total_reported_ = false;  ///< the total series' firing was written (not covered by a perspective alert)
  std::vector<Slot> slots_;
  std::vector<ClientAlert> client_alerts_;  ///< firing client alerts (at most kMaxClientAlerts)
  std::vector<ServerSeries> series_;        ///< server_series entries, fixed
  std::vector<uint32_t> index_;             ///< series index + 1 per slot, 0 = empty; power-of-two size
  std::vector<detector::Scored> scored_;    ///< this bucket's score per series (parallel_for output)
  uint32_t used_series_ = 0;
  double rank_decay_ = 1;                   ///< per bucket
  static constexpr size_t kMaxClientAlerts = 1024;
  bool started_ = false;
  uint64_t next_start_ns_ = 0;
  uint64_t written_ = 0;
};

}  // namespace synscope::alerts
