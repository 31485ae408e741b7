#pragma once
// The kubelet's cgroup layout and CPU settings for a pod (systemd cgroup driver, cgroup
// v2), computed the way the kubelet computes them, so the agent on a test node sees
// exactly what it sees on a real one:
//   QoS class   Guaranteed (every container: cpu and memory limits, requests equal to
//               them), BestEffort (no requests or limits at all), else Burstable
//   slices      kubepods.slice/[kubepods-<qos>.slice/]kubepods[-<qos>]-pod<uid, - as _>.slice
//               and one cri-containerd-<64 hex>.scope per container
//   cpu.weight  from the summed CPU requests: shares = milli * 1024 / 1000 (min 2), then
//               weight = 1 + (shares - 2) * 9999 / 262142 (the kubelet's v1->v2 mapping)
//   cpu.max     from the summed CPU limits: "<milli * 100000 / 1000> 100000", or "max 100000"
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gthulhu::e2e {

enum class QosClass { Guaranteed, Burstable, BestEffort };

struct PodCgroupPlan {
  QosClass qos = QosClass::BestEffort;
  std::string pod_dir;                      // relative to the cgroup2 root
  std::vector<std::string> container_dirs;  // one per spec.containers[], same order
  std::uint64_t cpu_weight = 1;
  std::string cpu_max = "max 100000";
};

// "250m" -> 250, "2" -> 2000, "0.5" -> 500; nullopt for anything else.
std::optional<std::int64_t> parse_milli_cpu(const std::string& quantity);
std::uint64_t cpu_weight_from_milli(std::int64_t milli_request);
std::string cpu_max_from_milli(std::optional<std::int64_t> milli_limit);
// Throws std::invalid_argument naming the field when the pod has no uid or a bad quantity.
PodCgroupPlan plan_pod_cgroups(const nlohmann::json& pod);

}  // namespace gthulhu::e2e
