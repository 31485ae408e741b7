#pragma once
// Reads a YAML document (a kubeconfig file) into a JSON value with libyaml, so the rest
// of the kube code handles one tree type. Every scalar becomes a JSON string (YAML 1.1
// typing is left to the reader of each field); anchors and aliases are refused rather
// than expanded, as kubeconfig files never need them. JSON is YAML, so a kubeconfig in
// JSON form reads the same.
#include <nlohmann/json.hpp>
#include <string>

namespace gthulhu::coordinator::kube {

// Throws std::runtime_error "<origin>: line L column C: <problem>". An empty document
// gives a null value.
nlohmann::json parse_yaml(const std::string& text, const std::string& origin);

}  // namespace gthulhu::coordinator::kube
