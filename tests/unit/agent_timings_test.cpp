// The agent's own timings: the exec-to-override histogram's bucketing and the start-up
// steps (agent/exec_latency.h, agent/startup_phases.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "agent/exec_latency.h"
#include "agent/startup_phases.h"

namespace gthulhu::agent {
namespace {

size_t bucket_of(double seconds) {
  size_t i = 0;
  while (i < ExecLatency::kBounds.size() && ExecLatency::kBounds[i] < seconds) ++i;
  return i;
}

TEST(ExecLatency, CountsEachObservationInItsBucketCumulatively) {
  ExecLatency h;
  const double samples[] = {3e-6, 40e-6, 40e-6, 0.9e-3, 1e-3, 7e-3, 30.0};
  for (double s : samples) h.observe(s);
  const auto snap = h.snapshot();
  ASSERT_EQ(snap.cumulative.size(), ExecLatency::kBounds.size() + 1);
  EXPECT_EQ(snap.count, std::size(samples));
  EXPECT_EQ(snap.cumulative.back(), snap.count);
  // Cumulative counts: at each bound, the samples at or below it.
  for (size_t b = 0; b < ExecLatency::kBounds.size(); ++b) {
    uint64_t want = 0;
    for (double s : samples) want += bucket_of(s) <= b ? 1 : 0;
    EXPECT_EQ(snap.cumulative[b], want) << "le " << ExecLatency::kBounds[b];
  }
  double sum = 0;
  for (double s : samples) sum += s;
  EXPECT_NEAR(snap.sum_seconds, sum, 1e-6);
}

TEST(ExecLatency, BoundsAreIncreasingAndFineBetween10usAnd10ms) {
  int in_range = 0;
  for (size_t i = 0; i < ExecLatency::kBounds.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(ExecLatency::kBounds[i - 1], ExecLatency::kBounds[i]);
    }
    if (ExecLatency::kBounds[i] >= 10e-6 && ExecLatency::kBounds[i] <= 10e-3) ++in_range;
  }
  EXPECT_GE(in_range, 10);
  EXPECT_NE(std::find(ExecLatency::kBounds.begin(), ExecLatency::kBounds.end(), 1e-3), ExecLatency::kBounds.end())
      << "the target (p99 < 1 ms) must be a bucket bound";
}

TEST(ExecLatency, MeasuresFromABootClockTimestamp) {
  ExecLatency h;
  const uint64_t then = boot_clock_ns();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  h.observe_since(then);
  h.observe_since(boot_clock_ns() + 1'000'000'000ull);  // from the future: clamped to 0, not wrapped
  const auto snap = h.snapshot();
  EXPECT_EQ(snap.count, 2u);
  EXPECT_GE(snap.sum_seconds, 2e-3);
  EXPECT_LT(snap.sum_seconds, 5.0);
  EXPECT_EQ(snap.cumulative[0], 1u) << "the clamped one is in the first bucket";
}

TEST(StartupPhases, ReportsReachedStepsInTheirOrderWithTheirTimes) {
  StartupPhases p;
  EXPECT_TRUE(p.reached().empty());
  EXPECT_EQ(p.summary(), "no step reached");
  p.mark(StartupPhases::Phase::kTrackerLoaded);
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  p.mark(StartupPhases::Phase::kFirstReconcile);
  p.mark(StartupPhases::Phase::kServing);
  const auto r = p.reached();
  ASSERT_EQ(r.size(), 3u) << "the scheduler step was not reached";
  EXPECT_EQ(r[0].first, "tracker_loaded");
  EXPECT_EQ(r[1].first, "first_reconcile");
  EXPECT_EQ(r[2].first, "serving");
  EXPECT_GT(r[1].second, r[0].second);
  EXPECT_GE(r[2].second, r[1].second);
  EXPECT_FALSE(p.seconds(StartupPhases::Phase::kSchedulerAttached).has_value());
  EXPECT_NE(p.summary().find("tracker_loaded "), std::string::npos) << p.summary();
}

}  // namespace
}  // namespace gthulhu::agent
