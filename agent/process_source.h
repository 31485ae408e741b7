#pragma once
// Where the agent learns which processes live in which cgroup: the tracker's
// proc_table in production (kept by BPF, no /proc scan), an in-memory table in tests.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gthulhu::agent {

struct ProcessInfo {
  uint32_t tgid = 0;
  uint32_t ppid = 0;
  uint64_t cgroup_id = 0;
  std::string comm;
};

class ProcessSource {
 public:
  virtual ~ProcessSource() = default;
  virtual std::vector<ProcessInfo> processes_in(const std::set<uint64_t>& cgroup_ids) const = 0;
};

}  // namespace gthulhu::agent
