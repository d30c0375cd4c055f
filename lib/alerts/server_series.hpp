// alerts/server_series: per-server failed-session series, and which servers earn one (admission).
//
// Beside the perspective series an AlertEngine keeps up to `AlertPolicy::server_series` series of one
// server's failed sessions (partition "ip:port"): the servers with the most failed sessions, ranked by an
// exponentially decayed count (half-life one day). Each bucket's busiest untracked servers (the tally's
// Space-Saving summary) may take the place of the tracked series with the smallest rank that is not
// firing, so memory is fixed and a new hot spot gets a series at once (it then warms up like any new
// series). This is what finds one server's outage inside a perspective whose total barely moves. A
// flow::HashIndex finds a (perspective, server)'s series for every failed session.
//
// Owned by the AlertEngine's thread. The series are scored with a oneTBB parallel_for that the calling
// thread joins (in live mode the stats core on the main lcore; TBB's workers inherit its CPU set, never an
// RX lcore's); everything else runs on the calling thread alone.
#pragma once

#include <cstdint>
#include <vector>

#include "alerts/alert_config.hpp"
#include "alerts/alert_line.hpp"
#include "alerts/bucket_tally.hpp"
#include "detector/detector.hpp"
#include "flow/hash_index.hpp"

namespace synscope::alerts {

/// One server's series (trivially copyable: saved as bytes in the model file).
struct ServerSeries {
  ServerKey server;
  uint8_t perspective = 0;
  double rank = 0;  ///< failed sessions, decayed (half-life one day): what "the most failed sessions" means
  detector::SeriesModel model;
  detector::AlertState state;
  detector::Scored last;
};

class ServerSeriesSet {
 public:
  static constexpr uint32_t kNone = flow::HashIndex::kNone;

  /// Room for `capacity` series (0: none), all allocated here; a series' rank decays by `rank_decay` per bucket.
  ServerSeriesSet(uint32_t capacity, double rank_decay);
  ServerSeriesSet(const ServerSeriesSet&) = delete;
  ServerSeriesSet& operator=(const ServerSeriesSet&) = delete;

  /// The series of `server` in `perspective`, or kNone.
  [[nodiscard]] uint32_t find(uint8_t perspective, const ServerKey& server) const noexcept;

  /// The bucket starting at `start_ns`: admits its busiest untracked servers (from `tally`; nullptr when no
  /// session failed in it), scores every series and writes each transition to `out`. A series given to
  /// another server forgets what `tallies` counted for it.
  void observe(uint64_t start_ns, BucketTally* tally, TallyRing& tallies, const AlertConfig& config, AlertWriter& out);

  [[nodiscard]] uint32_t capacity() const noexcept { return static_cast<uint32_t>(series_.size()); }
  /// Series in use: [0, used()) of the capacity.
  [[nodiscard]] uint32_t used() const noexcept { return used_; }
  [[nodiscard]] const ServerSeries& at(uint32_t i) const noexcept { return series_[i]; }
  /// Series firing now.
  [[nodiscard]] uint32_t firing() const noexcept;

  /// All capacity() series as the model file keeps them (in use or not).
  [[nodiscard]] const ServerSeries* data() const noexcept { return series_.data(); }
  /// Takes capacity() series from a model file's `bytes`, the first `used` of them in use, and indexes them.
  void restore(const char* bytes, uint32_t used) noexcept;

 private:
  [[nodiscard]] static uint64_t key_hash(uint8_t perspective, const ServerKey& server) noexcept;
  void admit(BucketTally& tally, TallyRing& tallies);
  void write(uint64_t start_ns, const ServerSeries& series, LineState state, const BucketTally* tally,
             AlertWriter& out) const;

  std::vector<ServerSeries> series_;      ///< capacity entries, fixed
  std::vector<uint64_t> index_slots_;     ///< the index's memory: at least twice capacity, a power of two
  flow::HashIndex index_;                 ///< (perspective, server) -> series
  std::vector<detector::Scored> scored_;  ///< this bucket's score per series (parallel_for output)
  uint32_t used_ = 0;
  double rank_decay_ = 1;
};

}  // namespace synscope::alerts
