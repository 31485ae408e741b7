#include "coordinator/dispatch/agent_pod_metrics.h"

#include <algorithm>

#include "coordinator/api/api_error.h"

namespace gthulhu::coordinator {

using nlohmann::json;

AgentPodMetrics::AgentPodMetrics(const PodSource& pods, const AgentDirectory& agents, AgentTransport transport,
                                 MillisClock clock)
    : pods_(pods), agents_(agents), transport_(std::move(transport)), clock_(std::move(clock)) {
  transport_.request_timeout = std::min(transport_.request_timeout, std::chrono::milliseconds(kRequestTimeout));
  transport_.connect_timeout = std::min(transport_.connect_timeout, transport_.request_timeout);
}

std::shared_ptr<AgentPodMetrics::NodeClient> AgentPodMetrics::client_for(const AgentEndpoint& endpoint) {
  std::lock_guard lock(mu_);
  auto& slot = clients_[endpoint.node];
  // A moved agent (new URL or address) gets a new client, and so a new token.
  if (!slot || slot->client->endpoint() != endpoint) {
    slot = std::make_shared<NodeClient>();
    slot->client = std::make_unique<AgentClient>(endpoint, transport_);
  }
  return slot;
}

void AgentPodMetrics::fetch(const Pod& pod, NodeClient& node) {
  const std::string& name = pod.node_name;
  auto call = node.client->pod_stats(pod.uid);
  if (!call.ok()) {
    const auto& e = call.error;
    switch (e.kind) {
      case AgentCallError::Kind::kTransport:
        fail(502, "the agent of node " + name + " is unreachable: " + e.message);
      case AgentCallError::Kind::kUnauthorized:
        fail(502, "the agent of node " + name + " refuses the coordinator: " + e.message);
      case AgentCallError::Kind::kRejected:
        // The agent's message names the node already ("... has no policy on node N").
        if (e.status == 404) fail(404, e.message.find(name) != std::string::npos ? e.message : "node " + name + ": " + e.message);
        if (e.status == 503) fail(503, "node " + name + ": " + e.message, 30);
        fail(502, "the agent of node " + name + " answered HTTP " + std::to_string(e.status) + ": " + e.message);
      default:
        fail(502, "the agent of node " + name + " gave a bad answer: " + e.message);
    }
  }
  std::string why;
  auto snapshot = snapshot_from_agent(*call.value, clock_(), &why);
  if (!snapshot) fail(502, "the agent of node " + name + " gave a bad answer: " + why);
  series_.add(pod.uid, std::move(*snapshot));
}

std::optional<json> AgentPodMetrics::pod_metrics(const std::string& pod_uid) {
  std::optional<Pod> pod;
  for (auto& p : pods_.pods()) {
    if (p.uid == pod_uid) {
      pod = std::move(p);
      break;
    }
  }
  if (!pod) fail(404, "pod " + pod_uid + " is not known to the coordinator's pod source");
  if (pod->node_name.empty()) fail(404, "pod " + pod_uid + " is not scheduled on a node");
  const auto agents = agents_.agents();
  auto ep = std::find_if(agents.begin(), agents.end(), [&](const AgentEndpoint& a) { return a.node == pod->node_name; });
  if (ep == agents.end()) fail(503, "no agent is known for node " + pod->node_name, 30);

  auto node = client_for(*ep);
  {
    std::lock_guard lock(node->mu);
    // Asked recently (perhaps by a viewer we waited for): that answer is fresh enough.
    auto latest = series_.latest_time(pod_uid);
    if (!latest || clock_() - *latest >= kMinInterval) fetch(*pod, *node);
  }
  auto out = series_.to_json(pod_uid);
  if (!out) return std::nullopt;
  (*out)["podName"] = pod->name;
  (*out)["namespace"] = pod->namespace_;
  return out;
}

}  // namespace gthulhu::coordinator
