// alerts/perspective_series: the failed-session series of each perspective and of their total.
//
// One detector::CountModel and one AlertState per perspective, and a fifth pair for the total of all four
// (perspective "all"). A rise spread over perspectives — a few more failures in each, at a quiet hour — is
// at the noise floor of every perspective series but plain in their sum. The total reports only what no
// perspective alert already reports: its firing line is written when no perspective series fires in that
// bucket (de-duplication), and only an alert it reported is later escalated or resolved. Owned by the
// AlertEngine's thread; not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "alerts/alert_config.hpp"
#include "alerts/alert_line.hpp"
#include "alerts/bucket_tally.hpp"
#include "buckets/buckets.hpp"
#include "detector/count_model.hpp"
#include "detector/detector.hpp"

namespace synscope::alerts {

/// Perspective-level series: one per perspective, then the total of all four (kTotalSeries, "all").
inline constexpr size_t kTotalSeries = buckets::kPerspectiveCount;
inline constexpr size_t kPerspectiveSeries = buckets::kPerspectiveCount + 1;
/// "inbound" ... "edge" for a perspective series, "all" for the total.
[[nodiscard]] std::string_view series_name(size_t series) noexcept;

class PerspectiveSeries {
 public:
  using Models = std::array<detector::CountModel, kPerspectiveSeries>;
  using States = std::array<detector::AlertState, kPerspectiveSeries>;
  using Lasts = std::array<detector::Scored, kPerspectiveSeries>;

  /// Scores the detector bucket starting at `start_ns` (record buckets summed) in every series and writes each transition to `out`, with
  /// the bucket's failed conn_states and the busiest servers of its last record bucket (from `tally`) as its
  /// top list. `b` is nullptr for a bucket nobody emitted (no session): its counts are zeros.
  void observe(uint64_t start_ns, const buckets::Bucket* b, const BucketTally* tally, const AlertConfig& config,
               AlertWriter& out);

  /// Alerts firing now: the perspective series', and the total's when it reported its own.
  [[nodiscard]] uint32_t firing() const noexcept;
  /// The newest bucket's score of one series; zeros before the first bucket.
  [[nodiscard]] const detector::Scored& last(size_t series) const noexcept { return last_[series]; }

  /// The state a model file keeps: the models, the alert states, the newest scores (so a restarted run shows
  /// them before its first bucket settles) and whether the total reported its alert.
  [[nodiscard]] const Models& models() const noexcept { return models_; }
  [[nodiscard]] const States& states() const noexcept { return states_; }
  [[nodiscard]] const Lasts& lasts() const noexcept { return last_; }
  [[nodiscard]] bool total_reported() const noexcept { return total_reported_; }
  /// Takes that state from a model file.
  void restore(const Models& models, const States& states, const Lasts& lasts, bool total_reported) noexcept;

 private:
  void write(uint64_t start_ns, size_t series, const detector::Scored& s, LineState state, const buckets::Bucket* b,
             const BucketTally* tally, AlertWriter& out) const;

  Models models_{};
  States states_{};
  Lasts last_{};
  bool total_reported_ = false;  ///< the total series' firing was written (not covered by a perspective alert)
};

}  // namespace synscope::alerts
