// detector: alerts fire, escalate and resolve with hysteresis (one alert per incident); severity bands.
#include "detector/detector.hpp"

#include <gtest/gtest.h>

namespace synscope::detector {
namespace {

TEST(Severity, ElasticBands) {
  EXPECT_EQ(severity_of(2.9), Severity::kNone);
  EXPECT_EQ(severity_of(3), Severity::kWarning);
  EXPECT_EQ(severity_of(25), Severity::kMinor);
  EXPECT_EQ(severity_of(50), Severity::kMajor);
  EXPECT_EQ(severity_of(75), Severity::kCritical);
  EXPECT_EQ(severity_name(Severity::kMajor), "major");
}

TEST(AlertState, FiresEscalatesAndResolvesWithHysteresis) {
  AlertState a;
  AlertPolicy p;
  p.resolve_buckets = 2;
  const auto at = [](double score) {
    Scored s;
    s.score = score;
    s.actual = 100;
    s.typical = 10;
    return s;
  };
  EXPECT_EQ(a.update(at(10), p), Transition::kNone);
  EXPECT_EQ(a.update(at(55), p), Transition::kFiring);
  EXPECT_EQ(a.update(at(60), p), Transition::kNone);       // same severity band
  EXPECT_EQ(a.update(at(80), p), Transition::kEscalated);  // major -> critical
  EXPECT_EQ(a.update(at(10), p), Transition::kNone);       // one quiet bucket is not enough
  EXPECT_EQ(a.update(at(30), p), Transition::kNone);       // above resolve_score: resets the count
  EXPECT_EQ(a.update(at(10), p), Transition::kNone);
  EXPECT_EQ(a.update(at(10), p), Transition::kResolved);
  EXPECT_FALSE(a.firing());
  p.min_excess = 1000;  // rises smaller than this never fire
  EXPECT_EQ(a.update(at(90), p), Transition::kNone);
}

}  // namespace
}  // namespace synscope::detector
