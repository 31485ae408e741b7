#pragma once
// The simulated node's scheduler view: no BPF, but per-policy counters that behave like
// the real scheduler's (bpf/gthulhu_shared.h gthulhu_policy_stats), so the pod detail
// view and the coordinator's metrics path work end to end on simulated nodes. The
// figures are SIMULATED, from a fixed model, for every policy id the in-memory maps
// hold, from the moment it was first written:
//   * 400 runs per second;
//   * CPU use 0.25 CPU x load x (weight/1024)^0.3, at most 0.95 CPU;
//   * runqueue waits log-normal (sigma 0.9) with median 60 us x load / (weight/1024)^0.5,
//     so a higher priority shows shorter waits, as it should;
//   * load = 1 + 0.6 sin(2 pi t / 90 s + phase of the policy id): the series move.
// Deterministic for a given clock (tests advance a fake one). status() says "simulated".
#include <chrono>
#include <functional>
#include <map>
#include <mutex>

#include "agent/node_views.h"
#include "agent/sim/memory_maps.h"

namespace gthulhu::agent {

class SimulatedScheduler final : public SchedulerView {
 public:
  // `clock`: the same one the maps use.
  explicit SimulatedScheduler(const MemoryMaps& maps, MemoryMaps::Now clock = [] { return MemoryMaps::Clock::now(); });

  SchedulerStatus status() const override;
  std::optional<gthulhu_sched_stats> stats() const override { return std::nullopt; }
  std::map<uint32_t, gthulhu_policy_stats> policy_stats() const override;

  static constexpr std::chrono::milliseconds kStep{100};
  static constexpr int kRunsPerStep = 40;

 private:
  struct Model {
    MemoryMaps::Clock::time_point since;
    uint64_t steps_done = 0;
    gthulhu_policy_stats stats{};
    double carry[GTHULHU_WAIT_HIST_BUCKETS] = {};  // fractional runs not yet counted
  };
  static void advance(Model& m, uint32_t policy_id, uint32_t weight, uint64_t steps);

  const MemoryMaps& maps_;
  MemoryMaps::Now clock_;
  mutable std::mutex mu_;
  mutable std::map<uint32_t, Model> models_;
};

}  // namespace gthulhu::agent
