#include "agent/exec_latency.h"

#include <time.h>

#include <algorithm>
#include <cmath>

namespace gthulhu::agent {

uint64_t boot_clock_ns() {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void ExecLatency::observe_since(uint64_t exec_boot_ns) {
  const uint64_t now = boot_clock_ns();
  // An event from before a suspend/resume cannot be later than now; clamp, never wrap.
  observe(now > exec_boot_ns ? static_cast<double>(now - exec_boot_ns) / 1e9 : 0.0);
}

void ExecLatency::observe(double seconds) {
  const auto it = std::lower_bound(kBounds.begin(), kBounds.end(), seconds);
  counts_[static_cast<size_t>(it - kBounds.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(std::llround(seconds * 1e9)), std::memory_order_relaxed);
}

ExecLatency::Snapshot ExecLatency::snapshot() const {
  Snapshot s;
  uint64_t running = 0;
  for (const auto& c : counts_) {
    running += c.load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum_seconds = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  return s;
}

}  // namespace gthulhu::agent
