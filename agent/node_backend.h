#pragma once
// Everything the agent daemon needs from the node's kernel side, behind one interface:
// the policy maps, the process table, status views and the event stream. The BPF
// implementation lives in agent/bpf/bpf_backend.*; tests can provide their own.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "agent/node_views.h"
#include "agent/policy_maps.h"
#include "agent/process_source.h"

namespace gthulhu::agent {

struct NodeEvent {
  enum class Type { kExec, kExit, kCgroupMkdir, kCgroupRmdir, kSchedulerExit };
  Type type = Type::kExec;
  uint32_t tgid = 0;
  uint64_t cgroup_id = 0;
  uint64_t parent_cgroup_id = 0;
  std::string name;  // exec: comm; mkdir/rmdir: cgroup directory name
  uint64_t timestamp_ns = 0;  // boot clock, when the kernel saw it
};

class NodeBackend {
 public:
  virtual ~NodeBackend() = default;
  virtual PolicyMaps& policy_maps() = 0;
  virtual const ProcessSource& processes() const = 0;
  virtual const SchedulerView& scheduler() const = 0;
  virtual const TrackerView& tracker() const = 0;
  // Delivers pending kernel events (waits up to timeout for the first); returns the
  // number delivered or -errno.
  virtual int poll(std::chrono::milliseconds timeout,
                   const std::function<void(const NodeEvent&)>& on_event) = 0;
};

}  // namespace gthulhu::agent
