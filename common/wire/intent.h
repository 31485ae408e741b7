#pragma once
// THE wire contract between coordinator and agent, part 1: one scheduling intent as
// the coordinator (or the upstream manager) sends it to an agent: one pod, an optional
// command regex, a priority and a time slice. The coordinator encodes with
// intent_to_json, the agent decodes with intent_from_json; the bounds are the
// scheduler's own (bpf/gthulhu_shared.h). The envelopes are in intent_request.h and
// intent_result.h.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

extern "C" {
#include "bpf/gthulhu_shared.h"
}

namespace gthulhu::wire {

inline constexpr int kPriorityMin = GTHULHU_PRIORITY_MIN;
inline constexpr int kPriorityMax = GTHULHU_PRIORITY_MAX;
inline constexpr std::int64_t kSliceMinNs = static_cast<std::int64_t>(GTHULHU_SLICE_MIN_NS);
inline constexpr std::int64_t kSliceMaxNs = static_cast<std::int64_t>(GTHULHU_SLICE_MAX_NS);

struct Intent {
  std::string id;             // coordinator's intent id; derived from content when absent
  std::string pod_uid;        // "podID", canonical
  std::string pod_name;
  std::string node_id;
  std::string k8s_namespace;
  std::string command_regex;  // RE2 syntax (Go regexp); empty = every process of the pod
  int32_t priority = 0;       // -20..20
  uint64_t execution_time_ns = 0;  // 0 = default; else clamped to the slice bounds
  std::map<std::string, std::string> pod_labels;

  bool operator==(const Intent&) const = default;
};

struct IntentParse {
  std::optional<Intent> intent;
  std::string error;  // why the entry is invalid (the intent is then reported invalid)
  std::string id;     // best-effort id for the result even when invalid
};

// Lenient on input like the upstream decoder (unknown fields ignored), strict on values.
IntentParse intent_from_json(const nlohmann::json& j);
nlohmann::json intent_to_json(const Intent& intent);

// Content-derived id for intents that arrive without one (upstream full lists).
std::string derived_intent_id(const Intent& intent);

// Clamp a requested slice into [GTHULHU_SLICE_MIN_NS, GTHULHU_SLICE_MAX_NS]; 0 stays 0.
uint64_t clamp_slice_ns(uint64_t requested);

}  // namespace gthulhu::wire
