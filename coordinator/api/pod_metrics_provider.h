#pragma once
// Where GET /api/v1/pods/metrics gets its numbers: the control loop implements this by
// asking the agent of the pod's node. Shape of an answer (JSON, camelCase):
//   {podId, node, cpuTimeNs, runs,
//    waitHistogram: {boundsNs: [upper bound of each bucket], counts: [same length]},
//    samples: [{time: RFC 3339, cpuTimeNs, waitP50Ns, waitP99Ns}]   // oldest first
//   }
// nullopt: the pod is unknown or no agent has reported it (the route answers 404).
// Throwing ApiError (e.g. 503 when the node's agent cannot be reached) is allowed.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace gthulhu::coordinator {

class PodMetricsProvider {
 public:
  virtual ~PodMetricsProvider() = default;
  virtual std::optional<nlohmann::json> pod_metrics(const std::string& pod_uid) = 0;
};

}  // namespace gthulhu::coordinator
