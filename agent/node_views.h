#pragma once
// What the REST API and the metrics need from the BPF side, as read-only views. The
// BPF wrappers (agent/bpf/) implement them; tests use fakes; without sched_ext the
// scheduler view reports "off" with the reason.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

extern "C" {
#include "bpf/gthulhu_shared.h"
}

namespace gthulhu::agent {

struct SchedulerExit {
  int64_t exit_code = 0;
  uint32_t kind = 0;
  std::string reason;
  std::string message;
};

struct SchedulerStatus {
  bool enabled = false;   // our struct_ops is attached and the kernel says enabled
  std::string state;      // /sys/kernel/sched_ext/state, or "unsupported"
  std::string reason;     // why it is not enabled, for /health and logs
  std::optional<SchedulerExit> last_exit;
  // Cgroup callbacks the running kernel's sched_ext lacks (cpu.max / cpu.idle ignored
  // there); empty when the kernel has them all or sched_ext is absent.
  std::vector<std::string> missing_callbacks;
};

class SchedulerView {
 public:
  virtual ~SchedulerView() = default;
  virtual SchedulerStatus status() const = 0;
  virtual std::optional<gthulhu_sched_stats> stats() const = 0;              // summed over CPUs
  virtual std::map<uint32_t, gthulhu_policy_stats> policy_stats() const = 0;  // non-zero ids only
};

struct TrackerStatus {
  bool running = false;
  std::string reason;  // why not, when not
};

class TrackerView {
 public:
  virtual ~TrackerView() = default;
  virtual TrackerStatus status() const = 0;
  virtual gthulhu_tracker_stats stats() const = 0;  // summed over CPUs
};

}  // namespace gthulhu::agent
