// Table-driven: real cgroup layouts produced by kubelet + containerd / CRI-O / docker
// with the systemd and cgroupfs drivers, kind, and non-pod paths that must not match.
#include "agent/pod_cgroup.h"

#include <gtest/gtest.h>

using namespace gthulhu::agent;

namespace {

const std::string kUid = "0a1b2c3d-4e5f-6789-abcd-ef0123456789";
const std::string kUidU = "0a1b2c3d_4e5f_6789_abcd_ef0123456789";
const std::string kId = "4f3a0f6dd9b31f4d7bfa2fd6e2bb1f27a1df3b8e1e0f3c4f1c2b3a4d5e6f7a8b";

struct Case {
  std::string name;
  std::string path;
  bool pod;
  QosClass qos = QosClass::kGuaranteed;
  CgroupDriver driver = CgroupDriver::kSystemd;
  bool is_pod_cgroup = false;
  std::string container_id;
  ContainerRuntime runtime = ContainerRuntime::kUnknown;
  bool helper = false;
  std::string pod_path;
};

Case not_pod(std::string name, std::string path) {
  return Case{std::move(name), std::move(path), false, QosClass::kGuaranteed, CgroupDriver::kSystemd,
              false, "", ContainerRuntime::kUnknown, false, ""};
}

std::vector<Case> cases() {
  return {
      {"systemd_containerd_burstable",
       "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidU +
           ".slice/cri-containerd-" + kId + ".scope",
       true, QosClass::kBurstable, CgroupDriver::kSystemd, false, kId, ContainerRuntime::kContainerd,
       false,
       "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidU + ".slice"},
      {"systemd_containerd_besteffort_pod_level",
       "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + kUidU + ".slice",
       true, QosClass::kBestEffort, CgroupDriver::kSystemd, true, "", ContainerRuntime::kUnknown,
       false,
       "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + kUidU + ".slice"},
      {"systemd_guaranteed",
       "/kubepods.slice/kubepods-pod" + kUidU + ".slice/cri-containerd-" + kId + ".scope", true,
       QosClass::kGuaranteed, CgroupDriver::kSystemd, false, kId, ContainerRuntime::kContainerd,
       false, "/kubepods.slice/kubepods-pod" + kUidU + ".slice"},
      {"systemd_crio",
       "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidU +
           ".slice/crio-" + kId + ".scope",
       true, QosClass::kBurstable, CgroupDriver::kSystemd, false, kId, ContainerRuntime::kCrio,
       false, ""},
      {"systemd_crio_conmon_is_helper",
       "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidU +
           ".slice/crio-conmon-" + kId + ".scope",
       true, QosClass::kBurstable, CgroupDriver::kSystemd, false, kId, ContainerRuntime::kCrio,
       true, ""},
      {"systemd_docker",
       "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + kUidU +
           ".slice/docker-" + kId + ".scope",
       true, QosClass::kBestEffort, CgroupDriver::kSystemd, false, kId, ContainerRuntime::kDocker,
       false, ""},
      {"cgroupfs_containerd", "/kubepods/burstable/pod" + kUid + "/" + kId, true,
       QosClass::kBurstable, CgroupDriver::kCgroupfs, false, kId, ContainerRuntime::kUnknown, false,
       "/kubepods/burstable/pod" + kUid},
      {"cgroupfs_guaranteed_pod_level", "/kubepods/pod" + kUid, true, QosClass::kGuaranteed,
       CgroupDriver::kCgroupfs, true, "", ContainerRuntime::kUnknown, false, "/kubepods/pod" + kUid},
      {"cgroupfs_crio", "/kubepods/besteffort/pod" + kUid + "/crio-" + kId, true,
       QosClass::kBestEffort, CgroupDriver::kCgroupfs, false, kId, ContainerRuntime::kCrio, false,
       ""},
      {"containerd_service_colon_form",
       "/system.slice/containerd.service/kubepods-burstable-pod" + kUidU +
           ".slice:cri-containerd:" + kId,
       true, QosClass::kBurstable, CgroupDriver::kSystemd, false, kId,
       ContainerRuntime::kContainerd, false,
       "/system.slice/containerd.service/kubepods-burstable-pod" + kUidU + ".slice"},
      {"kind_nested_kubelet",
       "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
       "kubelet-kubepods-besteffort-pod" + kUidU + ".slice/cri-containerd-" + kId + ".scope",
       true, QosClass::kBestEffort, CgroupDriver::kSystemd, false, kId,
       ContainerRuntime::kContainerd, false, ""},
      {"crun_subgroup_below_container",
       "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidU +
           ".slice/cri-containerd-" + kId + ".scope/container",
       true, QosClass::kBurstable, CgroupDriver::kSystemd, false, kId,
       ContainerRuntime::kContainerd, false, ""},
      {"upper_case_uid", "/kubepods/burstable/pod0A1B2C3D-4E5F-6789-ABCD-EF0123456789/" + kId,
       true, QosClass::kBurstable, CgroupDriver::kCgroupfs, false, kId, ContainerRuntime::kUnknown,
       false, ""},
      not_pod("qos_slice_is_not_a_pod", "/kubepods.slice/kubepods-burstable.slice"),
      not_pod("kubepods_root_is_not_a_pod", "/kubepods.slice"),
      not_pod("system_service", "/system.slice/containerd.service"),
      not_pod("user_session", "/user.slice/user-1000.slice/session-2.scope"),
      not_pod("pod_outside_kubepods", "/pod" + kUid),
      not_pod("truncated_uid", "/kubepods/burstable/pod0a1b2c3d-4e5f-6789-abcd"),
      not_pod("root", "/"),
      not_pod("empty", ""),
  };
}

class PodCgroupLayouts : public ::testing::TestWithParam<Case> {};

}  // namespace

TEST_P(PodCgroupLayouts, Parses) {
  const Case& c = GetParam();
  auto got = parse_pod_cgroup(c.path);
  ASSERT_EQ(got.has_value(), c.pod) << c.path;
  if (!c.pod) return;
  EXPECT_EQ(got->pod_uid, kUid);
  EXPECT_EQ(got->qos, c.qos) << to_string(got->qos);
  EXPECT_EQ(got->driver, c.driver);
  EXPECT_EQ(got->is_pod_cgroup, c.is_pod_cgroup);
  EXPECT_EQ(got->container_id, c.container_id);
  EXPECT_EQ(got->runtime, c.runtime) << to_string(got->runtime);
  EXPECT_EQ(got->is_runtime_helper, c.helper);
  if (!c.pod_path.empty()) {
    EXPECT_EQ(got->pod_path, c.pod_path);
  }
}

INSTANTIATE_TEST_SUITE_P(RealLayouts, PodCgroupLayouts, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

TEST(PodUid, Canonicalises) {
  EXPECT_EQ(canonical_pod_uid(kUidU), kUid);
  EXPECT_EQ(canonical_pod_uid("0A1B2C3D-4E5F-6789-ABCD-EF0123456789"), kUid);
  EXPECT_FALSE(canonical_pod_uid("0a1b2c3d-4e5f-6789-abcd-ef012345678"));
  EXPECT_FALSE(canonical_pod_uid("0a1b2c3d+4e5f-6789-abcd-ef0123456789"));
  EXPECT_FALSE(canonical_pod_uid("0a1b2c3d-4e5f-6789-abcd-ef012345678g"));
}
