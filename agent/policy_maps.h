#pragma once
// The agent's view of the kernel policy tables (bpf/policy_maps.bpf.h). The policy
// engine depends on this interface only; the tracker's BPF wrapper implements it over
// the pinned maps, and unit tests use an in-memory fake.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

extern "C" {
#include "bpf/gthulhu_shared.h"
}

namespace gthulhu::agent {

class PolicyMaps {
 public:
  virtual ~PolicyMaps() = default;
  // Each returns an empty string on success, else the error (errno text) to report.
  virtual std::string set_cgroup_policy(uint64_t cgroup_id, const gthulhu_policy& policy) = 0;
  virtual std::string clear_cgroup_policy(uint64_t cgroup_id) = 0;
  virtual std::string set_process_override(uint32_t tgid, const gthulhu_policy& policy) = 0;
  virtual std::string clear_process_override(uint32_t tgid) = 0;
  virtual std::optional<gthulhu_policy> cgroup_policy(uint64_t cgroup_id) const = 0;
  virtual std::optional<gthulhu_policy> process_override(uint32_t tgid) const = 0;
  virtual std::vector<std::pair<uint64_t, gthulhu_policy>> cgroup_policies() const = 0;
  virtual std::vector<std::pair<uint32_t, gthulhu_policy>> process_overrides() const = 0;
};

}  // namespace gthulhu::agent
