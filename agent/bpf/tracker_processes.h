#pragma once
// The agent's ProcessSource on a real node: which processes live in given cgroups,
// read from the kernel's cgroup.procs of exactly those cgroups (agent/cgroup_procs.h)
// with each pid looked up in the tracker's proc_table, so the cost follows the pods'
// processes and not the node's. Where cgroup.procs cannot be read by id (no
// CAP_DAC_READ_SEARCH, not the host pid namespace) it falls back to one read of the
// whole table, logged once.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "agent/cgroup_procs.h"
#include "agent/process_source.h"

namespace gthulhu::agent {

class TrackerBpf;

class TrackerProcesses final : public ProcessSource {
 public:
  TrackerProcesses(const TrackerBpf& tracker, const std::string& cgroup2_dir);
  std::vector<ProcessInfo> processes_in(const std::set<uint64_t>& cgroup_ids) const override;

 private:
  std::vector<ProcessInfo> from_whole_table(const std::set<uint64_t>& cgroup_ids) const;

  const TrackerBpf& tracker_;
  CgroupProcs cgroup_procs_;
};

}  // namespace gthulhu::agent
