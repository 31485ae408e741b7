#pragma once
// What the coordinator knows about one node's agent, for GET /api/v1/nodes.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "coordinator/domain/types.h"

namespace gthulhu::coordinator {

enum class NodeReachability {
  kUnknown,      // no agent known for the node, or not contacted yet
  kReady,        // last contact succeeded and the agent is healthy
  kDegraded,     // reachable, but the agent reports degraded/unhealthy (reason says why)
  kUnreachable,  // the last request failed (reason says how)
};
const char* to_string(NodeReachability r);

struct NodeStatus {
  std::string node;
  std::string agent_url;  // "" when no agent is known
  NodeReachability status = NodeReachability::kUnknown;
  std::string reason;
  nlohmann::json scheduler = nlohmann::json::object();  // the agent's /health "scheduler"
  uint64_t acked_generation = 0;    // the last generation the agent acknowledged
  uint64_t desired_generation = 0;  // acked + 1 while a change is pending, else acked
  UnixMillis last_contact = 0;      // 0 = never
  std::size_t desired_intents = 0;
  // The last request body sent to the agent: its size and whether it was a delta or
  // the full set (answers "how much does a one-pod change cost on the wire").
  std::size_t last_push_bytes = 0;
  std::string last_push_kind;  // "delta" | "full" | ""
  // Since the coordinator started (for /metrics): requests that carried intents, by
  // kind, the bytes they carried, and failed calls of any kind (push, read, probe).
  uint64_t delta_pushes = 0;
  uint64_t full_pushes = 0;
  uint64_t push_bytes = 0;
  uint64_t failures = 0;
  std::map<IntentState, std::size_t> intents_by_state;
};

}  // namespace gthulhu::coordinator
