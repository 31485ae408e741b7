#pragma once
// What the real-server tests share: one API server per test process (started by the
// first test that needs it), credentials for it and pod helpers; they wait for a
// condition with tests/support/eventually.h.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "coordinator/kube/kube_config.h"
#include "coordinator/kube/reflector.h"
#include "coordinator/pods/pod_source.h"
#include "tests/support/eventually.h"
#include "tests/support/kube_apiserver.h"

namespace gthulhu::test::kube {

// The shared server, or nullptr with `why` set (binaries missing, start failed).
KubeApiServer* shared_server(std::string& why);

// Skips the test when there is no server; else a fresh namespace "<prefix>-<n>".
#define KUBE_TEST_SETUP(server_var, ns_var, prefix)                           \
  std::string kube_why_;                                                       \
  auto* server_var = ::gthulhu::test::kube::shared_server(kube_why_);          \
  if (server_var == nullptr) GTEST_SKIP() << kube_why_;                        \
  const std::string ns_var = ::gthulhu::test::kube::fresh_namespace(*server_var, prefix); \
  ASSERT_FALSE(ns_var.empty()) << server_var->last_error()

std::string fresh_namespace(KubeApiServer& server, const std::string& prefix);

coordinator::kube::KubeCredentials credentials(const KubeApiServer& server);
coordinator::kube::KubeClientOptions client_options();
// Short timeouts and backoff, so the tests see reconnects within seconds.
coordinator::kube::ReflectorOptions fast_reflector();

// Pods through the admin client. Every call returns the answer's object, or null with
// a test failure recorded.
nlohmann::json create_pod(KubeApiServer& s, const std::string& ns, const std::string& name,
                          const std::map<std::string, std::string>& labels,
                          const std::string& node = "node-a");
nlohmann::json set_pod_status(KubeApiServer& s, const std::string& ns, const std::string& name,
                              const std::string& phase, const std::string& pod_ip = "");
nlohmann::json set_pod_labels(KubeApiServer& s, const std::string& ns, const std::string& name,
                              const nlohmann::json& labels);  // merge patch; null value removes
bool delete_pod(KubeApiServer& s, const std::string& ns, const std::string& name);
// A ConfigMap write: moves etcd's revision without touching any pod.
bool touch_configmap(KubeApiServer& s, const std::string& ns, const std::string& name);

// Every pod of `ns` ("" = all) by a fresh LIST, as the source would hold them.
std::vector<coordinator::Pod> list_pods(KubeApiServer& s, const std::string& ns,
                                        const std::string& label_selector = "");
// The source's pods restricted to one namespace.
std::vector<coordinator::Pod> pods_in(const coordinator::PodSource& source, const std::string& ns);

// Counts listener calls (thread-safe).
class ListenerCounter {
 public:
  void operator()();
  int count() const;
 private:
  mutable std::mutex mu_;
  int count_ = 0;
};

}  // namespace gthulhu::test::kube
