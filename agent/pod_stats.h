#pragma once
// One pod's scheduling statistics on this node, for GET /api/v1/pods/stats?podId=UID
// (the coordinator's pod detail view asks for it). The figures are the scheduler's
// per-policy counters (bpf/gthulhu_shared.h struct gthulhu_policy_stats, filled in
// ops.running/ops.stopping), summed over the policy ids of the pod's intents:
//   cpuTimeNs   time its policied tasks spent on a CPU
//   runs        times one of them started running
//   waitTimeNs  runnable-to-running time summed over those runs
//   waitHistogram  the same waits in log2 buckets: bucket i < 2^(i+10) ns (bucket 0
//               also holds shorter waits), the last bucket open (boundsNs has one
//               entry fewer than counts)
// The counters are cumulative since the policy was first written; the coordinator keeps
// the series and derives per-interval percentiles. On a simulated node (agent.simulate)
// the scheduler view produces simulated counters (agent/sim/simulated_scheduler.h) and
// the answer says "source": "simulated".
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/node_views.h"
#include "agent/policy_engine.h"

namespace gthulhu::agent {

struct PodStats {
  std::string pod_uid;
  std::vector<std::string> intent_ids;  // the pod's intents that have a policy id
  uint64_t cpu_time_ns = 0;
  uint64_t runs = 0;
  uint64_t wait_time_ns = 0;
  std::vector<uint64_t> wait_counts;  // GTHULHU_WAIT_HIST_BUCKETS entries
};

// Upper bound (ns) of wait bucket i; the last bucket has none.
std::vector<uint64_t> wait_bucket_bounds_ns();

// Sums the statistics of every policy owned by the pod. nullopt: no intent of this pod
// holds a policy id here (the pod has no policy on this node).
std::optional<PodStats> collect_pod_stats(const SchedulerView& scheduler, const PolicyEngine& engine,
                                          const std::string& pod_uid);

nlohmann::json pod_stats_json(const PodStats& stats, const std::string& node, const std::string& source);

}  // namespace gthulhu::agent
