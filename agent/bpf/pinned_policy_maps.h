#pragma once
// PolicyMaps over the kernel's policy_by_cgroup and policy_by_tgid (bpf/policy_maps.bpf.h),
// by file descriptor: either the tracker's own maps (TrackerBpf::policy_maps()) or the
// pins under a pin root, for a process that needs the tables without loading a BPF
// object. No libbpf in this header.
#include <memory>
#include <string>

#include "agent/policy_maps.h"

namespace gthulhu::agent {

class PinnedPolicyMaps final : public PolicyMaps {
 public:
  // Takes ownership of both descriptors.
  PinnedPolicyMaps(int cgroup_map_fd, int tgid_map_fd);
  // Opens <pin_root>/policy_by_cgroup and <pin_root>/policy_by_tgid and checks that
  // their key and value sizes are this build's. nullptr on failure, reason in *error.
  static std::unique_ptr<PinnedPolicyMaps> open(const std::string& pin_root,
                                                std::string* error = nullptr);
  ~PinnedPolicyMaps() override;
  PinnedPolicyMaps(const PinnedPolicyMaps&) = delete;
  PinnedPolicyMaps& operator=(const PinnedPolicyMaps&) = delete;

  std::string set_cgroup_policy(uint64_t cgroup_id, const gthulhu_policy& policy) override;
  std::string clear_cgroup_policy(uint64_t cgroup_id) override;
  std::string set_process_override(uint32_t tgid, const gthulhu_policy& policy) override;
  std::string clear_process_override(uint32_t tgid) override;
  std::optional<gthulhu_policy> cgroup_policy(uint64_t cgroup_id) const override;
  std::optional<gthulhu_policy> process_override(uint32_t tgid) const override;
  std::vector<std::pair<uint64_t, gthulhu_policy>> cgroup_policies() const override;
  std::vector<std::pair<uint32_t, gthulhu_policy>> process_overrides() const override;

 private:
  int cgroup_fd_;
  int tgid_fd_;
};

}  // namespace gthulhu::agent
