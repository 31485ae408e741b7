#include "agent/bpf/tracker_processes.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <unordered_set>

#include "agent/bpf/tracker_bpf.h"

namespace gthulhu::agent {

TrackerProcesses::TrackerProcesses(const TrackerBpf& tracker, const std::string& cgroup2_dir)
    : tracker_(tracker), cgroup_procs_(cgroup2_dir) {
  if (!cgroup_procs_.unavailable_reason().empty()) {
    spdlog::warn("agent: pod processes come from a full read of the tracker's table ({})",
                 cgroup_procs_.unavailable_reason());
  }
}

std::vector<ProcessInfo> TrackerProcesses::processes_in(const std::set<uint64_t>& cgroup_ids) const {
  std::vector<ProcessInfo> out;
  for (uint64_t cg : cgroup_ids) {
    auto pids = cgroup_procs_.pids_of(cg);
    if (!pids) {
      static std::atomic<bool> logged{false};
      if (!logged.exchange(true))
        spdlog::warn("agent: reading cgroup.procs by cgroup id failed; using the whole process table");
      return from_whole_table(cgroup_ids);
    }
    for (uint32_t pid : *pids) {
      // A pid the tracker does not know (forked this instant, or the table is full) is
      // reported when the tracker has it: the table is what names the process.
      auto p = tracker_.process(pid);
      if (!p) continue;
      // The kernel's membership wins over a table entry a migration event has not
      // updated yet.
      out.push_back({p->tgid, p->ppid, cg, p->comm});
    }
  }
  return out;
}

std::vector<ProcessInfo> TrackerProcesses::from_whole_table(const std::set<uint64_t>& ids) const {
  std::unordered_set<uint64_t> set(ids.begin(), ids.end());
  std::vector<ProcessInfo> out;
  for (const auto& p : tracker_.processes_in(set)) out.push_back({p.tgid, p.ppid, p.cgroup_id, p.comm});
  return out;
}

}  // namespace gthulhu::agent
