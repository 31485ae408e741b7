#include "coordinator/kube/kube_agent_directory.h"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <tuple>

#include "coordinator/kube/kube_pod_source.h"
#include "coordinator/kube/pod_json.h"

namespace gthulhu::coordinator::kube {

std::vector<AgentEndpoint> agent_endpoints(const std::vector<AgentPod>& pods, int port) {
  std::map<std::string, const AgentPod*> newest;  // node -> chosen pod
  for (const auto& p : pods) {
    if (p.pod.phase != "Running" || p.pod.pod_ip.empty() || p.pod.node_name.empty()) continue;
    auto& slot = newest[p.pod.node_name];
    if (slot == nullptr ||
        std::tie(slot->created, slot->pod.name) < std::tie(p.created, p.pod.name)) {
      slot = &p;
    }
  }
  std::vector<AgentEndpoint> out;
  out.reserve(newest.size());
  for (const auto& [node, p] : newest) {
    out.push_back({node, "https://" + node + ":" + std::to_string(port), p->pod.pod_ip});
  }
  return out;
}

KubeAgentDirectory::KubeAgentDirectory(KubeCredentials credentials, KubeClientOptions client_options,
                                       KubeAgentDirectoryOptions options)
    : port_(options.port) {
  if (options.namespace_.empty()) {
    throw std::invalid_argument("the agent directory needs the agents' namespace");
  }
  ReflectorOptions r = options.reflector;
  r.list_path = pods_path(options.namespace_);
  r.label_selector = options.label_selector;
  if (r.name == ReflectorOptions{}.name) r.name = "agent pods";
  reflector_ = std::make_unique<Reflector>(std::move(credentials), client_options, std::move(r), static_cast<ReflectorSink&>(*this));
}

KubeAgentDirectory::~KubeAgentDirectory() { reflector_->stop(); }

std::vector<AgentEndpoint> KubeAgentDirectory::agents() const {
  std::lock_guard lock(mu_);
  return endpoints_;
}

void KubeAgentDirectory::apply(const std::vector<ObjectDelta>& deltas, bool initial) {
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    for (const auto& d : deltas) {
      if (d.kind == ObjectDelta::Kind::Delete) {
        pods_.erase(d.key);
        continue;
      }
      std::string problem;
      auto pod = pod_from_json(d.object, problem);
      if (!pod) {
        spdlog::warn("kubernetes: agent pod {} skipped: {}", d.key, problem);
        continue;
      }
      pods_[d.key] = AgentPod{std::move(*pod), pod_creation_timestamp(d.object)};
    }
    std::vector<AgentPod> all;
    all.reserve(pods_.size());
    for (const auto& [key, p] : pods_) all.push_back(p);
    auto fresh = agent_endpoints(all, port_);
    if (fresh != endpoints_) {
      endpoints_ = std::move(fresh);
      changed = true;
    }
  }
  if (changed || initial) notify_listeners();
}

}  // namespace gthulhu::coordinator::kube
