#pragma once
// The coordinator's short memory of each pod's scheduling statistics, so the pod detail
// view has "over time": every answer of an agent's GET /api/v1/pods/stats (cumulative
// counters, agent/pod_stats.h) becomes a snapshot; consecutive snapshots give each
// interval's CPU use and runqueue-wait p50/p99 (from the difference of the two
// histograms, so a percentile describes the waits of that interval only).
// Percentiles are estimated from log2 buckets: interpolated inside the bucket, so
// within a factor of two of the exact value; the open last bucket reports its lower
// bound. Bounded: kMaxSamples per pod, kMaxPods pods (the least recently asked for
// is forgotten).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/domain/types.h"

namespace gthulhu::coordinator {

struct PodStatsSnapshot {
  UnixMillis time = 0;
  std::string node;
  std::string source;  // "scheduler" | "simulated"
  uint64_t cpu_time_ns = 0;
  uint64_t runs = 0;
  uint64_t wait_time_ns = 0;
  std::vector<uint64_t> bounds_ns;  // counts.size() - 1 entries: the last bucket is open
  std::vector<uint64_t> counts;
};

// The agent's `data` object; nullopt with the reason when it is not that shape.
std::optional<PodStatsSnapshot> snapshot_from_agent(const nlohmann::json& data, UnixMillis time,
                                                    std::string* why);

// Estimated q-quantile (0 < q < 1) of the waits counted in `counts`; nullopt: no waits.
std::optional<double> histogram_quantile(const std::vector<uint64_t>& bounds_ns,
                                         const std::vector<uint64_t>& counts, double q);

class PodMetricsSeries {
 public:
  static constexpr std::size_t kMaxSamples = 120;
  static constexpr std::size_t kMaxPods = 512;

  // Records a snapshot. A snapshot whose counters went backwards (the agent restarted,
  // or the pod's policy was replaced) starts the pod's series again.
  void add(const std::string& pod_uid, PodStatsSnapshot snapshot);
  // The newest snapshot's time, if any (callers skip asking an agent again too soon).
  std::optional<UnixMillis> latest_time(const std::string& pod_uid) const;
  // The GET /api/v1/pods/metrics answer (pod_metrics_provider.h); nullopt: no snapshot.
  std::optional<nlohmann::json> to_json(const std::string& pod_uid) const;

 private:
  struct Entry {
    std::deque<PodStatsSnapshot> samples;
    uint64_t touched = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> pods_;
  uint64_t tick_ = 0;
};

}  // namespace gthulhu::coordinator
