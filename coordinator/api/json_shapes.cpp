#include "coordinator/api/json_shapes.h"

#include <cctype>

namespace gthulhu::coordinator {

const char* state_name(IntentState s) {
  switch (s) {
    case IntentState::kUnknown: return "Unknown";
    case IntentState::kInitialized: return "Initialized";
    case IntentState::kSent: return "Sent";
    case IntentState::kApplied: return "Applied";
    case IntentState::kWaiting: return "Waiting";
    case IntentState::kFailed: return "Failed";
  }
  return "Unknown";
}

json token_json(const TokenPair& t) {
  return {{"token", t.access_token},
          {"accessToken", t.access_token},
          {"refreshToken", t.refresh_token},
          {"tokenType", "Bearer"},
          {"expiresIn", t.expires_in},
          {"needChangePassword", t.need_change_password}};
}

json user_json(const User& u) {
  return {{"id", u.id},
          {"username", u.username},
          {"roles", u.roles},
          {"status", static_cast<int>(u.status)},
          {"createdTime", rfc3339_millis(u.created_at)},
          {"updatedTime", rfc3339_millis(u.updated_at)}};
}

json policy_json(const RolePolicy& p) {
  return {{"permissionKey", p.permission_key},
          {"self", p.self},
          {"k8sNamespace", p.k8s_namespace},
          {"policyNamespace", p.policy_namespace}};
}

json role_json(const Role& r) {
  json policies = json::array();
  for (const auto& p : r.policies) policies.push_back(policy_json(p));
  return {{"id", r.id},
          {"name", r.name},
          {"description", r.description},
          {"rolePolicies", policies},
          {"rolePolicy", policies}};
}

json permission_json(const Permission& p) {
  return {{"key", p.key},
          {"resource", p.resource},
          {"action", p.action},
          {"description", p.description}};
}

// Built field by field: nlohmann's initializer lists deep-copy every value, and these
// run once per listed record.
json strategy_json(const Strategy& s) {
  json selectors(json::value_t::array);
  for (const auto& sel : s.label_selectors) {
    json e(json::value_t::object);
    e["key"] = sel.key;
    e["value"] = sel.value;
    selectors.push_back(std::move(e));
  }
  json j(json::value_t::object);
  j["id"] = s.id;
  j["strategyNamespace"] = s.strategy_namespace;
  j["labelSelectors"] = std::move(selectors);
  j["k8sNamespace"] = s.k8s_namespaces;
  j["commandRegex"] = s.command_regex;
  j["priority"] = s.priority;
  j["executionTime"] = s.execution_time;
  j["creatorID"] = s.creator_id;
  j["updaterID"] = s.updater_id;
  j["createdTime"] = rfc3339_millis(s.created_at);
  j["updatedTime"] = rfc3339_millis(s.updated_at);
  return j;
}

json intent_json(const Intent& i) {
  json j(json::value_t::object);
  j["id"] = i.id;
  j["strategyID"] = i.strategy_id;
  j["podID"] = i.pod_id;
  j["podName"] = i.pod_name;
  j["nodeID"] = i.node_id;
  j["k8sNamespace"] = i.k8s_namespace;
  j["commandRegex"] = i.command_regex;
  j["priority"] = i.priority;
  j["executionTime"] = i.execution_time;
  j["podLabels"] = i.pod_labels;
  j["state"] = static_cast<int>(i.state);
  j["stateName"] = state_name(i.state);
  j["stateReason"] = i.state_reason;
  j["creatorID"] = i.creator_id;
  j["createdTime"] = rfc3339_millis(i.created_at);
  j["updatedTime"] = rfc3339_millis(i.updated_at);
  return j;
}

json node_status_json(const NodeStatus& n) {
  json counts(json::value_t::object);
  for (auto st : {IntentState::kInitialized, IntentState::kSent, IntentState::kApplied, IntentState::kWaiting,
                  IntentState::kFailed}) {
    auto it = n.intents_by_state.find(st);
    std::string key = state_name(st);
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    counts[key] = it == n.intents_by_state.end() ? 0 : it->second;
  }
  json j(json::value_t::object);
  j["name"] = n.node;
  j["status"] = to_string(n.status);
  j["reason"] = n.reason;
  j["agentUrl"] = n.agent_url;
  j["scheduler"] = n.scheduler;
  j["ackedGeneration"] = n.acked_generation;
  j["desiredGeneration"] = n.desired_generation;
  j["lastContact"] = n.last_contact ? json(rfc3339_millis(n.last_contact)) : json(nullptr);
  j["desiredIntents"] = n.desired_intents;
  j["lastPushBytes"] = n.last_push_bytes;
  j["lastPushKind"] = n.last_push_kind;
  j["intents"] = std::move(counts);
  return j;
}

void parse_strategy(const json& body, Strategy& s, bool partial) {
  auto ns = opt_string(body, {"strategyNamespace", "StrategyNamespace"});
  if (ns || !partial) s.strategy_namespace = ns.value_or("");

  if (const json* sels = field(body, {"labelSelectors", "LabelSelectors"})) {
    if (!sels->is_array()) fail(400, "labelSelectors must be an array of {key, value}");
    s.label_selectors.clear();
    for (const auto& e : *sels) {
      if (!e.is_object()) fail(400, "labelSelectors must be an array of {key, value}");
      auto key = opt_string(e, {"key", "Key"});
      auto value = opt_string(e, {"value", "Value"});
      s.label_selectors.push_back({key.value_or(""), value.value_or("")});
    }
  } else if (!partial) {
    s.label_selectors.clear();
  }

  if (const json* nss = field(body, {"k8sNamespace", "k8sNamespaces", "K8sNamespace"})) {
    s.k8s_namespaces.clear();
    if (nss->is_string()) {
      if (!nss->get<std::string>().empty()) s.k8s_namespaces.push_back(nss->get<std::string>());
    } else if (nss->is_array()) {
      for (const auto& e : *nss) {
        if (!e.is_string()) fail(400, "k8sNamespace must be an array of strings");
        s.k8s_namespaces.push_back(e.get<std::string>());
      }
    } else {
      fail(400, "k8sNamespace must be an array of strings");
    }
  } else if (!partial) {
    s.k8s_namespaces.clear();
  }

  auto regex = opt_string(body, {"commandRegex", "CommandRegex"});
  if (regex || !partial) s.command_regex = regex.value_or("");
  auto prio = opt_int(body, {"priority", "Priority"});
  if (prio) {
    if (*prio < -1000000 || *prio > 1000000) {
      fail(422, "priority: must be between -20 and 20, got " + std::to_string(*prio));
    }
    s.priority = static_cast<int>(*prio);
  } else if (!partial) {
    s.priority = 0;
  }
  auto exec = opt_int(body, {"executionTime", "ExecutionTime"});
  if (exec || !partial) s.execution_time = exec.value_or(0);
}

std::optional<std::vector<RolePolicy>> parse_policies(const json& body) {
  const json* ps = field(body, {"rolePolicies", "rolePolicy", "RolePolicies", "RolePolicy"});
  if (!ps) return std::nullopt;
  if (!ps->is_array()) fail(400, "rolePolicies must be an array");
  std::vector<RolePolicy> out;
  for (const auto& e : *ps) {
    if (!e.is_object()) fail(400, "rolePolicies must be an array of objects");
    RolePolicy p;
    p.permission_key = opt_string(e, {"permissionKey", "PermissionKey"}).value_or("");
    p.self = opt_bool(e, {"self", "Self"}).value_or(false);
    p.k8s_namespace = opt_string(e, {"k8sNamespace", "K8sNamespace"}).value_or("");
    p.policy_namespace =
        opt_string(e, {"policyNamespace", "PolicyNamespace", "policeNamespace"}).value_or("");
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace gthulhu::coordinator
