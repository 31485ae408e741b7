#include "agent/cgroup_tree.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <sstream>

namespace gthulhu::agent {

namespace fs = std::filesystem;

CgroupTree::CgroupTree(fs::path root) : root_(std::move(root)) {}

std::optional<fs::path> CgroupTree::find_cgroup2_mount() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  std::optional<fs::path> found;
  while (std::getline(in, line)) {
    // "36 25 0:31 / /sys/fs/cgroup/unified rw,... - cgroup2 cgroup2 rw,..."
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream tail(line.substr(dash + 3));
    std::string fstype;
    tail >> fstype;
    if (fstype != "cgroup2") continue;
    std::istringstream head(line.substr(0, dash));
    std::string id, parent, devno, root, mount_point;
    head >> id >> parent >> devno >> root >> mount_point;
    // Prefer the conventional locations if several are mounted.
    if (!found || mount_point == "/sys/fs/cgroup" || mount_point == "/sys/fs/cgroup/unified") {
      found = fs::path(mount_point);
    }
  }
  return found;
}

size_t CgroupTree::scan() {
  std::lock_guard lock(mu_);
  nodes_.clear();
  pod_by_cgroup_.clear();
  pods_.clear();
  struct stat st{};
  if (stat(root_.c_str(), &st) != 0) {
    spdlog::warn("cgroup tree: cannot stat {}: {}", root_.string(), std::strerror(errno));
    return 0;
  }
  const uint64_t root_id = st.st_ino;
  nodes_[root_id] = Node{0, ""};
  std::error_code ec;
  auto it = fs::recursive_directory_iterator(root_, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    spdlog::warn("cgroup tree: cannot walk {}: {}", root_.string(), ec.message());
    return nodes_.size();
  }
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      ec.clear();
      continue;
    }
    std::error_code dec;
    if (!it->is_directory(dec) || it->is_symlink(dec)) continue;
    struct stat cst{}, pst{};
    if (stat(it->path().c_str(), &cst) != 0) continue;
    if (stat(it->path().parent_path().c_str(), &pst) != 0) continue;
    nodes_[cst.st_ino] = Node{static_cast<uint64_t>(pst.st_ino), it->path().filename().string()};
  }
  for (const auto& [id, node] : nodes_) {
    (void)node;
    index_locked(id);
  }
  return nodes_.size();
}

std::string CgroupTree::path_locked(uint64_t id) const {
  std::vector<const std::string*> parts;
  for (int guard = 0; guard < 64; ++guard) {
    auto it = nodes_.find(id);
    if (it == nodes_.end() || it->second.parent == 0) break;
    parts.push_back(&it->second.name);
    id = it->second.parent;
  }
  std::string path;
  for (auto p = parts.rbegin(); p != parts.rend(); ++p) path += "/" + **p;
  return path.empty() ? "/" : path;
}

void CgroupTree::index_locked(uint64_t id) {
  auto parsed = parse_pod_cgroup(path_locked(id));
  if (!parsed) return;
  pod_by_cgroup_[id] = parsed->pod_uid;
  auto& pod = pods_[parsed->pod_uid];
  pod.pod_uid = parsed->pod_uid;
  pod.qos = parsed->qos;
  pod.cgroup_ids.insert(id);
  if (parsed->is_pod_cgroup) {
    pod.pod_cgroup_id = id;
    pod.pod_path = parsed->pod_path;
  }
  if (!parsed->container_id.empty() && !parsed->is_runtime_helper) {
    pod.container_of[id] = parsed->container_id;
  }
}

void CgroupTree::unindex_locked(uint64_t id) {
  auto it = pod_by_cgroup_.find(id);
  if (it == pod_by_cgroup_.end()) return;
  auto pod = pods_.find(it->second);
  if (pod != pods_.end()) {
    pod->second.cgroup_ids.erase(id);
    pod->second.container_of.erase(id);
    if (pod->second.pod_cgroup_id == id) pod->second.pod_cgroup_id = 0;
    if (pod->second.cgroup_ids.empty()) pods_.erase(pod);
  }
  pod_by_cgroup_.erase(it);
}

std::optional<std::string> CgroupTree::on_mkdir(uint64_t id, uint64_t parent_id,
                                                const std::string& name) {
  std::lock_guard lock(mu_);
  nodes_[id] = Node{parent_id, name};
  index_locked(id);
  auto it = pod_by_cgroup_.find(id);
  if (it == pod_by_cgroup_.end()) return std::nullopt;
  return it->second;
}

void CgroupTree::on_rmdir(uint64_t id) {
  std::lock_guard lock(mu_);
  unindex_locked(id);
  nodes_.erase(id);
}

std::optional<PodCgroups> CgroupTree::pod(const std::string& pod_uid) const {
  std::lock_guard lock(mu_);
  auto it = pods_.find(pod_uid);
  if (it == pods_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> CgroupTree::pod_of_cgroup(uint64_t id) const {
  std::lock_guard lock(mu_);
  auto it = pod_by_cgroup_.find(id);
  if (it == pod_by_cgroup_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> CgroupTree::pod_uids() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [uid, pod] : pods_) out.push_back(uid);
  return out;
}

std::optional<std::string> CgroupTree::path_of(uint64_t id) const {
  std::lock_guard lock(mu_);
  if (!nodes_.count(id)) return std::nullopt;
  return path_locked(id);
}

size_t CgroupTree::size() const {
  std::lock_guard lock(mu_);
  return nodes_.size();
}

}  // namespace gthulhu::agent
