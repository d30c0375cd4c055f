// detector/hour_position: where a bucket falls among hour-of-day cells, the seasonal grid both models share
// (CountModel, MetricModel): its day kind (weekday or Saturday/Sunday), the two hour centres its own centre
// lies between with the weight of the second (prediction interpolates), and the hour its centre is in
// (the one cell it teaches).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace synscope::detector {

struct HourPosition {
  size_t kind = 0;  ///< 0 weekday, 1 Saturday or Sunday (UTC)
  size_t h1 = 0;    ///< the hour centre at or before the bucket's centre
  size_t h2 = 0;    ///< the next one
  double w2 = 0;    ///< weight of h2 in [0, 1)
  size_t own = 0;   ///< the hour the bucket's centre is in
};

/// The position of the bucket starting at `ts_s` (epoch seconds) and lasting `bucket_s`.
[[nodiscard]] inline HourPosition hour_position(double ts_s, double bucket_s) noexcept {
  constexpr double kDay = 86400.0;
  const double day = std::floor(ts_s / kDay);
  const auto dow = static_cast<int64_t>(day + 3) % 7;  // 1970-01-01 was a Thursday; Monday = 0
  HourPosition p;
  p.kind = dow >= 5 ? 1 : 0;
  const double pos = (ts_s - day * kDay + bucket_s / 2) / 3600.0 - 0.5;  // hour centres are on the half hour
  const double lower = std::floor(pos);
  p.w2 = pos - lower;
  p.h1 = static_cast<size_t>((static_cast<int64_t>(lower) + 24) % 24);
  p.h2 = (p.h1 + 1) % 24;
  p.own = p.w2 < 0.5 ? p.h1 : p.h2;
  return p;
}

}  // namespace synscope::detector
