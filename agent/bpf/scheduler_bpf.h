#pragma once
// The agent's handle on the gthulhu sched_ext scheduler (bpf/gthulhu.bpf.c). This is
// the only code that touches the scheduler's skeleton; libbpf stays behind the pimpl.
//
// Lifecycle:
//   SchedulerBpf::support()        can this machine run it, and if not, why
//   SchedulerBpf s(options);       adopt a running gthulhu pinned under pin_root, or
//                                  open + load a fresh one (maps pinned by name)
//   s.attach();                    register it as the system scheduler; the struct_ops
//                                  link is pinned (pin_root/gthulhu_link) so it keeps
//                                  scheduling when this process exits or restarts
//   s.detach();                    unpin and destroy the link: back to the fair class
// Errors are SchedulerError exceptions whose message names the operation, the errno
// text, and what to do about it.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

extern "C" {
#include "bpf/gthulhu_shared.h"
}

namespace gthulhu::agent {

class SchedulerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SchedulerSupport {
  bool available = false;
  std::string reason;  // why the scheduler cannot run here; empty when available
  std::string state;   // /sys/kernel/sched_ext/state ("" when absent)
  std::string ops;     // /sys/kernel/sched_ext/root/ops: the attached scheduler, if any
};

struct SchedulerOptions {
  std::string pin_root = GTHULHU_PIN_ROOT;
  uint64_t slice_default_ns = GTHULHU_SLICE_DEFAULT_NS;  // slice of unpolicied tasks
  uint64_t slice_lag_ns = GTHULHU_SLICE_DEFAULT_NS;      // most credit a sleeper keeps
  // Run a task out of vtime order once it has waited this long (0: never; capped at
  // half of timeout_ms so it always comes before the watchdog).
  uint64_t starve_after_ns = 1'000'000'000;
  uint32_t timeout_ms = 5000;                // kernel watchdog bound (<= 30000)
  // The kernel's tick length, used to end runs at the tick nearest the policy slice;
  // 0 = detect (the resolution of CLOCK_MONOTONIC_COARSE is one tick).
  uint64_t tick_ns = 0;
  // Sizes used when a map is created; a map already pinned keeps its size.
  uint32_t policy_map_entries = 65536;                  // policy_by_cgroup, policy_by_tgid
  uint32_t policy_stats_entries = GTHULHU_MAX_POLICIES;  // policy ids 0..N-1
  bool adopt_running = true;        // take over a gthulhu already attached from pin_root
  bool detach_on_destroy = false;   // false: the scheduler outlives this object
};

struct PolicyStatsEntry {
  uint32_t policy_id;
  gthulhu_policy_stats stats;
};

class SchedulerBpf {
 public:
  // Whether sched_ext is usable here (kernel support, BTF, privileges, no other
  // scheduler attached), and the current sched_ext state.
  static SchedulerSupport support();
  static std::string kernel_state();  // /sys/kernel/sched_ext/state, "" if absent
  static std::string kernel_ops();    // /sys/kernel/sched_ext/root/ops, "" if none
  // Cgroup callbacks of the scheduler that the running kernel's sched_ext lacks (from
  // its BTF), e.g. cgroup_set_bandwidth before 6.17, cgroup_set_idle before 7.1: the
  // scheduler loads without them and ignores cpu.max / cpu.idle there. Empty when
  // every one is present or the kernel's BTF is unreadable.
  static std::vector<std::string> missing_callbacks();

  // Adopts or loads (see the lifecycle above). Throws SchedulerError.
  explicit SchedulerBpf(SchedulerOptions options = {});
  ~SchedulerBpf();
  SchedulerBpf(const SchedulerBpf&) = delete;
  SchedulerBpf& operator=(const SchedulerBpf&) = delete;

  void attach();  // no-op when adopted or already attached
  // Unregisters the scheduler and waits up to `wait` for the kernel to finish
  // disabling it; ops.exit has then recorded the exit info. No-op when not attached.
  void detach(std::chrono::milliseconds wait = std::chrono::seconds(10));

  bool attached() const;
  bool adopted() const;  // true: this object took over a running instance
  // Attached by us and the kernel still runs it (it may have exited on an error).
  bool running() const;
  const SchedulerOptions& options() const;
  std::string pin_path(std::string_view name) const;  // pin_root/name

  // Statistics, summed over CPUs (last_dispatch_ns: the latest).
  gthulhu_sched_stats sched_stats() const;
  gthulhu_policy_stats policy_stats(uint32_t policy_id) const;
  std::vector<PolicyStatsEntry> active_policy_stats() const;  // entries with any count

  // The scheduler's state of a cgroup (weights, cpu.max accounting, throttle counts),
  // by the cgroup's directory; none for cgroups it has no state for, or when adopted.
  std::optional<gthulhu_cgroup_state> cgroup_state(const std::string& cgroup_dir) const;

  // Exit info recorded by ops.exit of the instance these maps belong to.
  std::optional<gthulhu_exit_info> exit_info() const;
  // Exit info of an earlier instance, found in the pinned map when this one loaded.
  std::optional<gthulhu_exit_info> previous_exit() const;

  // Ring buffer "sched_events": calls `on_event` for each record, waits up to
  // timeout_ms for the first. Returns the number of records consumed.
  using EventCallback = std::function<void(const gthulhu_sched_event&)>;
  int poll_events(int timeout_ms, const EventCallback& on_event);
  int events_fd() const;  // becomes readable when records are pending (for epoll)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Readable name of an scx_exit_kind value ("UNREG", "ERROR_STALL", ...).
std::string exit_kind_name(uint32_t kind);

}  // namespace gthulhu::agent
