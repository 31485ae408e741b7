// Pod metrics end to end: the agent's per-pod statistics (agent/pod_stats.h) from the
// simulated scheduler's model, the coordinator's series and percentile estimates
// (pods/pod_metrics_series.h), and GET /api/v1/pods/metrics through a real coordinator
// asking real simulated agents over mTLS, with the errors that name their cause.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "agent/pod_stats.h"
#include "agent/sim/simulated_scheduler.h"
#include "coordinator/pods/pod_metrics_series.h"
#include "tests/support/eventually.h"
#include "tests/support/sim_agent_pair.h"
#include "tests/unit/coordinator_harness.h"

namespace gthulhu::test {
namespace {

using namespace std::chrono_literals;
using coordinator::histogram_quantile;
using coordinator::PodMetricsSeries;
using coordinator::PodStatsSnapshot;
using coordinator::UnixMillis;

using inventory::kNginx;
using inventory::kPodA;
using inventory::kPodB;

// ---- the simulated scheduler's model ------------------------------------------------

struct FakeClock {
  agent::MemoryMaps::Clock::time_point now{std::chrono::hours(1)};
  agent::MemoryMaps::Now fn() {
    return [this] { return now; };
  }
};

gthulhu_policy policy(uint32_t id, int32_t priority) {
  gthulhu_policy p{};
  p.policy_id = id;
  p.priority = priority;
  p.weight = gthulhu_weight_of(priority);
  p.flags = GTHULHU_POLICY_APPLY;
  return p;
}

uint64_t total(const gthulhu_policy_stats& s) {
  uint64_t n = 0;
  for (auto c : s.wait_hist) n += c;
  return n;
}

std::vector<uint64_t> counts_of(const gthulhu_policy_stats& s) { return {std::begin(s.wait_hist), std::end(s.wait_hist)}; }

TEST(SimulatedScheduler, CountsFromWhenThePolicyWasWrittenAndHigherPriorityWaitsLess) {
  FakeClock clock;
  agent::MemoryMaps maps(clock.fn());
  agent::SimulatedScheduler sched(maps, clock.fn());
  EXPECT_TRUE(sched.policy_stats().empty());
  maps.set_cgroup_policy(11, policy(1, 0));
  maps.set_cgroup_policy(12, policy(2, 15));
  clock.now += 10s;
  auto stats = sched.policy_stats();
  ASSERT_EQ(stats.size(), 2u);
  // 10 s at 400 runs per second; every run lands in one bucket.
  EXPECT_EQ(stats[1].run_count, 4000u);
  EXPECT_NEAR(static_cast<double>(total(stats[1])), 4000.0, 24.0);
  EXPECT_GT(stats[1].cpu_time_ns, 0u);
  EXPECT_LT(stats[1].cpu_time_ns, 10'000'000'000ull);
  const auto bounds = agent::wait_bucket_bounds_ns();
  const auto p50_low = histogram_quantile(bounds, counts_of(stats[1]), 0.5);
  const auto p50_high = histogram_quantile(bounds, counts_of(stats[2]), 0.5);
  ASSERT_TRUE(p50_low && p50_high);
  EXPECT_LT(*p50_high, *p50_low) << "priority 15 should wait less than priority 0";
  EXPECT_GT(stats[2].cpu_time_ns, stats[1].cpu_time_ns);

  // Cumulative: reading again later only adds.
  clock.now += 5s;
  auto later = sched.policy_stats();
  EXPECT_EQ(later[1].run_count, 6000u);
  // A released policy id starts afresh when it is written again.
  maps.clear_cgroup_policy(11);
  EXPECT_EQ(sched.policy_stats().count(1), 0u);
  maps.set_cgroup_policy(11, policy(1, 0));
  clock.now += 1s;
  EXPECT_EQ(sched.policy_stats()[1].run_count, 400u);
}

// ---- the coordinator's series ----------------------------------------------------------

TEST(PodMetricsSeries, QuantilesInterpolateInsideLog2Buckets) {
  const std::vector<uint64_t> bounds = {1024, 2048, 4096};
  EXPECT_FALSE(histogram_quantile(bounds, {0, 0, 0, 0}, 0.5));
  // 100 waits in [1024, 2048): the median is the middle of that bucket.
  EXPECT_DOUBLE_EQ(*histogram_quantile(bounds, {0, 100, 0, 0}, 0.5), 1536.0);
  // 99 short and 1 in the open bucket: p99 is still short, p99.9 the open bucket's floor.
  EXPECT_LE(*histogram_quantile(bounds, {99, 0, 0, 1}, 0.99), 1024.0);
  EXPECT_DOUBLE_EQ(*histogram_quantile(bounds, {99, 0, 0, 1}, 0.999), 4096.0);
}

PodStatsSnapshot snap(UnixMillis t, uint64_t cpu, std::vector<uint64_t> counts) {
  PodStatsSnapshot s;
  s.time = t;
  s.node = "node-a";
  s.source = "simulated";
  s.cpu_time_ns = cpu;
  for (auto c : counts) s.runs += c;
  s.bounds_ns = {1024, 2048, 4096};
  s.counts = std::move(counts);
  return s;
}

TEST(PodMetricsSeries, EachSampleDescribesItsIntervalAndACounterResetStartsAgain) {
  PodMetricsSeries series;
  EXPECT_FALSE(series.to_json("p"));
  series.add("p", snap(1'000'000, 0, {100, 0, 0, 0}));
  // One second later: 0.5 s of CPU, and 100 new waits, all in [2048, 4096).
  series.add("p", snap(1'001'000, 500'000'000, {100, 0, 100, 0}));
  auto j = *series.to_json("p");
  ASSERT_EQ(j["samples"].size(), 2u);
  EXPECT_TRUE(j["samples"][0]["cpuUse"].is_null());
  EXPECT_DOUBLE_EQ(j["samples"][1]["cpuUse"].get<double>(), 0.5);
  EXPECT_EQ(j["samples"][1]["runs"], 100);
  EXPECT_EQ(j["samples"][1]["waitP50Ns"], 3072);  // this interval's waits only
  EXPECT_LT(j["samples"][0]["waitP50Ns"].get<uint64_t>(), 1024u);
  EXPECT_EQ(j["waitHistogram"]["counts"], json::parse("[100,0,100,0]"));
  EXPECT_EQ(j["samples"][1]["time"], "1970-01-01T00:16:41.000Z");
  // An interval without runs has no percentiles (null), not zero.
  series.add("p", snap(1'002'000, 500'000'000, {100, 0, 100, 0}));
  EXPECT_TRUE((*series.to_json("p"))["samples"][2]["waitP99Ns"].is_null());

  // The agent restarted: counters went down, the series starts again.
  series.add("p", snap(1'003'000, 10, {1, 0, 0, 0}));
  EXPECT_EQ((*series.to_json("p"))["samples"].size(), 1u);
  for (int i = 0; i < 300; ++i) series.add("p", snap(1'004'000 + i * 1000, 20 + i, {1, 0, 0, 0}));
  EXPECT_EQ((*series.to_json("p"))["samples"].size(), PodMetricsSeries::kMaxSamples);
}

TEST(PodMetricsSeries, RejectsAnAgentAnswerOfTheWrongShape) {
  std::string why;
  EXPECT_FALSE(coordinator::snapshot_from_agent(json::object(), 0, &why));
  EXPECT_NE(why.find("cpuTimeNs"), std::string::npos);
  json bad = {{"cpuTimeNs", 1}, {"runs", 1}, {"waitTimeNs", 1},
              {"waitHistogram", {{"boundsNs", {1, 2}}, {"counts", {1, 2}}}}};
  EXPECT_FALSE(coordinator::snapshot_from_agent(bad, 0, &why));
  EXPECT_NE(why.find("one entry fewer"), std::string::npos);
  bad["waitHistogram"]["counts"] = {1, 2, 3};
  EXPECT_TRUE(coordinator::snapshot_from_agent(bad, 0, &why)) << why;
}

// ---- the whole path: coordinator -> agent over mTLS ------------------------------------

class PodMetricsFromAgents : public ::testing::Test {
 protected:
  void SetUp() override {
    coord = std::make_unique<CoordinatorHarness>(agents.coordinator_env());
    token = coord->admin_token();
    auto r = coord->call("POST", "/api/v1/strategies",
                         {{"labelSelectors", {{{"key", "app.kubernetes.io/name"}, {"value", "prometheus"}}}},
                          {"priority", 10}},
                         token);
    ASSERT_EQ(r.status, 201) << r;
    ASSERT_TRUE(eventually([&] {
      auto list = coord->call("GET", "/api/v1/intents/self", nullptr, token).data()["intents"];
      if (list.size() != 2) return false;
      for (const auto& i : list) {
        if (i["stateName"] != "Applied") return false;
      }
      return true;
    })) << "the intents never became applied";
  }
  Reply metrics(const std::string& pod) {
    return coord->call("GET", "/api/v1/pods/metrics?podId=" + pod, nullptr, token);
  }

  SimAgentPair agents;
  std::unique_ptr<SimAgent>& b = agents.b;
  std::unique_ptr<CoordinatorHarness> coord;
  std::string token;
};

TEST_F(PodMetricsFromAgents, APoliciedPodsFiguresComeFromItsNodesAgentAndFormASeries) {
  auto first = metrics(kPodA);
  ASSERT_EQ(first.status, 200) << first;
  const json d = first.data();
  EXPECT_EQ(d["podId"], kPodA);
  EXPECT_EQ(d["podName"], "prometheus-0");
  EXPECT_EQ(d["node"], "node-a");
  EXPECT_EQ(d["source"], "simulated");
  EXPECT_EQ(d["waitHistogram"]["counts"].size(), static_cast<size_t>(GTHULHU_WAIT_HIST_BUCKETS));
  EXPECT_EQ(d["waitHistogram"]["boundsNs"].size(), static_cast<size_t>(GTHULHU_WAIT_HIST_BUCKETS - 1));
  ASSERT_EQ(d["samples"].size(), 1u);
  // Asked again at once: the same sample (an agent is asked at most once a second).
  EXPECT_EQ(metrics(kPodA).data()["samples"].size(), 1u);
  // Over time: a second sample, with more runs and an interval's percentiles.
  json later;
  ASSERT_TRUE(eventually([&] {
    later = metrics(kPodA).data();
    return later["samples"].size() >= 2 && later["runs"].get<uint64_t>() > d["runs"].get<uint64_t>();
  }, 5s)) << later.dump();
  const json s = later["samples"].back();
  EXPECT_GT(s["runs"].get<uint64_t>(), 0u);
  EXPECT_GT(s["waitP99Ns"].get<uint64_t>(), s["waitP50Ns"].get<uint64_t>());
  EXPECT_GT(s["cpuUse"].get<double>(), 0.0);
  EXPECT_GT(later["cpuTimeNs"].get<uint64_t>(), d["cpuTimeNs"].get<uint64_t>());
}

TEST_F(PodMetricsFromAgents, EveryFailureNamesItsCause) {
  auto unknown = metrics("0a0a0a0a-0000-0000-0000-00000000ffff");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.error().find("not known"), std::string::npos) << unknown;
  auto pending = metrics("0a0a0a0a-0000-0000-0000-000000000004");
  EXPECT_EQ(pending.status, 404);
  EXPECT_NE(pending.error().find("not scheduled"), std::string::npos) << pending;
  auto no_policy = metrics(kNginx);  // on node-b, no strategy matches it
  EXPECT_EQ(no_policy.status, 404);
  EXPECT_NE(no_policy.error().find("has no policy on node node-b"), std::string::npos) << no_policy;

  b->stop();
  auto down = metrics(kPodB);
  EXPECT_EQ(down.status, 502);
  EXPECT_NE(down.error().find("the agent of node node-b is unreachable"), std::string::npos) << down;
}

TEST(PodMetricsNoAgent, ANodeWithoutAnAgentIs503) {
  CoordinatorHarness h;  // static inventory, no agents.static
  auto r = h.call("GET", std::string("/api/v1/pods/metrics?podId=") + kPodA, nullptr, h.admin_token_cached());
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.error(), "no agent is known for node node-a");
}

}  // namespace
}  // namespace gthulhu::test
