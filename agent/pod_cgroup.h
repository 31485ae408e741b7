#pragma once
// Recognises Kubernetes pod and container cgroups from their cgroup v2 path (relative
// to the cgroup2 root), for every layout kubelet and the container runtimes produce:
//   systemd driver   /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice/
//                      cri-containerd-<id>.scope | crio-<id>.scope | docker-<id>.scope
//   cgroupfs driver  /kubepods/besteffort/pod<uid>/<id>   (CRI-O: crio-<id>)
//   containerd not using systemd cgroups on a systemd host
//                    /system.slice/containerd.service/kubepods-burstable-pod<uid_>.slice:cri-containerd:<id>
//   kind / nested kubelet
//                    /kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/
//                      kubelet-kubepods-besteffort-pod<uid_>.slice/cri-containerd-<id>.scope
// Guaranteed pods have no QoS segment. crun may put processes in a child of the
// container cgroup: everything below the pod cgroup belongs to the pod.
#include <optional>
#include <string>
#include <string_view>

#include "common/wire/pod_uid.h"

namespace gthulhu::agent {

using wire::canonical_pod_uid;

enum class QosClass { kGuaranteed, kBurstable, kBestEffort };
enum class CgroupDriver { kSystemd, kCgroupfs };
enum class ContainerRuntime { kUnknown, kContainerd, kCrio, kDocker };

const char* to_string(QosClass q);
const char* to_string(CgroupDriver d);
const char* to_string(ContainerRuntime r);

struct PodCgroup {
  std::string pod_uid;       // canonical: lower-case, dashes
  QosClass qos = QosClass::kGuaranteed;
  CgroupDriver driver = CgroupDriver::kSystemd;
  std::string pod_path;      // the path up to and including the pod's own cgroup
  bool is_pod_cgroup = true; // the path is the pod cgroup itself (not a descendant)
  std::string container_id;  // 64 hex when the path is in a container cgroup
  ContainerRuntime runtime = ContainerRuntime::kUnknown;
  bool is_runtime_helper = false;  // CRI-O's conmon: not a workload container
};

// nullopt when the path is not inside a pod cgroup.
std::optional<PodCgroup> parse_pod_cgroup(std::string_view path);

}  // namespace gthulhu::agent
