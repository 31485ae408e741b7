#include "coordinator/kube/kube_factory.h"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "coordinator/kube/kube_agent_directory.h"
#include "coordinator/kube/kube_pod_source.h"
#include "coordinator/kube/lease_elector.h"

namespace gthulhu::coordinator {
namespace {

using namespace std::chrono_literals;

template <typename D>
std::chrono::seconds whole_seconds(D d) {
  return std::max(std::chrono::seconds(1), std::chrono::duration_cast<std::chrono::seconds>(d));
}

kube::ReflectorOptions reflector_options(const config::Config& cfg) {
  kube::ReflectorOptions r;
  r.watch_timeout = whole_seconds(cfg.get_duration("kubernetes.watch_timeout"));
  r.dead_stream_timeout = whole_seconds(cfg.get_duration("kubernetes.dead_stream_timeout"));
  r.page_size = cfg.get_int("kubernetes.list_page_size");
  return r;
}

kube::KubeClientOptions client_options(const config::Config& cfg) {
  kube::KubeClientOptions o;
  o.connect_timeout = cfg.get_millis("kubernetes.connect_timeout");
  o.request_timeout = cfg.get_millis("kubernetes.request_timeout");
  o.token_refresh = whole_seconds(cfg.get_duration("kubernetes.token_refresh"));
  return o;
}

// The coordinator's own namespace: the pod's (in-cluster) or the context's, else "default".
std::string own_namespace(const kube::KubeCredentials& c) {
  return c.default_namespace.empty() ? "default" : c.default_namespace;
}

std::string or_default(const std::string& value, const std::string& fallback) {
  return value.empty() ? fallback : value;
}

}  // namespace

void add_kube_config(config::Schema& s) {
  s.add_string("kubernetes", "mode", "off",
               "Where pods, agents and the leader lease come from: off (static inventory, one "
               "replica), in-cluster (the pod's service account) or kubeconfig");
  s.add_path("kubernetes", "kubeconfig", "",
             "kubeconfig file for mode = kubeconfig (\"\" = first entry of $KUBECONFIG, else "
             "~/.kube/config)");
  s.add_string("kubernetes", "context", "", "kubeconfig context to use (\"\" = current-context)");
  s.add_path("kubernetes", "service_account_dir", kube::kServiceAccountDir,
             "Service-account token, ca.crt and namespace for mode = in-cluster");
  s.add_string("kubernetes", "pod_namespace", "", "Namespace whose pods are watched (\"\" = all)");
  s.add_string("kubernetes", "pod_selector", "",
               "Label selector of the watched pods, e.g. \"tier=web,env!=test\" (\"\" = all)");
  s.add_string("kubernetes", "agent_namespace", "",
               "Namespace of the agent DaemonSet's pods (\"\" = the coordinator's own)");
  s.add_string("kubernetes", "agent_selector", "app.kubernetes.io/name=gthulhu-agent",
               "Label selector of the agent pods");
  s.add_int("kubernetes", "agent_port", 8080, 1, 65535,
            "Port of the agents' REST API (URL https://<nodeName>:<port>, dialled at the pod IP)");
  s.add_bool("kubernetes", "lease_enabled", true,
             "Elect one leader among coordinator replicas with a coordination.k8s.io Lease "
             "(false: this replica always leads)");
  s.add_string("kubernetes", "lease_name", "gthulhu-coordinator", "Name of the leader-election Lease");
  s.add_string("kubernetes", "lease_namespace", "",
               "Namespace of the Lease (\"\" = the coordinator's own)");
  s.add_duration("kubernetes", "lease_duration", 15s,
                 "How long others wait after the leader's last renewal before taking over");
  s.add_duration("kubernetes", "lease_renew_deadline", 10s,
                 "A leader that could not renew for this long stops leading (< lease_duration)");
  s.add_duration("kubernetes", "lease_retry_period", 2s,
                 "Interval of lease renewals and acquisition attempts (< lease_renew_deadline)");
  s.add_string("kubernetes", "lease_identity", "",
               "This replica's holder identity (\"\" = hostname + \"_\" + random suffix)");
  s.add_duration("kubernetes", "watch_timeout", 5min,
                 "timeoutSeconds asked for each watch (the server then ends it; we resume)");
  s.add_duration("kubernetes", "dead_stream_timeout", 90s,
                 "Reconnect a watch that delivered no byte (not even a bookmark) for this long");
  s.add_duration("kubernetes", "request_timeout", 10s, "Timeout of one API request (a LIST page, a Lease write)");
  s.add_duration("kubernetes", "connect_timeout", 5s, "TCP + TLS connect timeout to the API server");
  s.add_int("kubernetes", "list_page_size", 500, 1, 10000, "Objects per LIST page (limit/continue)");
  s.add_duration("kubernetes", "token_refresh", 1min,
                 "How often a token file (projected service-account token) is re-read");
}

kube::KubeCredentials kube_credentials(const config::Config& cfg, const config::Environment& env) {
  const std::string& mode = cfg.get_string("kubernetes.mode");
  if (mode == "in-cluster") {
    return kube::load_in_cluster(cfg.get_path("kubernetes.service_account_dir"), env);
  }
  if (mode == "kubeconfig") {
    std::filesystem::path file = cfg.get_path("kubernetes.kubeconfig");
    if (file.empty()) file = kube::default_kubeconfig_path(env);
    return kube::load_kubeconfig(file, cfg.get_string("kubernetes.context"));
  }
  throw std::invalid_argument("kubernetes.mode must be off, in-cluster or kubeconfig, not \"" + mode + "\"");
}

std::optional<KubeComponents> make_kube_components(const config::Config& cfg) {
  return make_kube_components(cfg, config::process_environment());
}

std::optional<KubeComponents> make_kube_components(const config::Config& cfg,
                                                   const config::Environment& env) {
  if (cfg.get_string("kubernetes.mode") == "off") return std::nullopt;
  const kube::KubeCredentials creds = kube_credentials(cfg, env);
  const kube::KubeClientOptions client = client_options(cfg);
  spdlog::info("kubernetes: API server {} ({})", creds.server, creds.origin);

  kube::KubePodSourceOptions pod_options;
  pod_options.namespace_ = cfg.get_string("kubernetes.pod_namespace");
  pod_options.label_selector = cfg.get_string("kubernetes.pod_selector");
  pod_options.reflector = reflector_options(cfg);
  auto pods = std::make_shared<kube::KubePodSource>(creds, client, pod_options);

  kube::KubeAgentDirectoryOptions agent_options;
  agent_options.namespace_ = or_default(cfg.get_string("kubernetes.agent_namespace"), own_namespace(creds));
  agent_options.label_selector = cfg.get_string("kubernetes.agent_selector");
  agent_options.port = static_cast<int>(cfg.get_int("kubernetes.agent_port"));
  agent_options.reflector = reflector_options(cfg);
  auto agents = std::make_shared<kube::KubeAgentDirectory>(creds, client, agent_options);

  KubeComponents out;
  out.pods = pods;
  out.agents = agents;
  if (cfg.get_bool("kubernetes.lease_enabled")) {
    kube::LeaseElectorOptions lease;
    lease.namespace_ = or_default(cfg.get_string("kubernetes.lease_namespace"), own_namespace(creds));
    lease.name = cfg.get_string("kubernetes.lease_name");
    lease.identity = cfg.get_string("kubernetes.lease_identity");
    lease.lease_duration = whole_seconds(cfg.get_duration("kubernetes.lease_duration"));
    lease.renew_deadline = cfg.get_millis("kubernetes.lease_renew_deadline");
    lease.retry_period = cfg.get_millis("kubernetes.lease_retry_period");
    out.elector = std::make_shared<kube::LeaseElector>(creds, client, lease);
  } else {
    out.elector = std::make_shared<AlwaysLeader>();
  }
  out.start_watches = [pods, agents] {
    pods->start();
    agents->start();
  };
  return out;
}

}  // namespace gthulhu::coordinator
