#include "tests/kube/kube_fixture.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "coordinator/kube/pod_json.h"

namespace gthulhu::test::kube {

using namespace std::chrono_literals;
namespace ck = coordinator::kube;

KubeApiServer* shared_server(std::string& why) {
  static std::once_flag once;
  static std::unique_ptr<KubeApiServer> server;
  static std::string failure;
  std::call_once(once, [] {
    if (const auto& reason = KubeApiServer::unavailable_reason(); !reason.empty()) {
      failure = reason;
      return;
    }
    // GTHULHU_TEST_LOG=debug shows every watch and bookmark.
    const char* level = std::getenv("GTHULHU_TEST_LOG");
    spdlog::set_level(level ? spdlog::level::from_str(level) : spdlog::level::warn);
    auto s = std::make_unique<KubeApiServer>();
    const auto t0 = std::chrono::steady_clock::now();
    if (!s->start()) {
      failure = "the test API server did not start: " + s->last_error();
      return;
    }
    std::printf("[ kube     ] etcd + kube-apiserver ready in %lld ms\n",
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::steady_clock::now() - t0)
                                           .count()));
    server = std::move(s);
  });
  // A failed start is a failure, not a skip: the binaries are there and should work.
  if (server == nullptr && failure.rfind("the test API server did not start", 0) == 0) {
    ADD_FAILURE() << failure;
  }
  why = failure;
  return server.get();
}

std::string fresh_namespace(KubeApiServer& server, const std::string& prefix) {
  static std::atomic<int> n{0};
  const std::string ns = prefix + "-" + std::to_string(++n);
  return server.create_namespace(ns) ? ns : std::string();
}

ck::KubeCredentials credentials(const KubeApiServer& server) {
  return ck::load_kubeconfig(server.kubeconfig(), "");
}

ck::KubeClientOptions client_options() {
  ck::KubeClientOptions o;
  o.connect_timeout = 1000ms;
  o.request_timeout = 5000ms;
  return o;
}

ck::ReflectorOptions fast_reflector() {
  ck::ReflectorOptions r;
  r.watch_timeout = 30s;
  r.dead_stream_timeout = 90s;
  r.backoff_initial = 100ms;
  r.backoff_max = 1000ms;
  return r;
}

nlohmann::json create_pod(KubeApiServer& s, const std::string& ns, const std::string& name,
                          const std::map<std::string, std::string>& labels, const std::string& node) {
  nlohmann::json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", name}, {"labels", labels}}},
      {"spec", {{"containers", {{{"name", "main"}, {"image", "busybox"}}}}}}};
  if (!node.empty()) pod["spec"]["nodeName"] = node;
  auto r = s.request_json("POST", "/api/v1/namespaces/" + ns + "/pods", pod.dump());
  if (!r) ADD_FAILURE() << s.last_error();
  return r.value_or(nullptr);
}

nlohmann::json set_pod_status(KubeApiServer& s, const std::string& ns, const std::string& name,
                              const std::string& phase, const std::string& pod_ip) {
  nlohmann::json patch = {{"status", {{"phase", phase}}}};
  if (!pod_ip.empty()) {
    patch["status"]["podIP"] = pod_ip;
    patch["status"]["podIPs"] = {{{"ip", pod_ip}}};
  }
  auto r = s.request_json("PATCH", "/api/v1/namespaces/" + ns + "/pods/" + name + "/status",
                          patch.dump(), "application/merge-patch+json");
  if (!r) ADD_FAILURE() << s.last_error();
  return r.value_or(nullptr);
}

nlohmann::json set_pod_labels(KubeApiServer& s, const std::string& ns, const std::string& name,
                              const nlohmann::json& labels) {
  nlohmann::json patch = {{"metadata", {{"labels", labels}}}};
  auto r = s.request_json("PATCH", "/api/v1/namespaces/" + ns + "/pods/" + name, patch.dump(),
                          "application/merge-patch+json");
  if (!r) ADD_FAILURE() << s.last_error();
  return r.value_or(nullptr);
}

bool delete_pod(KubeApiServer& s, const std::string& ns, const std::string& name) {
  // Grace period 0: no kubelet will ever confirm the containers stopped.
  auto r = s.request_json("DELETE", "/api/v1/namespaces/" + ns + "/pods/" + name + "?gracePeriodSeconds=0");
  if (!r) ADD_FAILURE() << s.last_error();
  return r.has_value();
}

bool touch_configmap(KubeApiServer& s, const std::string& ns, const std::string& name) {
  static std::atomic<int> n{0};
  nlohmann::json cm = {{"apiVersion", "v1"},
                       {"kind", "ConfigMap"},
                       {"metadata", {{"name", name + "-" + std::to_string(++n)}}},
                       {"data", {{"k", "v"}}}};
  auto r = s.request_json("POST", "/api/v1/namespaces/" + ns + "/configmaps", cm.dump());
  if (!r) ADD_FAILURE() << s.last_error();
  return r.has_value();
}

std::vector<coordinator::Pod> list_pods(KubeApiServer& s, const std::string& ns,
                                        const std::string& label_selector) {
  std::string path = ns.empty() ? "/api/v1/pods" : "/api/v1/namespaces/" + ns + "/pods";
  if (!label_selector.empty()) path += "?labelSelector=" + ck::query_escape(label_selector);
  auto r = s.request_json("GET", path);
  std::vector<coordinator::Pod> out;
  if (!r) {
    ADD_FAILURE() << s.last_error();
    return out;
  }
  for (const auto& item : (*r)["items"]) {
    std::string problem;
    if (auto p = ck::pod_from_json(item, problem)) out.push_back(std::move(*p));
    else ADD_FAILURE() << problem;
  }
  std::sort(out.begin(), out.end(), [](const coordinator::Pod& a, const coordinator::Pod& b) {
    return std::tie(a.namespace_, a.name) < std::tie(b.namespace_, b.name);
  });
  return out;
}

std::vector<coordinator::Pod> pods_in(const coordinator::PodSource& source, const std::string& ns) {
  std::vector<coordinator::Pod> out;
  for (auto& p : source.pods()) {
    if (p.namespace_ == ns) out.push_back(std::move(p));
  }
  return out;
}

void ListenerCounter::operator()() {
  std::lock_guard lock(mu_);
  ++count_;
}

int ListenerCounter::count() const {
  std::lock_guard lock(mu_);
  return count_;
}

}  // namespace gthulhu::test::kube
