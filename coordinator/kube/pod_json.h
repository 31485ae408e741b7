#pragma once
// A Pod object of the Kubernetes API -> the coordinator's Pod, with the fields exactly
// as the API returns them (no trimming or case changes: label values are matched by
// strategies as written).
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "coordinator/pods/pod_source.h"

namespace gthulhu::coordinator::kube {

// nullopt with `problem` set when the object lacks metadata.uid/name/namespace or a
// field has the wrong type.
std::optional<Pod> pod_from_json(const nlohmann::json& object, std::string& problem);

// metadata.creationTimestamp ("2026-12-02T10:00:00Z"); "" when absent. RFC 3339 in UTC
// with a fixed width, so the text compares in time order.
std::string pod_creation_timestamp(const nlohmann::json& object);

}  // namespace gthulhu::coordinator::kube
