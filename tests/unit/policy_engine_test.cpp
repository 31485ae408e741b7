// Intents -> kernel policy entries, with an in-memory PolicyMaps and a process table,
// over a CgroupTree scanned from a real directory tree laid out like kubepods.
#include "agent/policy_engine.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <future>

#include "tests/support/agent_fakes.h"
#include "tests/support/temp_dir.h"

using namespace gthulhu::agent;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kPod = "0a1b2c3d-4e5f-6789-abcd-ef0123456789";
const std::string kPodU = "0a1b2c3d_4e5f_6789_abcd_ef0123456789";
const std::string kOther = "99999999-8888-7777-6666-555555555555";
const std::string kCtr = std::string(64, 'a');

using MemoryMaps = gthulhu::test::MemoryPolicyMaps;
using gthulhu::test::TableProcesses;


uint64_t inode(const fs::path& p) {
  struct stat st{};
  stat(p.c_str(), &st);
  return st.st_ino;
}

struct Engine : ::testing::Test {
  gthulhu::test::TempDir dir;
  fs::path pod_dir, ctr_dir;
  uint64_t pod_id = 0, ctr_id = 0;
  std::unique_ptr<CgroupTree> tree;
  MemoryMaps maps;
  TableProcesses procs;
  std::unique_ptr<PolicyEngine> engine;
  IntentStore store;

  void SetUp() override {
    pod_dir = dir.path() / "kubepods.slice" / "kubepods-burstable.slice" /
              ("kubepods-burstable-pod" + kPodU + ".slice");
    ctr_dir = pod_dir / ("cri-containerd-" + kCtr + ".scope");
    fs::create_directories(ctr_dir);
    fs::create_directories(dir.path() / "system.slice");
    pod_id = inode(pod_dir);
    ctr_id = inode(ctr_dir);
    tree = std::make_unique<CgroupTree>(dir.path());
    tree->scan();
    engine = std::make_unique<PolicyEngine>(maps, *tree, procs, "node-1");
  }
  std::vector<IntentResult> post(const json& intents) {
    store.apply({{"intents", intents}});
    return engine->reconcile(store.snapshot());
  }
  static const IntentResult& result(const std::vector<IntentResult>& rs, const std::string& id) {
    for (const auto& r : rs) {
      if (r.id == id) return r;
    }
    throw std::runtime_error("no result " + id);
  }
};

}  // namespace

TEST_F(Engine, PodWideIntentCoversPodAndContainerCgroups) {
  procs.procs = {{100, 1, ctr_id, "nginx"}, {101, 100, ctr_id, "nginx"}};
  auto rs = post({{{"id", "i1"}, {"podID", kPod}, {"priority", 5}, {"executionTime", 4000000}}});
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].state, IntentState::kApplied);
  EXPECT_EQ(rs[0].matched_processes, 2u);
  ASSERT_TRUE(maps.cg.count(pod_id));
  ASSERT_TRUE(maps.cg.count(ctr_id));
  EXPECT_EQ(maps.cg.size(), 2u);
  const auto& p = maps.cg[ctr_id];
  EXPECT_EQ(p.priority, 5);
  EXPECT_EQ(p.slice_ns, 4000000u);
  EXPECT_EQ(p.weight, gthulhu_weight_of(5));
  EXPECT_EQ(p.flags, static_cast<uint32_t>(GTHULHU_POLICY_APPLY));
  EXPECT_NE(p.policy_id, 0u);
  EXPECT_TRUE(maps.ov.empty());
}

TEST_F(Engine, CommandRegexFlagsPodAndOverridesOnlyMatchingProcesses) {
  procs.procs = {{100, 1, ctr_id, "nginx"}, {200, 1, ctr_id, "sidecar"}};
  auto rs = post({{{"id", "r"}, {"podID", kPod}, {"commandRegex", "^ngin"}, {"priority", 10}}});
  EXPECT_EQ(result(rs, "r").state, IntentState::kApplied);
  EXPECT_EQ(result(rs, "r").matched_processes, 1u);
  // The pod's cgroups only watch execs; they apply nothing pod-wide.
  EXPECT_EQ(maps.cg[ctr_id].flags, static_cast<uint32_t>(GTHULHU_POLICY_WATCH_EXEC));
  ASSERT_EQ(maps.ov.size(), 1u);
  EXPECT_EQ(maps.ov[100].priority, 10);
  EXPECT_FALSE(maps.ov.count(200));

  // A later exec of a matching command gets an override; a non-match loses it.
  EXPECT_TRUE(engine->on_exec(300, ctr_id, "nginx-worker")) << "a match is reported (the latency metric counts it)";
  EXPECT_EQ(maps.ov[300].priority, 10);
  EXPECT_FALSE(engine->on_exec(100, ctr_id, "bash"));
  EXPECT_FALSE(maps.ov.count(100));
  EXPECT_EQ(result(engine->results(), "r").matched_processes, 1u);
}

TEST_F(Engine, RegexWaitsUntilAProcessMatches) {
  auto rs = post({{{"id", "r"}, {"podID", kPod}, {"commandRegex", "^redis"}, {"priority", 3}}});
  EXPECT_EQ(result(rs, "r").state, IntentState::kWaiting);
  engine->on_exec(400, ctr_id, "redis-server");
  EXPECT_EQ(result(engine->results(), "r").state, IntentState::kApplied);
  engine->on_exit(400, ctr_id);
  EXPECT_EQ(result(engine->results(), "r").state, IntentState::kWaiting);
}

