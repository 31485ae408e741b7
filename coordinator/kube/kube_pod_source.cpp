#include "coordinator/kube/kube_pod_source.h"

#include <spdlog/spdlog.h>

#include <set>

#include "coordinator/kube/pod_json.h"

namespace gthulhu::coordinator::kube {

std::string pods_path(const std::string& namespace_) {
  return namespace_.empty() ? "/api/v1/pods" : "/api/v1/namespaces/" + namespace_ + "/pods";
}

std::pair<std::string, std::string> split_key(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

KubePodSource::KubePodSource(KubeCredentials credentials, KubeClientOptions client_options,
                             KubePodSourceOptions options) {
  ReflectorOptions r = options.reflector;
  r.list_path = pods_path(options.namespace_);
  r.label_selector = options.label_selector;
  if (r.name == ReflectorOptions{}.name) r.name = "pods";
  reflector_ = std::make_unique<Reflector>(std::move(credentials), client_options, std::move(r), static_cast<ReflectorSink&>(*this));
}

KubePodSource::~KubePodSource() { reflector_->stop(); }

std::vector<Pod> KubePodSource::pods() const {
  std::lock_guard lock(mu_);
  std::vector<Pod> out;
  out.reserve(pods_.size());
  for (const auto& [key, pod] : pods_) out.push_back(pod);
  return out;
}

std::vector<std::string> KubePodSource::nodes() const {
  std::lock_guard lock(mu_);
  std::set<std::string> names;
  for (const auto& [key, pod] : pods_) {
    if (!pod.node_name.empty()) names.insert(pod.node_name);
  }
  return {names.begin(), names.end()};
}

void KubePodSource::apply(const std::vector<ObjectDelta>& deltas, bool initial) {
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    for (const auto& d : deltas) {
      const auto key = split_key(d.key);
      if (d.kind == ObjectDelta::Kind::Delete) {
        changed |= pods_.erase(key) > 0;
        continue;
      }
      std::string problem;
      auto pod = pod_from_json(d.object, problem);
      if (!pod) {
        spdlog::warn("kubernetes: pod {} skipped: {}", d.key, problem);
        continue;
      }
      auto [it, inserted] = pods_.try_emplace(key, *pod);
      if (inserted) {
        changed = true;
      } else if (!(it->second == *pod)) {
        it->second = std::move(*pod);
        changed = true;
      }
    }
  }
  if (changed || initial) notify_listeners();
}

}  // namespace gthulhu::coordinator::kube
