#pragma once
// The Kubernetes side of the coordinator from its configuration:
//   [kubernetes] mode = off | in-cluster | kubeconfig, kubeconfig, context,
//                service_account_dir, pod_namespace, pod_selector, agent_namespace,
//                agent_selector, agent_port, lease_enabled, lease_name, lease_namespace,
//                lease_duration, lease_renew_deadline, lease_retry_period,
//                lease_identity, watch_timeout, dead_stream_timeout, request_timeout,
//                connect_timeout, list_page_size, token_refresh
// The description of each key is in kube_factory.cpp (add_kube_config), the one place
// it is declared.
#include <functional>
#include <memory>
#include <optional>

#include "common/config/config.h"
#include "common/config/schema.h"
#include "coordinator/dispatch/agent_directory.h"
#include "coordinator/ha/leader_elector.h"
#include "coordinator/kube/kube_config.h"
#include "coordinator/pods/pod_source.h"

namespace gthulhu::coordinator {

void add_kube_config(config::Schema& schema);

struct KubeComponents {
  std::shared_ptr<PodSource> pods;          // a Pod list+watch
  std::shared_ptr<AgentDirectory> agents;   // the agent DaemonSet's pods
  std::shared_ptr<LeaderElector> elector;   // a Lease, or AlwaysLeader when lease_enabled = false
  // Starts the pod and agent watches (the elector starts with its own start(cb)).
  // Subscribe to pods and agents first: their first notification comes when synced.
  void start() const {
    if (start_watches) start_watches();
  }
  std::function<void()> start_watches;
};

// nullopt when kubernetes.mode = off. Throws std::runtime_error / std::invalid_argument
// with a clear message for an unusable configuration (unknown mode, a kubeconfig or
// service-account file that cannot be read, lease timings out of order). Nothing is
// contacted yet: a server that is down is retried with backoff once started.
std::optional<KubeComponents> make_kube_components(const config::Config& cfg);
std::optional<KubeComponents> make_kube_components(const config::Config& cfg,
                                                   const config::Environment& env);

// The credentials the configuration names (mode in-cluster or kubeconfig).
kube::KubeCredentials kube_credentials(const config::Config& cfg, const config::Environment& env);

}  // namespace gthulhu::coordinator
