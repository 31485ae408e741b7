#pragma once
// The node's cgroup v2 tree as far as pods are concerned: which cgroup ids belong to
// which pod. Built once at start by walking the cgroup2 mount (a directory walk of
// cgroupfs, not a /proc scan; the id of a cgroup is its directory's inode number) and
// then kept current from the tracker's mkdir/rmdir events, so new pods and containers
// are known without polling.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/pod_cgroup.h"

namespace gthulhu::agent {

struct PodCgroups {
  std::string pod_uid;
  QosClass qos = QosClass::kGuaranteed;
  uint64_t pod_cgroup_id = 0;
  std::string pod_path;
  std::set<uint64_t> cgroup_ids;                 // the pod cgroup and every descendant
  std::map<uint64_t, std::string> container_of;  // cgroup id -> container id (64 hex)
};

class CgroupTree {
 public:
  // `root`: the cgroup2 mount as the agent sees it (e.g. /sys/fs/cgroup, or
  // /sys/fs/cgroup/unified on hybrid hosts, or a hostPath mount in a DaemonSet).
  explicit CgroupTree(std::filesystem::path root);

  // Walks the whole tree; returns the number of cgroups seen. Unreadable directories
  // are skipped with a warning (they may vanish while we walk).
  size_t scan();

  // Tracker events. `name` is the new directory's name, `parent_id` its parent's id.
  // Returns the pod uid the cgroup belongs to, if any.
  std::optional<std::string> on_mkdir(uint64_t id, uint64_t parent_id, const std::string& name);
  void on_rmdir(uint64_t id);

  std::optional<PodCgroups> pod(const std::string& pod_uid) const;
  std::optional<std::string> pod_of_cgroup(uint64_t id) const;
  std::vector<std::string> pod_uids() const;
  std::optional<std::string> path_of(uint64_t id) const;
  size_t size() const;

  // Finds the cgroup2 mount from /proc/self/mountinfo (the agent's own mount table,
  // not a process scan). nullopt when none is mounted.
  static std::optional<std::filesystem::path> find_cgroup2_mount();

 private:
  struct Node {
    uint64_t parent = 0;
    std::string name;
  };
  std::string path_locked(uint64_t id) const;
  void index_locked(uint64_t id);
  void unindex_locked(uint64_t id);

  std::filesystem::path root_;
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, Node> nodes_;
  std::unordered_map<uint64_t, std::string> pod_by_cgroup_;
  std::map<std::string, PodCgroups> pods_;
};

}  // namespace gthulhu::agent
