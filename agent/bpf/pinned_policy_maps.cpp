#include "agent/bpf/pinned_policy_maps.h"

#include <bpf/bpf.h>
#include <unistd.h>


#include "agent/bpf/map_dump.h"

namespace gthulhu::agent {

namespace {

// The BpfError text of a failed call, for the PolicyMaps interface's string errors.
std::string errno_text(const std::string& what, int err) {
  return bpf_support::os_error(what, err).message;
}

// Checks a pinned map's layout against this build's types before we write to it.
std::string check_layout(int fd, const std::string& name, uint32_t key_size, uint32_t value_size) {
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  if (int err = bpf_map_get_info_by_fd(fd, &info, &len); err)
    return errno_text("map info of " + name, err);
  if (info.type != BPF_MAP_TYPE_HASH || info.key_size != key_size ||
      info.value_size != value_size)
    return "pinned map " + name + " (key " + std::to_string(info.key_size) + " B, value " +
           std::to_string(info.value_size) + " B) does not match this build (key " +
           std::to_string(key_size) + " B, value " + std::to_string(value_size) +
           " B): the pin comes from an incompatible version";
  return {};
}

template <typename K>
std::string update(int fd, K key, const gthulhu_policy& policy, const char* what) {
  if (int err = bpf_map_update_elem(fd, &key, &policy, BPF_ANY); err) return errno_text(what, err);
  return {};
}

// Clearing what is not there is success: callers converge on a state.
template <typename K>
std::string erase(int fd, K key, const char* what) {
  if (int err = bpf_map_delete_elem(fd, &key); err && err != -ENOENT)
    return errno_text(what, err);
  return {};
}

template <typename K>
std::optional<gthulhu_policy> lookup(int fd, K key) {
  gthulhu_policy policy{};
  if (bpf_map_lookup_elem(fd, &key, &policy) != 0) return std::nullopt;
  return policy;
}

template <typename K>
std::vector<std::pair<K, gthulhu_policy>> dump(int fd) {
  std::vector<std::pair<K, gthulhu_policy>> out;
  // A partial result on error, as a racing read would give.
  (void)bpf_support::dump_hash_map(fd, &out);
  return out;
}

}  // namespace

PinnedPolicyMaps::PinnedPolicyMaps(int cgroup_map_fd, int tgid_map_fd)
    : cgroup_fd_(cgroup_map_fd), tgid_fd_(tgid_map_fd) {}

PinnedPolicyMaps::~PinnedPolicyMaps() {
  if (cgroup_fd_ >= 0) close(cgroup_fd_);
  if (tgid_fd_ >= 0) close(tgid_fd_);
}

std::unique_ptr<PinnedPolicyMaps> PinnedPolicyMaps::open(const std::string& pin_root,
                                                         std::string* error) {
  auto fail = [&](std::string why) -> std::unique_ptr<PinnedPolicyMaps> {
    if (error) *error = std::move(why);
    return nullptr;
  };
  std::string cgroup_path = pin_root + "/policy_by_cgroup";
  std::string tgid_path = pin_root + "/policy_by_tgid";
  int cfd = bpf_obj_get(cgroup_path.c_str());
  if (cfd < 0) return fail(errno_text("open " + cgroup_path, errno));
  int tfd = bpf_obj_get(tgid_path.c_str());
  if (tfd < 0) {
    close(cfd);
    return fail(errno_text("open " + tgid_path, errno));
  }
  auto maps = std::make_unique<PinnedPolicyMaps>(cfd, tfd);
  // Pins of another ABI version may hold other layouts at the same sizes.
  if (auto abi = bpf_support::require_current_abi(pin_root); !abi) return fail(abi.error().message);
  if (auto why = check_layout(cfd, "policy_by_cgroup", sizeof(uint64_t), sizeof(gthulhu_policy));
      !why.empty())
    return fail(why);
  if (auto why = check_layout(tfd, "policy_by_tgid", sizeof(uint32_t), sizeof(gthulhu_policy));
      !why.empty())
    return fail(why);
  return maps;
}

std::string PinnedPolicyMaps::set_cgroup_policy(uint64_t cgroup_id, const gthulhu_policy& policy) {
  return update(cgroup_fd_, cgroup_id, policy, "policy_by_cgroup update");
}

std::string PinnedPolicyMaps::clear_cgroup_policy(uint64_t cgroup_id) {
  return erase(cgroup_fd_, cgroup_id, "policy_by_cgroup delete");
}

std::string PinnedPolicyMaps::set_process_override(uint32_t tgid, const gthulhu_policy& policy) {
  return update(tgid_fd_, tgid, policy, "policy_by_tgid update");
}

std::string PinnedPolicyMaps::clear_process_override(uint32_t tgid) {
  return erase(tgid_fd_, tgid, "policy_by_tgid delete");
}

std::optional<gthulhu_policy> PinnedPolicyMaps::cgroup_policy(uint64_t cgroup_id) const {
  return lookup(cgroup_fd_, cgroup_id);
}

std::optional<gthulhu_policy> PinnedPolicyMaps::process_override(uint32_t tgid) const {
  return lookup(tgid_fd_, tgid);
}

std::vector<std::pair<uint64_t, gthulhu_policy>> PinnedPolicyMaps::cgroup_policies() const {
  return dump<uint64_t>(cgroup_fd_);
}

std::vector<std::pair<uint32_t, gthulhu_policy>> PinnedPolicyMaps::process_overrides() const {
  return dump<uint32_t>(tgid_fd_);
}

}  // namespace gthulhu::agent
