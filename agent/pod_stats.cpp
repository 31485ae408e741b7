#include "agent/pod_stats.h"

namespace gthulhu::agent {

std::vector<uint64_t> wait_bucket_bounds_ns() {
  std::vector<uint64_t> bounds;
  for (int b = 0; b + 1 < GTHULHU_WAIT_HIST_BUCKETS; ++b) bounds.push_back(uint64_t{1} << (b + 10));
  return bounds;
}

std::optional<PodStats> collect_pod_stats(const SchedulerView& scheduler, const PolicyEngine& engine,
                                          const std::string& pod_uid) {
  PodStats out;
  out.pod_uid = pod_uid;
  out.wait_counts.assign(GTHULHU_WAIT_HIST_BUCKETS, 0);
  std::vector<uint32_t> ids;
  for (const auto& [id, owner] : engine.policy_owners()) {
    if (owner.pod_uid != pod_uid) continue;
    ids.push_back(id);
    out.intent_ids.push_back(owner.intent_id);
  }
  if (ids.empty()) return std::nullopt;
  // One read of the per-CPU array for all of them; a policy without an entry yet
  // (nothing ran under it) counts as zeros.
  const auto stats = scheduler.policy_stats();
  for (uint32_t id : ids) {
    auto it = stats.find(id);
    if (it == stats.end()) continue;
    const gthulhu_policy_stats& s = it->second;
    out.cpu_time_ns += s.cpu_time_ns;
    out.runs += s.run_count;
    out.wait_time_ns += s.wait_time_ns;
    for (int b = 0; b < GTHULHU_WAIT_HIST_BUCKETS; ++b) out.wait_counts[b] += s.wait_hist[b];
  }
  return out;
}

nlohmann::json pod_stats_json(const PodStats& stats, const std::string& node, const std::string& source) {
  return {{"podId", stats.pod_uid},
          {"node", node},
          {"source", source},
          {"intents", stats.intent_ids},
          {"cpuTimeNs", stats.cpu_time_ns},
          {"runs", stats.runs},
          {"waitTimeNs", stats.wait_time_ns},
          {"waitHistogram", {{"boundsNs", wait_bucket_bounds_ns()}, {"counts", stats.wait_counts}}}};
}

}  // namespace gthulhu::agent
