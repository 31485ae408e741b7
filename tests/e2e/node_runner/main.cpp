// gthulhu-node-runner: the kubelet's part on a test node (see pod_runner.h).
//   gthulhu-node-runner --kubeconfig FILE --node NAME --pod-ip IP [--cgroup-root DIR]
// Watches the pods bound to NAME through the coordinator's Kubernetes client, runs them,
// and on SIGTERM/SIGINT stops every pod it started and removes their cgroups.
#include <csignal>
#include <cstring>
#include <iostream>
#include <string>

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "coordinator/kube/kube_config.h"
#include "coordinator/kube/reflector.h"
#include "tests/e2e/node_runner/pod_runner.h"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

int usage(const std::string& why) {
  std::cerr << "gthulhu-node-runner: " << why
            << "\nusage: gthulhu-node-runner --kubeconfig FILE --node NAME --pod-ip IP [--cgroup-root DIR]\n";
  return 2;
}
}  // namespace

int main(int argc, char** argv) {
  using namespace gthulhu;
  std::string kubeconfig, node, pod_ip, cgroup_root = "/sys/fs/cgroup";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return usage(a + " needs a value");
    std::string v = argv[++i];
    if (a == "--kubeconfig") kubeconfig = v;
    else if (a == "--node") node = v;
    else if (a == "--pod-ip") pod_ip = v;
    else if (a == "--cgroup-root") cgroup_root = v;
    else return usage("unknown option " + a);
  }
  if (kubeconfig.empty() || node.empty() || pod_ip.empty()) return usage("--kubeconfig, --node and --pod-ip are required");
  coordinator::kube::KubeCredentials creds;
  try {
    creds = coordinator::kube::load_kubeconfig(kubeconfig, "");
  } catch (const std::exception& e) {
    return usage(e.what());
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::signal(SIGCHLD, SIG_DFL);

  coordinator::kube::KubeClient client(creds, {});
  e2e::PodRunner runner(client, {node, cgroup_root, pod_ip});
  coordinator::kube::ReflectorOptions ro;
  ro.name = "node pods";
  ro.list_path = "/api/v1/pods";
  ro.field_selector = "spec.nodeName=" + node;
  ro.watch_timeout = std::chrono::seconds(60);
  coordinator::kube::Reflector reflector(creds, {}, ro, runner);
  reflector.start();
  spdlog::info("node runner for {}: watching pods (cgroups under {})", node, cgroup_root);
  while (!g_stop) pause();
  spdlog::info("stopping: removing the pods this runner started");
  reflector.stop();
  runner.stop_all();
  return 0;
}
