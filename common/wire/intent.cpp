#include "common/wire/intent.h"

#include <openssl/sha.h>

#include <cstdio>

#include "common/wire/pod_uid.h"


namespace gthulhu::wire {

using nlohmann::json;

uint64_t clamp_slice_ns(uint64_t requested) {
  if (requested == 0) return 0;
  if (requested < GTHULHU_SLICE_MIN_NS) return GTHULHU_SLICE_MIN_NS;
  if (requested > GTHULHU_SLICE_MAX_NS) return GTHULHU_SLICE_MAX_NS;
  return requested;
}

std::string derived_intent_id(const Intent& in) {
  std::string key = in.pod_uid + "|" + in.command_regex + "|" + std::to_string(in.priority) +
                    "|" + std::to_string(in.execution_time_ns);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  char hex[25];
  for (int i = 0; i < 12; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  return std::string("d-") + hex;
}

namespace {

// Accepts both the upstream camelCase names and the PascalCase of the manager's
// intent listing, so an intent copied from either shape works.
const json* field(const json& j, const char* camel, const char* pascal) {
  if (auto it = j.find(camel); it != j.end() && !it->is_null()) return &*it;
  if (auto it = j.find(pascal); it != j.end() && !it->is_null()) return &*it;
  return nullptr;
}

bool read_string(const json& j, const char* camel, const char* pascal, std::string* out,
                 std::string* error) {
  const json* v = field(j, camel, pascal);
  if (v == nullptr) return true;
  if (!v->is_string()) {
    *error = std::string(camel) + " must be a string";
    return false;
  }
  *out = v->get<std::string>();
  return true;
}

}  // namespace

IntentParse intent_from_json(const json& j) {
  IntentParse out;
  if (!j.is_object()) {
    out.error = "intent must be a JSON object";
    return out;
  }
  Intent in;
  std::string error;
  std::string pod_id;
  if (!read_string(j, "id", "ID", &in.id, &error) ||
      !read_string(j, "podID", "PodID", &pod_id, &error) ||
      !read_string(j, "podName", "PodName", &in.pod_name, &error) ||
      !read_string(j, "nodeID", "NodeID", &in.node_id, &error) ||
      !read_string(j, "k8sNamespace", "K8sNamespace", &in.k8s_namespace, &error) ||
      !read_string(j, "commandRegex", "CommandRegex", &in.command_regex, &error)) {
    out.id = in.id;
    out.error = error;
    return out;
  }
  out.id = in.id;
  auto uid = canonical_pod_uid(pod_id);
  if (!uid) {
    out.error = pod_id.empty() ? "podID is required" : "podID '" + pod_id + "' is not a pod UID";
    return out;
  }
  in.pod_uid = *uid;
  if (const json* p = field(j, "priority", "Priority")) {
    if (!p->is_number_integer()) {
      out.error = "priority must be an integer";
      return out;
    }
    const auto v = p->get<int64_t>();
    if (v < GTHULHU_PRIORITY_MIN || v > GTHULHU_PRIORITY_MAX) {
      out.error = "priority " + std::to_string(v) + " is outside -20..20";
      return out;
    }
    in.priority = static_cast<int32_t>(v);
  }
  if (const json* e = field(j, "executionTime", "ExecutionTime")) {
    if (!e->is_number_integer() || e->get<int64_t>() < 0) {
      out.error = "executionTime must be a non-negative integer (nanoseconds)";
      return out;
    }
    in.execution_time_ns = clamp_slice_ns(e->get<uint64_t>());
  }
  if (const json* l = field(j, "podLabels", "PodLabels")) {
    if (!l->is_object()) {
      out.error = "podLabels must be an object of strings";
      return out;
    }
    for (const auto& [k, v] : l->items()) {
      if (!v.is_string()) {
        out.error = "podLabels." + k + " must be a string";
        return out;
      }
      in.pod_labels[k] = v.get<std::string>();
    }
  }
  if (in.id.empty()) in.id = derived_intent_id(in);
  out.id = in.id;
  out.intent = std::move(in);
  return out;
}

json intent_to_json(const Intent& in) {
  json j = {{"id", in.id},
            {"podID", in.pod_uid},
            {"podName", in.pod_name},
            {"nodeID", in.node_id},
            {"k8sNamespace", in.k8s_namespace},
            {"commandRegex", in.command_regex},
            {"priority", in.priority},
            {"executionTime", in.execution_time_ns},
            {"podLabels", in.pod_labels}};
  return j;
}

}  // namespace gthulhu::wire
