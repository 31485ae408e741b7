#pragma once
// In-memory stand-ins for the agent's kernel side, for unit tests of the policy
// engine and the REST API: the policy maps and the tracker's process table.
#include <map>
#include <set>
#include <vector>

#include "agent/policy_maps.h"
#include "agent/process_source.h"

namespace gthulhu::test {

class MemoryPolicyMaps : public agent::PolicyMaps {
 public:
  std::map<uint64_t, gthulhu_policy> cg;
  std::map<uint32_t, gthulhu_policy> ov;
  int writes = 0;

  std::string set_cgroup_policy(uint64_t id, const gthulhu_policy& p) override {
    ++writes;
    cg[id] = p;
    return "";
  }
  std::string clear_cgroup_policy(uint64_t id) override {
    ++writes;
    cg.erase(id);
    return "";
  }
  std::string set_process_override(uint32_t t, const gthulhu_policy& p) override {
    ++writes;
    ov[t] = p;
    return "";
  }
  std::string clear_process_override(uint32_t t) override {
    ++writes;
    ov.erase(t);
    return "";
  }
  std::optional<gthulhu_policy> cgroup_policy(uint64_t id) const override {
    auto it = cg.find(id);
    return it == cg.end() ? std::nullopt : std::optional(it->second);
  }
  std::optional<gthulhu_policy> process_override(uint32_t t) const override {
    auto it = ov.find(t);
    return it == ov.end() ? std::nullopt : std::optional(it->second);
  }
  std::vector<std::pair<uint64_t, gthulhu_policy>> cgroup_policies() const override {
    return {cg.begin(), cg.end()};
  }
  std::vector<std::pair<uint32_t, gthulhu_policy>> process_overrides() const override {
    return {ov.begin(), ov.end()};
  }
};

class TableProcesses : public agent::ProcessSource {
 public:
  std::vector<agent::ProcessInfo> procs;
  std::vector<agent::ProcessInfo> processes_in(const std::set<uint64_t>& ids) const override {
    std::vector<agent::ProcessInfo> out;
    for (const auto& p : procs) {
      if (ids.count(p.cgroup_id)) out.push_back(p);
    }
    return out;
  }
};

}  // namespace gthulhu::test
