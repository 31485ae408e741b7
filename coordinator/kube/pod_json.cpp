#include "coordinator/kube/pod_json.h"

namespace gthulhu::coordinator::kube {
namespace {

using nlohmann::json;

const json& object_field(const json& parent, const char* name) {
  static const json empty = json::object();
  auto it = parent.find(name);
  return it != parent.end() && it->is_object() ? *it : empty;
}

// A string field; absent or null is "", any other type is a problem.
bool text(const json& parent, const char* name, std::string& out, std::string& problem,
          const char* where) {
  auto it = parent.find(name);
  if (it == parent.end() || it->is_null()) {
    out.clear();
    return true;
  }
  if (!it->is_string()) {
    problem = std::string(where) + "." + name + " is not a string";
    return false;
  }
  out = it->get<std::string>();
  return true;
}

}  // namespace

std::optional<Pod> pod_from_json(const json& object, std::string& problem) {
  if (!object.is_object()) {
    problem = "not a JSON object";
    return std::nullopt;
  }
  const json& md = object_field(object, "metadata");
  const json& spec = object_field(object, "spec");
  const json& status = object_field(object, "status");
  Pod p;
  if (!text(md, "uid", p.uid, problem, "metadata") || !text(md, "name", p.name, problem, "metadata") ||
      !text(md, "namespace", p.namespace_, problem, "metadata") ||
      !text(spec, "nodeName", p.node_name, problem, "spec") ||
      !text(status, "phase", p.phase, problem, "status") ||
      !text(status, "podIP", p.pod_ip, problem, "status")) {
    return std::nullopt;
  }
  if (p.uid.empty() || p.name.empty() || p.namespace_.empty()) {
    problem = "metadata.uid, metadata.name and metadata.namespace are required";
    return std::nullopt;
  }
  if (auto labels = md.find("labels"); labels != md.end() && !labels->is_null()) {
    if (!labels->is_object()) {
      problem = "metadata.labels is not an object";
      return std::nullopt;
    }
    for (const auto& [k, v] : labels->items()) {
      if (!v.is_string()) {
        problem = "label \"" + k + "\" has a value that is not a string";
        return std::nullopt;
      }
      p.labels.emplace(k, v.get<std::string>());
    }
  }
  return p;
}

std::string pod_creation_timestamp(const json& object) {
  const json& md = object_field(object, "metadata");
  auto it = md.find("creationTimestamp");
  return it != md.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace gthulhu::coordinator::kube
