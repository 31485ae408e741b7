#pragma once
// The JSON the API speaks, in one place.
//
// Responses use camelCase with the upstream's field names (the seed README's
// ScheduleStrategy / ScheduleIntent tables): strategies
//   {id, strategyNamespace, labelSelectors:[{key,value}], k8sNamespace:[..],
//    commandRegex, priority, executionTime, creatorID, updaterID, createdTime, updatedTime}
// intents
//   {id, strategyID, podID, podName, nodeID, k8sNamespace, commandRegex, priority,
//    executionTime, podLabels:{..}, state:int, stateName, stateReason, creatorID,
//    createdTime, updatedTime}
// The upstream answered strategies and intents in PascalCase by accident (Go structs
// without json tags); input accepts those spellings too (see parse_strategy).
#include <optional>
#include <string>

#include "coordinator/api/route_support.h"
#include "coordinator/auth/auth_service.h"
#include "coordinator/dispatch/node_status.h"
#include "coordinator/domain/types.h"

namespace gthulhu::coordinator {

const char* state_name(IntentState state);

// Login / refresh / password change answer:
//   {token, accessToken, refreshToken, tokenType:"Bearer", expiresIn, needChangePassword}
// ("token" == "accessToken", as upstream: older clients read "token").
json token_json(const TokenPair& t);

json user_json(const User& u);
json policy_json(const RolePolicy& p);
// Both "rolePolicies" (as in create) and "rolePolicy" (as the upstream's list/update):
// the same array under the two names the upstream used.
json role_json(const Role& r);
json permission_json(const Permission& p);
json strategy_json(const Strategy& s);
json intent_json(const Intent& i);
// GET /api/v1/nodes entry: {name, status, reason, agentUrl, scheduler, ackedGeneration,
//   desiredGeneration, lastContact (RFC 3339 or null), desiredIntents,
//   intents:{initialized,sent,applied,waiting,failed}}
json node_status_json(const NodeStatus& n);

// Fills the strategy's user-settable fields from a request body. Accepted spellings:
//   strategyNamespace | StrategyNamespace
//   labelSelectors | LabelSelectors   (items {key,value} | {Key,Value})
//   k8sNamespace | k8sNamespaces | K8sNamespace  (array of strings; a single string too)
//   commandRegex | CommandRegex,  priority | Priority,  executionTime | ExecutionTime
// For an update (`partial`), absent fields keep their current value; for a create
// they take the defaults (empty, 0). Wrong JSON types -> 400.
void parse_strategy(const json& body, Strategy& s, bool partial);

// rolePolicies | rolePolicy | RolePolicies: [{permissionKey, self, k8sNamespace,
// policyNamespace}] -> policies; nullopt when absent. Wrong types -> 400.
std::optional<std::vector<RolePolicy>> parse_policies(const json& body);

}  // namespace gthulhu::coordinator
