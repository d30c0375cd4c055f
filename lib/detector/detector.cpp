// detector: see detector.hpp.
#include "detector/detector.hpp"

#include <algorithm>

namespace synscope::detector {

Severity severity_of(double score) noexcept {
  if (score >= 75) return Severity::kCritical;
  if (score >= 50) return Severity::kMajor;
  if (score >= 25) return Severity::kMinor;
  if (score >= 3) return Severity::kWarning;
  return Severity::kNone;
}

std::string_view severity_name(Severity s) noexcept {
  switch (s) {
    case Severity::kNone: return "none";
    case Severity::kWarning: return "warning";
    case Severity::kMinor: return "minor";
    case Severity::kMajor: return "major";
    case Severity::kCritical: return "critical";
  }
  return "none";
}

Transition AlertState::update(const Scored& s, const AlertPolicy& policy) noexcept {
  const bool hot = s.score >= policy.fire_score &&
                   std::max(s.actual - s.typical, s.window_actual - s.window_expected) > policy.min_excess;
  if (!firing_) {
    if (!hot) return Transition::kNone;
    firing_ = true;
    peak_ = s.score;
    quiet_ = 0;
    return Transition::kFiring;
  }
  if (s.score < policy.resolve_score) {
    if (++quiet_ >= policy.resolve_buckets) {
      firing_ = false;
      peak_ = 0;
      return Transition::kResolved;
    }
    return Transition::kNone;
  }
  quiet_ = 0;
  if (hot && severity_of(s.score) > severity_of(peak_)) {
    peak_ = s.score;
    return Transition::kEscalated;
  }
  return Transition::kNone;
}

}  // namespace synscope::detector
