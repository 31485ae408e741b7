#pragma once
// How long a commandRegex match takes to reach the kernel: from the tracker's exec
// timestamp (bpf_ktime_get_boot_ns() in tk_exec, the end of the exec) to the moment the
// agent's policy_by_tgid write has returned. Exported as the histogram
// gthulhu_agent_exec_to_override_seconds (README "Metrics"). Lock-free: the event
// thread observes, scrapes read.
#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

namespace gthulhu::agent {

class ExecLatency {
 public:
  // Upper bounds in seconds: fine from 5 us to 10 ms, where the target (p99 < 1 ms) is.
  static constexpr std::array<double, 19> kBounds = {5e-6,   10e-6, 20e-6, 50e-6, 100e-6, 200e-6, 300e-6,
                                                     500e-6, 750e-6, 1e-3,  2e-3,  3e-3,   5e-3,   10e-3,
                                                     20e-3,  50e-3, 0.1,   0.5,   1.0};

  // The exec's kernel timestamp (CLOCK_BOOTTIME ns); the end is now.
  void observe_since(uint64_t exec_boot_ns);
  void observe(double seconds);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per bound of kBounds, then +Inf (== count)
    uint64_t count = 0;
    double sum_seconds = 0;
  };
  Snapshot snapshot() const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> counts_{};  // per bucket, not cumulative
  std::atomic<uint64_t> sum_ns_{0};
};

uint64_t boot_clock_ns();

}  // namespace gthulhu::agent