TEST_F(Engine, InvalidRegexAndForeignNodeAreInvalidWithReasons) {
  auto rs = post({{{"id", "bad"}, {"podID", kPod}, {"commandRegex", "(unclosed"}},
                  {{"id", "far"}, {"podID", kPod}, {"nodeID", "node-9"}},
                  {{"id", "prio"}, {"podID", kPod}, {"priority", 21}}});
  EXPECT_EQ(result(rs, "bad").state, IntentState::kInvalid);
  EXPECT_NE(result(rs, "bad").reason.find("not valid RE2"), std::string::npos);
  EXPECT_NE(result(rs, "far").reason.find("node-9"), std::string::npos);
  EXPECT_NE(result(rs, "prio").reason.find("-20..20"), std::string::npos);
  EXPECT_TRUE(maps.cg.empty());
}

TEST_F(Engine, PodNotOnNodeWaitsThenAppliesWhenItsCgroupAppears) {
  auto rs = post({{{"id", "w"}, {"podID", kOther}, {"priority", 2}}});
  EXPECT_EQ(result(rs, "w").state, IntentState::kWaiting);
  EXPECT_TRUE(maps.cg.empty());
  // kubelet creates the pod slice: the tracker reports the mkdir.
  auto other_dir = dir.path() / "kubepods.slice" / "kubepods-burstable.slice" /
                   "kubepods-burstable-pod99999999_8888_7777_6666_555555555555.slice";
  fs::create_directories(other_dir);
  const uint64_t id = inode(other_dir);
  auto uid = tree->on_mkdir(id, inode(other_dir.parent_path()), other_dir.filename().string());
  ASSERT_TRUE(uid.has_value());
  engine->on_pod_cgroup(id, *uid);
  EXPECT_EQ(maps.cg[id].priority, 2);
  EXPECT_EQ(result(engine->results(), "w").state, IntentState::kApplied);
}

TEST_F(Engine, OverlapRuleHighestPriorityThenSmallestId) {
  procs.procs = {{100, 1, ctr_id, "nginx"}};
  post({{{"id", "b"}, {"podID", kPod}, {"priority", 4}},
        {{"id", "a"}, {"podID", kPod}, {"priority", 4}, {"executionTime", 2000000}},
        {{"id", "c"}, {"podID", kPod}, {"priority", 1}}});
  // Equal priority 4: "a" < "b".
  EXPECT_EQ(maps.cg[pod_id].slice_ns, 2000000u);
  // A regex intent with higher priority wins for its processes only.
  post({{{"id", "a"}, {"podID", kPod}, {"priority", 4}},
        {{"id", "z"}, {"podID", kPod}, {"priority", 9}, {"commandRegex", "nginx"}}});
  EXPECT_EQ(maps.cg[pod_id].priority, 4);
  EXPECT_EQ(maps.ov[100].priority, 9);
  // And a lower-priority regex intent does not lower a process below the pod-wide one.
  post({{{"id", "a"}, {"podID", kPod}, {"priority", 4}},
        {{"id", "z"}, {"podID", kPod}, {"priority", -3}, {"commandRegex", "nginx"}}});
  EXPECT_EQ(maps.ov[100].priority, 4);
}

TEST_F(Engine, RemovingIntentsRemovesEntriesAndStaleOnesFromAPreviousAgent) {
  maps.cg[777] = gthulhu_policy{1, 1, 0, GTHULHU_POLICY_APPLY, 1280};  // left by an old agent
  maps.ov[4242] = gthulhu_policy{1, 1, 0, GTHULHU_POLICY_APPLY, 1280};
  post({{{"id", "i"}, {"podID", kPod}, {"priority", 1}}});
  EXPECT_FALSE(maps.cg.count(777));
  EXPECT_FALSE(maps.ov.count(4242));
  EXPECT_EQ(maps.cg.size(), 2u);
  post(json::array());
  EXPECT_TRUE(maps.cg.empty());
}

TEST_F(Engine, ReconcileWritesOnlyDifferencesAndKeepsPolicyIds) {
  auto first = post({{{"id", "i"}, {"podID", kPod}, {"priority", 1}}});
  const int writes = maps.writes;
  auto again = post({{{"id", "i"}, {"podID", kPod}, {"priority", 1}}});
  EXPECT_EQ(maps.writes, writes) << "an unchanged intent set must not rewrite the maps";
  EXPECT_EQ(first[0].policy_id, again[0].policy_id);
}

TEST_F(Engine, ProcessPoliciesForTheStrategiesEndpointSkipPause) {
  procs.procs = {{1, 0, pod_id, "pause"}, {100, 1, ctr_id, "nginx"}, {200, 1, ctr_id, "sh"}};
  post({{{"id", "a"}, {"podID", kPod}, {"priority", 2}, {"podLabels", {{"app", "web"}}}},
        {{"id", "r"}, {"podID", kPod}, {"priority", 8}, {"commandRegex", "^nginx$"}}});
  auto rows = engine->process_policies();
  ASSERT_EQ(rows.size(), 2u);
  std::map<uint32_t, ProcessPolicy> by_pid;
  for (auto& r : rows) by_pid[r.pid] = r;
  EXPECT_EQ(by_pid[100].priority, 8);
  EXPECT_EQ(by_pid[100].command_regex, "^nginx$");
  EXPECT_EQ(by_pid[200].priority, 2);
  EXPECT_EQ(by_pid[200].pod_labels.at("app"), "web");
}

TEST_F(Engine, ReleasedWaitersAnswerAtOnce) {
  const uint64_t version = engine->report(0).results_version;
  auto waiter = std::async(std::launch::async, [&] { return engine->wait_for_change(version, std::chrono::seconds(60)); });
  engine->release_waiters();
  // Bounded only so a failure ends: a released long poll must not wait out its minute.
  ASSERT_EQ(waiter.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(waiter.get(), version);
  const auto t0 = std::chrono::steady_clock::now();
  engine->wait_for_change(version, std::chrono::seconds(60));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10)) << "a later waiter must not block";
}
