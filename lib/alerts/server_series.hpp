// alerts/server_series: per-server failed-session series, and which servers earn one (admission).
//
// Beside the perspective series an AlertEngine keeps up to `AlertPolicy::server_series` series of one
// server's failed sessions (partition "ip:port"): the servers with the most failed sessions, ranked by an
// exponentially decayed count (half-life one day). Each record bucket's busiest untracked servers with a
// failed session (the tally's
// Space-Saving summary) may take the place of the tracked series with the smallest rank that is not
// firing, so memory is fixed and a new hot spot gets a series at once. A new series starts from the prior
// of a server that rarely fails (AlertConfig::server_prior_per_day), not from its first value, so a server
// that never failed and starts refusing alerts from its admission on (after the engine's own warm-up).
// Admission runs per record bucket; scoring per detector bucket (the record buckets' counts summed). This is what finds one server's outage inside a perspective whose total barely moves. A
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
#include "detector/count_model.hpp"
#include "detector/detector.hpp"
#include "flow/hash_index.hpp"

namespace synscope::alerts {

/// One server's series (trivially copyable: saved as bytes in the model file).
struct ServerSeries {
  ServerKey server;
  uint8_t perspective = 0;
  double rank = 0;  ///< failed sessions, decayed (half-life one day): what "the most failed sessions" means
  detector::CountModel model;
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

  /// The series of `server`, or kNone. One series per server: its failed sessions count whatever their
  /// perspective (a server's internal and external clients are one server's evidence); the series is
  /// labelled with the perspective of the failures that admitted it.
  [[nodiscard]] uint32_t find(const ServerKey& server) const noexcept;

  /// Admits the record bucket's busiest untracked servers (from `tally`), each with the prior of
  /// `config.server_prior_per_day` and alerting from `alert_from_ts` (epoch seconds) or its admission,
  /// whichever is later, and adds the bucket's counts to `counts` (one per series, the detector bucket's
  /// sums so far). A series given to another server forgets what `tallies` and `counts` held for it.
  void admit(BucketTally& tally, TallyRing& tallies, uint32_t* counts, uint64_t start_ns, double alert_from_ts,
             const AlertConfig& config);

  /// Scores every series with its detector-bucket count `counts[i]` (bucket starting at `start_ns`) and
  /// writes each transition to `out`, listing the busiest clients of `tally` (nullptr: none).
  void score(uint64_t start_ns, const uint32_t* counts, const BucketTally* tally, const AlertConfig& config,
             AlertWriter& out);

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
  [[nodiscard]] static uint64_t key_hash(const ServerKey& server) noexcept;
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
