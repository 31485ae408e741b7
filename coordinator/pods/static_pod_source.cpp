#include "coordinator/pods/static_pod_source.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

namespace gthulhu::coordinator {

bool is_schedulable(const Pod& pod) {
  return !pod.node_name.empty() && pod.phase != "Succeeded" && pod.phase != "Failed";
}

namespace {

void normalise(std::vector<Pod>& pods, std::vector<std::string>& nodes) {
  std::sort(pods.begin(), pods.end(), [](const Pod& a, const Pod& b) {
    return std::tie(a.namespace_, a.name, a.uid) < std::tie(b.namespace_, b.name, b.uid);
  });
  std::set<std::string> all(nodes.begin(), nodes.end());
  for (const auto& p : pods) {
    if (!p.node_name.empty()) all.insert(p.node_name);
  }
  nodes.assign(all.begin(), all.end());
}

std::string string_field(const nlohmann::json& obj, const char* key, bool required,
                         const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) throw std::runtime_error(where + ": \"" + key + "\" is required");
    return {};
  }
  if (!it->is_string()) throw std::runtime_error(where + ": \"" + key + "\" must be a string");
  return it->get<std::string>();
}

}  // namespace

StaticPodSource::StaticPodSource(std::vector<Pod> pods, std::vector<std::string> nodes) {
  set(std::move(pods), std::move(nodes));
}

void StaticPodSource::set(std::vector<Pod> pods, std::vector<std::string> nodes) {
  normalise(pods, nodes);
  {
    std::lock_guard lock(mu_);
    pods_ = std::move(pods);
    nodes_ = std::move(nodes);
  }
  notify_listeners();
}

std::vector<Pod> StaticPodSource::pods() const {
  std::lock_guard lock(mu_);
  return pods_;
}

std::vector<std::string> StaticPodSource::nodes() const {
  std::lock_guard lock(mu_);
  return nodes_;
}

std::unique_ptr<StaticPodSource> StaticPodSource::from_json(const std::string& text, const std::string& origin) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(origin + ": not valid JSON: " + e.what());
  }
  nlohmann::json list;
  std::vector<std::string> nodes;
  if (doc.is_array()) {
    list = doc;
  } else if (doc.is_object()) {
    list = doc.value("pods", nlohmann::json::array());
    if (auto it = doc.find("nodes"); it != doc.end()) {
      if (!it->is_array()) throw std::runtime_error(origin + ": \"nodes\" must be an array");
      for (const auto& n : *it) {
        if (!n.is_string()) throw std::runtime_error(origin + ": nodes must be strings");
        nodes.push_back(n.get<std::string>());
      }
    }
  } else {
    throw std::runtime_error(origin + ": expected an object with \"pods\" or an array");
  }
  if (!list.is_array()) throw std::runtime_error(origin + ": \"pods\" must be an array");
  std::vector<Pod> pods;
  std::set<std::string> uids;
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& e = list[i];
    const std::string where = origin + ": pods[" + std::to_string(i) + "]";
    if (!e.is_object()) throw std::runtime_error(where + " must be an object");
    Pod p;
    p.uid = string_field(e, "uid", true, where);
    p.name = string_field(e, "name", true, where);
    p.namespace_ = string_field(e, "namespace", true, where);
    p.node_name = string_field(e, "nodeName", false, where);
    p.phase = string_field(e, "phase", false, where);
    if (p.phase.empty()) p.phase = "Running";
    if (auto it = e.find("labels"); it != e.end() && !it->is_null()) {
      if (!it->is_object()) throw std::runtime_error(where + ": \"labels\" must be an object");
      for (const auto& [k, v] : it->items()) {
        if (!v.is_string()) throw std::runtime_error(where + ": label values must be strings");
        p.labels[k] = v.get<std::string>();
      }
    }
    if (!uids.insert(p.uid).second) throw std::runtime_error(where + ": duplicate uid " + p.uid);
    pods.push_back(std::move(p));
  }
  return std::make_unique<StaticPodSource>(std::move(pods), std::move(nodes));
}

std::unique_ptr<StaticPodSource> StaticPodSource::from_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read pod inventory " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return from_json(ss.str(), path.string());
}

}  // namespace gthulhu::coordinator
