#pragma once
// The coordinator's pods from the Kubernetes API: a Reflector on Pods (all namespaces or
// one, optionally a label selector) feeding a cache of Pod values. Listeners run after
// every change that alters the pod set as the coordinator sees it (a pod's status
// churn that changes no field of Pod does not count), and once when first synced.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "coordinator/kube/reflector.h"
#include "coordinator/pods/pod_source.h"

namespace gthulhu::coordinator::kube {

struct KubePodSourceOptions {
  std::string namespace_;      // "" = every namespace
  std::string label_selector;  // "" = every pod
  ReflectorOptions reflector;  // timeouts, page size, backoff (list_path/selectors are set here)
};

class KubePodSource final : public PodSource, private ReflectorSink {
 public:
  KubePodSource(KubeCredentials credentials, KubeClientOptions client_options,
                KubePodSourceOptions options);
  ~KubePodSource() override;  // stop()

  void start() { reflector_->start(); }
  void stop() { reflector_->stop(); }

  std::vector<Pod> pods() const override;
  std::vector<std::string> nodes() const override;
  bool synced() const override { return reflector_->synced(); }

  // resourceVersion, statistics (tests, diagnostics).
  const Reflector& reflector() const { return *reflector_; }

 private:
  void apply(const std::vector<ObjectDelta>& deltas, bool initial) override;

  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Pod> pods_;  // (namespace, name) -> pod
  std::unique_ptr<Reflector> reflector_;
};

// "/api/v1/pods" or "/api/v1/namespaces/NS/pods".
std::string pods_path(const std::string& namespace_);
// "ns/name" -> (ns, name); a key without '/' is (", key).
std::pair<std::string, std::string> split_key(const std::string& key);

}  // namespace gthulhu::coordinator::kube
