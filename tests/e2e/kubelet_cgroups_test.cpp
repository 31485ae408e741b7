// The node runner computes the kubelet's cgroup paths and CPU settings; these are the
// kubelet's own figures (pkg/kubelet/cm: MilliCPUToShares, CPUSharesToCPUWeight, quota).
#include "tests/e2e/node_runner/kubelet_cgroups.h"

#include <gtest/gtest.h>

using gthulhu::e2e::QosClass;
using nlohmann::json;

namespace {
json pod_with(json resources) {
  return {{"metadata", {{"uid", "6f1c2a52-7d4e-4b8a-9e3f-0a1b2c3d4e5f"}}},
          {"spec", {{"containers", json::array({{{"name", "app"}, {"resources", resources}}})}}}};
}
}  // namespace

TEST(KubeletCgroups, ParsesCpuQuantities) {
  EXPECT_EQ(gthulhu::e2e::parse_milli_cpu("250m"), 250);
  EXPECT_EQ(gthulhu::e2e::parse_milli_cpu("2"), 2000);
  EXPECT_EQ(gthulhu::e2e::parse_milli_cpu("0.5"), 500);
  EXPECT_FALSE(gthulhu::e2e::parse_milli_cpu("lots"));
  EXPECT_FALSE(gthulhu::e2e::parse_milli_cpu("-1"));
}

TEST(KubeletCgroups, WeightAndQuotaMatchTheKubelet) {
  EXPECT_EQ(gthulhu::e2e::cpu_weight_from_milli(0), 1u);      // shares 2
  EXPECT_EQ(gthulhu::e2e::cpu_weight_from_milli(1000), 39u);  // shares 1024
  EXPECT_EQ(gthulhu::e2e::cpu_weight_from_milli(100), 4u);    // shares 102
  EXPECT_EQ(gthulhu::e2e::cpu_max_from_milli(500), "50000 100000");
  EXPECT_EQ(gthulhu::e2e::cpu_max_from_milli(std::nullopt), "max 100000");
}

TEST(KubeletCgroups, BurstablePodGoesUnderItsQosSlice) {
  auto plan = gthulhu::e2e::plan_pod_cgroups(pod_with({{"requests", {{"cpu", "1"}}}, {"limits", {{"cpu", "2"}}}}));
  EXPECT_EQ(plan.qos, QosClass::Burstable);
  EXPECT_EQ(plan.pod_dir,
            "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6f1c2a52_7d4e_4b8a_9e3f_0a1b2c3d4e5f.slice");
  ASSERT_EQ(plan.container_dirs.size(), 1u);
  EXPECT_EQ(plan.container_dirs[0].rfind(plan.pod_dir + "/cri-containerd-", 0), 0u);
  EXPECT_EQ(plan.container_dirs[0].size(), plan.pod_dir.size() + 16 + 64 + 6);
  EXPECT_EQ(plan.cpu_weight, 39u);
  EXPECT_EQ(plan.cpu_max, "200000 100000");
}

TEST(KubeletCgroups, GuaranteedAndBestEffortPods) {
  auto g = gthulhu::e2e::plan_pod_cgroups(pod_with({{"limits", {{"cpu", "500m"}, {"memory", "64Mi"}}}}));
  EXPECT_EQ(g.qos, QosClass::Guaranteed);
  EXPECT_EQ(g.pod_dir, "kubepods.slice/kubepods-pod6f1c2a52_7d4e_4b8a_9e3f_0a1b2c3d4e5f.slice");
  EXPECT_EQ(g.cpu_max, "50000 100000");
  auto b = gthulhu::e2e::plan_pod_cgroups(pod_with(json::object()));
  EXPECT_EQ(b.qos, QosClass::BestEffort);
  EXPECT_EQ(b.cpu_weight, 1u);
  EXPECT_EQ(b.cpu_max, "max 100000");
}

TEST(KubeletCgroups, BadInputNamesTheField) {
  EXPECT_THROW(gthulhu::e2e::plan_pod_cgroups(json::object()), std::invalid_argument);
  try {
    gthulhu::e2e::plan_pod_cgroups(pod_with({{"requests", {{"cpu", "fast"}}}}));
    FAIL() << "a bad quantity was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("resources.requests.cpu"), std::string::npos);
  }
}
