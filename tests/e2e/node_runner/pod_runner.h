#pragma once
// Plays the kubelet's part for the pods bound to one node (tests and `make demo`): a
// reflector sink that, for every pod with spec.nodeName == this node, creates its
// kubelet-style cgroups (kubelet_cgroups.h), starts each container's command in its
// container cgroup, and reports phase Running with podIP and Ready conditions through
// the status subresource; a deleted pod has its processes killed (cgroup.kill) and its
// cgroups removed. It runs no images: a container's command runs from the node's own
// filesystem.
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <sys/types.h>

#include "coordinator/kube/kube_client.h"
#include "coordinator/kube/reflector.h"
#include "tests/e2e/node_runner/kubelet_cgroups.h"

namespace gthulhu::e2e {

struct PodRunnerOptions {
  std::string node_name;
  std::filesystem::path cgroup_root;  // the cgroup2 mount
  std::string pod_ip;                 // reported as status.podIP (the node's address)
};

class PodRunner : public coordinator::kube::ReflectorSink {
 public:
  PodRunner(coordinator::kube::KubeClient& client, PodRunnerOptions options);
  ~PodRunner() override;  // stops every pod it started
  void apply(const std::vector<coordinator::kube::ObjectDelta>& deltas, bool initial) override;
  void stop_all();

 private:
  struct Running {
    PodCgroupPlan plan;
    std::vector<pid_t> pids;
  };
  void start_pod(const std::string& key, const nlohmann::json& pod);
  void stop_pod(const std::string& key);
  void report_running(const nlohmann::json& pod);

  coordinator::kube::KubeClient& client_;
  PodRunnerOptions options_;
  std::mutex mu_;
  std::map<std::string, Running> pods_;  // "namespace/name" -> what runs
};

}  // namespace gthulhu::e2e
