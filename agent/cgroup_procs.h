#pragma once
// The kernel's own list of one cgroup's processes (its cgroup.procs file), found by
// cgroup id through a file handle on the cgroup2 mount (open_by_handle_at), so no path
// is needed and the cost is proportional to that cgroup's processes, never to the
// node's. Needs CAP_DAC_READ_SEARCH (the agent runs as root) and the host's pid
// namespace (cgroup.procs shows pids as the reader's namespace sees them; the tracker
// keys its table by host pids): available() says whether both hold.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gthulhu::agent {

class CgroupProcs {
 public:
  // `cgroup2_dir`: any directory on the cgroup2 filesystem (its mount, usually).
  explicit CgroupProcs(const std::string& cgroup2_dir);
  ~CgroupProcs();
  CgroupProcs(const CgroupProcs&) = delete;
  CgroupProcs& operator=(const CgroupProcs&) = delete;

  // Empty when pids_of() can work here, else why not (for one log line).
  const std::string& unavailable_reason() const { return unavailable_; }

  // The tgids in that cgroup (not its descendants). An empty list when the cgroup is
  // gone; nullopt when this way of reading fails for another reason (permission,
  // unsupported file handles), so the caller falls back to its table.
  std::optional<std::vector<uint32_t>> pids_of(uint64_t cgroup_id) const;

 private:
  int mount_fd_ = -1;
  std::string unavailable_;
};

}  // namespace gthulhu::agent
