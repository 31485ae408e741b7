#pragma once
// When the agent reached each step of its start-up, in seconds since the process began
// (steady clock). main() and the BPF backend mark the steps; the daemon logs them in one
// line once serving, /health shows them ("startup") and /metrics has them as
// gthulhu_agent_startup_phase_seconds{phase=...}.
//
// Order: tracker_loaded (tracker attached and seeded) -> scheduler_attached (loaded and
// attached, or re-adopted from its pinned link) -> first_reconcile (the stored intents
// are in the maps) -> serving (the REST server listens). The server starts after the
// first reconcile on purpose: its first answer already reflects the restored intents.
#include <array>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gthulhu::agent {

class StartupPhases {
 public:
  enum class Phase { kTrackerLoaded, kSchedulerAttached, kFirstReconcile, kServing };
  static constexpr std::array<const char*, 4> kNames = {"tracker_loaded", "scheduler_attached", "first_reconcile",
                                                        "serving"};

  StartupPhases() : started_(std::chrono::steady_clock::now()) {}
  void mark(Phase p);
  // Seconds since start; nullopt for a step not reached (e.g. the scheduler off).
  std::optional<double> seconds(Phase p) const;
  // Every step reached, in the order above: (name, seconds).
  std::vector<std::pair<std::string, double>> reached() const;
  // "tracker_loaded 0.041 s, scheduler_attached 0.380 s, ..." for the log.
  std::string summary() const;

 private:
  std::chrono::steady_clock::time_point started_;
  std::array<std::atomic<int64_t>, kNames.size()> ns_{-1, -1, -1, -1};
};

}  // namespace gthulhu::agent
