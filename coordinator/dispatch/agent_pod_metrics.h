#pragma once
// The PodMetricsProvider of a running coordinator (any replica, leader or not): finds
// the pod's node in the pod source, that node's agent in the agent directory, and asks
// it for the pod's counters (GET /api/v1/pods/stats, over the same mTLS transport and
// token scheme as the control loop, with its own clients and cached tokens, bounded by
// kRequestTimeout). Each answer is kept in a PodMetricsSeries, so the view gets p50/p99
// over time; an agent is asked at most once per kMinInterval per pod (viewers polling
// together cost one request). Errors are ApiErrors naming the cause:
//   404 the pod is unknown, not scheduled, or has no policy on its node
//   503 no agent is known for the node, or its scheduler is not running
//   502 the agent is unreachable, refuses us, or answers something else
#include <chrono>
#include <map>
#include <memory>
#include <mutex>

#include "coordinator/api/pod_metrics_provider.h"
#include "coordinator/auth/auth_service.h"
#include "coordinator/dispatch/agent_client.h"
#include "coordinator/dispatch/agent_directory.h"
#include "coordinator/pods/pod_metrics_series.h"
#include "coordinator/pods/pod_source.h"

namespace gthulhu::coordinator {

class AgentPodMetrics final : public PodMetricsProvider {
 public:
  static constexpr std::chrono::milliseconds kRequestTimeout{3000};
  static constexpr UnixMillis kMinInterval = 1000;

  AgentPodMetrics(const PodSource& pods, const AgentDirectory& agents, AgentTransport transport,
                  MillisClock clock = system_millis);

  std::optional<nlohmann::json> pod_metrics(const std::string& pod_uid) override;

 private:
  struct NodeClient {
    std::mutex mu;  // one request at a time per node (a client is one connection)
    std::unique_ptr<AgentClient> client;
  };
  std::shared_ptr<NodeClient> client_for(const AgentEndpoint& endpoint);
  void fetch(const Pod& pod, NodeClient& node);

  const PodSource& pods_;
  const AgentDirectory& agents_;
  AgentTransport transport_;
  MillisClock clock_;
  PodMetricsSeries series_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<NodeClient>> clients_;  // by node
};

}  // namespace gthulhu::coordinator
