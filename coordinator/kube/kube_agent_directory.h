#pragma once
// The node agents from the agent DaemonSet's pods: a Reflector on Pods in one namespace
// with a label selector. One agent per node (spec.nodeName), reached at
// "https://<nodeName>:<port>" (the name its server certificate carries) and connected
// to at the pod IP (the agent uses hostNetwork, so pod IP == node IP). Only Running
// pods with a pod IP count; during a rolling update the newest such pod of a node wins.
// Listeners run whenever the resulting endpoint list changes.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "coordinator/dispatch/agent_directory.h"
#include "coordinator/kube/reflector.h"
#include "coordinator/pods/pod_source.h"

namespace gthulhu::coordinator::kube {

struct KubeAgentDirectoryOptions {
  std::string namespace_;                                    // required
  std::string label_selector = "app.kubernetes.io/name=gthulhu-agent";
  int port = 8080;
  ReflectorOptions reflector;
};

struct AgentPod {
  Pod pod;
  std::string created;  // metadata.creationTimestamp
};

// The endpoints `pods` give (the rule above), sorted by node. Exposed for tests.
std::vector<AgentEndpoint> agent_endpoints(const std::vector<AgentPod>& pods, int port);

class KubeAgentDirectory final : public AgentDirectory, private ReflectorSink {
 public:
  KubeAgentDirectory(KubeCredentials credentials, KubeClientOptions client_options,
                     KubeAgentDirectoryOptions options);
  ~KubeAgentDirectory() override;  // stop()

  void start() { reflector_->start(); }
  void stop() { reflector_->stop(); }
  bool synced() const { return reflector_->synced(); }

  std::vector<AgentEndpoint> agents() const override;
  const Reflector& reflector() const { return *reflector_; }

 private:
  void apply(const std::vector<ObjectDelta>& deltas, bool initial) override;

  int port_;
  mutable std::mutex mu_;
  std::map<std::string, AgentPod> pods_;  // by "namespace/name"
  std::vector<AgentEndpoint> endpoints_;
  std::unique_ptr<Reflector> reflector_;
};

}  // namespace gthulhu::coordinator::kube
