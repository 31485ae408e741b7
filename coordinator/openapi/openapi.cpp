#include "coordinator/openapi/openapi.h"

#include <algorithm>

#include "common/http/json_api.h"
#include "coordinator/domain/validation.h"
#include "coordinator/rbac/permissions.h"

namespace gthulhu::coordinator {

using json = nlohmann::json;

namespace {

json ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }

json str(const std::string& description = "") {
  json s = {{"type", "string"}};
  if (!description.empty()) s["description"] = description;
  return s;
}
json integer(const std::string& description = "", const char* format = "int64") {
  json s = {{"type", "integer"}, {"format", format}};
  if (!description.empty()) s["description"] = description;
  return s;
}
json boolean(const std::string& description = "") {
  json s = {{"type", "boolean"}};
  if (!description.empty()) s["description"] = description;
  return s;
}
json array_of(json items) { return {{"type", "array"}, {"items", std::move(items)}}; }
json object(json properties, std::vector<std::string> required = {}) {
  json s = {{"type", "object"}, {"properties", std::move(properties)}};
  if (!required.empty()) s["required"] = required;
  return s;
}

// The rules the handlers enforce, written into the schemas so a schema-driven client
// or fuzzer can build valid requests (and knows the shape of every answer).
void add_constraints(json& s) {
  auto props = [&s](const char* schema) -> json& { return s[schema]["properties"]; };
  const json id = {{"type", "string"}, {"pattern", "^[0-9a-f]{24}$"}, {"example", "65f0c0ffee0000000000abcd"}};
  const json date_time = {{"type", "string"}, {"format", "date-time"}};
  json keys = json::array();
  for (const auto& p : permission_catalogue()) keys.push_back(p.key);
  keys.push_back(perm::kUserPasswordChange);
  for (const char* name : {"StrategyCreate", "StrategyUpdate", "Strategy"}) {
    auto& p = props(name);
    p["priority"]["minimum"] = kPriorityMin;
    p["priority"]["maximum"] = kPriorityMax;
    p["priority"]["example"] = 10;
    // 0 (the scheduler's default slice) or a slice within the kernel-side bounds.
    p["executionTime"]["minimum"] = 0;
    p["executionTime"]["maximum"] = kExecutionTimeMaxNs;
    p["executionTime"]["anyOf"] = json::array(
        {{{"enum", {0}}}, {{"minimum", kExecutionTimeMinNs}, {"maximum", kExecutionTimeMaxNs}}});
    p["executionTime"]["example"] = 20000000;
    p["commandRegex"]["maxLength"] = 1024;
    // A regular expression; the server compiles it as RE2 (no backreferences or
    // lookaround) and answers 422 with RE2's message when it is not one.
    p["commandRegex"]["format"] = "regex";
    p["k8sNamespace"]["items"]["pattern"] = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
    p["k8sNamespace"]["items"]["maxLength"] = 63;
  }
  props("StrategyUpdate")["strategyId"] = id;
  props("StrategyDelete")["strategyId"] = id;
  for (const char* name : {"Strategy", "Intent", "User", "Role"}) props(name)["id"] = id;
  for (const char* name : {"Strategy", "Intent", "User"}) {
    props(name)["createdTime"] = date_time;
    props(name)["updatedTime"] = date_time;
  }
  s["Ok"]["properties"]["timestamp"]["format"] = "date-time";
  props("User")["status"]["enum"] = {1, 2, 3};
  props("PermissionsUpdate")["status"]["enum"] = {1, 2, 3};
  props("PermissionsUpdate")["userID"] = id;
  props("PasswordReset")["userID"] = id;
  props("Intent")["state"]["enum"] = {0, 1, 2, 3, 4, 5};
  props("Intent")["stateName"]["enum"] = {"Unknown", "Initialized", "Sent", "Applied", "Waiting", "Failed"};
  props("Node")["status"]["enum"] = {"Ready", "NotReady", "Unknown"};
  props("Health")["status"]["enum"] = {"healthy", "unhealthy"};
  props("RolePolicy")["permissionKey"]["enum"] = keys;
  for (const char* name : {"RoleCreate", "RoleUpdate"}) {
    props(name)["name"]["pattern"] = "^[A-Za-z0-9][A-Za-z0-9_.-]*$";
    props(name)["name"]["maxLength"] = 64;
    props(name)["description"]["maxLength"] = 1024;
  }
  props("RoleUpdate")["id"] = id;
  props("RoleDelete")["id"] = id;
  props("UserCreate")["username"]["minLength"] = 1;
  props("UserCreate")["username"]["maxLength"] = 128;
  props("UserCreate")["username"]["example"] = "alice@example.com";
  props("UserCreate")["password"]["minLength"] = 12;
  props("LoginRequest")["username"]["minLength"] = 1;
  props("LoginRequest")["password"]["minLength"] = 1;
  props("IntentDelete")["intentIds"]["minItems"] = 1;
  props("IntentDelete")["intentIds"]["items"] = id;
  // Kubernetes label syntax, as validation.cpp checks it.
  props("LabelSelector")["key"]["minLength"] = 1;
  props("LabelSelector")["key"]["maxLength"] = 317;
  props("LabelSelector")["key"]["pattern"] =
      // optional prefix: a DNS-1123 subdomain (at most 253 characters: here at most
      // three labels, which a lookahead-free pattern can bound), then '/'
      "^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?){0,2}/)?"
      "[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$";
  props("LabelSelector")["key"]["example"] = "app.kubernetes.io/name";
  props("LabelSelector")["value"]["maxLength"] = 63;
  props("LabelSelector")["value"]["pattern"] = "^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$";
  props("LabelSelector")["value"]["example"] = "nginx";
  const json dns_label_or_empty = {{"type", "string"}, {"maxLength", 63},
                                   {"pattern", "^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$"}};
  for (const char* name : {"StrategyCreate", "StrategyUpdate", "Strategy"}) {
    props(name)["strategyNamespace"] = dns_label_or_empty;
    props(name)["labelSelectors"]["maxItems"] = kMaxLabelSelectors;
    props(name)["k8sNamespace"]["maxItems"] = kMaxNamespaces;
  }
  // A strategy must select something: a label selector or a namespace (an update may
  // leave both out and keep what the strategy has).
  s["StrategyCreate"]["anyOf"] = json::array(
      {{{"required", {"labelSelectors"}},
        {"properties", {{"labelSelectors", {{"type", "array"}, {"minItems", 1}}}}}},
       {{"required", {"k8sNamespace"}},
        {"properties", {{"k8sNamespace", {{"type", "array"}, {"minItems", 1}}}}}}});
  props("RolePolicy")["k8sNamespace"] = dns_label_or_empty;
  // The password policy (auth/password_policy.h) as far as a schema can say it: at
  // least 12 characters, not one character repeated; also neither the username nor a
  // well-known password (said in the description).
  json password = {{"type", "string"}, {"minLength", 12}, {"maxLength", 256},
                   {"pattern", "^(?!(.)\\1*$)"},
                   {"description", "12-256 characters, not one repeated character, not the "
                                   "username, not a well-known password"},
                   {"example", "correct horse battery staple"}};
  props("UserCreate")["password"] = password;
  props("PasswordReset")["newPassword"] = password;
  props("PasswordChange")["newPassword"] = password;
  props("PasswordChange")["oldPassword"]["minLength"] = 1;
  props("UserCreate")["username"]["pattern"] = "^[^ \\x00-\\x1f\\x7f]([^\\x00-\\x1f\\x7f]*[^ \\x00-\\x1f\\x7f])?$";
  const json role_name = {{"type", "string"}, {"pattern", "^[A-Za-z0-9_.-]+$"}, {"maxLength", 64},
                          {"example", "admin"}};
  props("UserCreate")["roles"]["items"] = role_name;
  props("PermissionsUpdate")["roles"]["items"] = role_name;
  props("RefreshRequest")["refreshToken"]["minLength"] = 1;
  props("RefreshRequest")["refreshToken"]["maxLength"] = 512;
  // refreshToken is left out when it went into the cookie (refreshTokenCookie).
  s["TokenPair"]["required"] = {"accessToken", "expiresIn"};
  s["Error"]["example"] = {{"success", false}, {"error", "priority: must be between -20 and 20, got 21"}};
}

json schemas() {
  json s;
  s["Error"] = object({{"success", {{"type", "boolean"}, {"enum", {false}}}}, {"error", str()}},
                      {"success", "error"});
  s["Ok"] = object({{"success", {{"type", "boolean"}, {"enum", {true}}}},
                    {"timestamp", str("RFC 3339 UTC")}},
                   {"success", "timestamp"});
  s["LoginRequest"] = object(
      {{"username", str()},
       {"password", str()},
       {"refreshTokenCookie",
        boolean("true (browsers): the refresh token is set as the HttpOnly cookie gthulhu_refresh "
                "(Path=/api/v1/auth, SameSite=Strict, Secure over TLS) instead of returned")}},
      {"username", "password"});
  s["RefreshRequest"] = object(
      {{"refreshToken",
        str("the refresh token; when absent the gthulhu_refresh cookie is used (and the answer "
            "sets the rotated token as that cookie instead of returning it)")}});
  s["TokenPair"] = object({{"token", str("same as accessToken (upstream compatibility)")},
                           {"accessToken", str("RS256 JWT, send as 'Authorization: Bearer'")},
                           {"refreshToken", str("opaque, single use")},
                           {"tokenType", str("always Bearer")},
                           {"expiresIn", integer("access token lifetime, seconds")},
                           {"needChangePassword", boolean()}});
  s["Validation"] = object({{"valid", boolean()}, {"uid", str()}, {"needChangePassword", boolean()}});
  s["User"] = object({{"id", str()},
                      {"username", str()},
                      {"roles", array_of(str())},
                      {"status", integer("1 active, 2 inactive, 3 must change password", "int32")},
                      {"createdTime", str()},
                      {"updatedTime", str()}});
  s["UserList"] = object({{"users", array_of(ref("User"))}});
  s["UserCreate"] = object({{"username", str()},
                            {"password", str("initial password; the user must change it")},
                            {"roles", array_of(str("role name"))}},
                           {"username", "password"});
  s["PasswordReset"] = object({{"userID", str()}, {"newPassword", str()}}, {"userID", "newPassword"});
  s["PermissionsUpdate"] = object({{"userID", str()},
                                   {"roles", array_of(str("role name"))},
                                   {"status", integer("1, 2 or 3", "int32")}},
                                  {"userID"});
  s["PasswordChange"] = object({{"oldPassword", str()}, {"newPassword", str()}},
                               {"oldPassword", "newPassword"});
  s["RolePolicy"] = object({{"permissionKey", str()},
                            {"self", boolean("only the caller's own resources")},
                            {"k8sNamespace", str("stored, not enforced")},
                            {"policyNamespace", str("stored, not enforced")}},
                           {"permissionKey"});
  s["Role"] = object({{"id", str()},
                      {"name", str()},
                      {"description", str()},
                      {"rolePolicies", array_of(ref("RolePolicy"))},
                      {"rolePolicy", array_of(ref("RolePolicy"))}});
  s["RoleList"] = object({{"roles", array_of(ref("Role"))}});
  s["RoleCreate"] = object({{"name", str()},
                            {"description", str()},
                            {"rolePolicies", array_of(ref("RolePolicy"))}},
                           {"name"});
  s["RoleUpdate"] = object({{"id", str()},
                            {"name", str()},
                            {"description", str()},
                            {"rolePolicies", array_of(ref("RolePolicy"))},
                            {"rolePolicy", array_of(ref("RolePolicy"))}},
                           {"id"});
  s["RoleDelete"] = object({{"id", str()}}, {"id"});
  s["Permission"] = object({{"key", str()}, {"resource", str()}, {"action", str()}, {"description", str()}});
  s["PermissionList"] = object({{"permissions", array_of(ref("Permission"))}});
  s["LabelSelector"] = object({{"key", str()}, {"value", str("empty: the label must exist")}}, {"key"});
  json strategy_fields = {
      {"strategyNamespace", str("metadata only")},
      {"labelSelectors", array_of(ref("LabelSelector"))},
      {"k8sNamespace", array_of(str("namespace; empty list = all"))},
      {"commandRegex", str("RE2 syntax; empty = every process")},
      {"priority", integer("-20..20", "int32")},
      {"executionTime", integer("time slice in ns: 0 or 500000..100000000")}};
  s["StrategyCreate"] = object(strategy_fields);
  json update = strategy_fields;
  update["strategyId"] = str();
  s["StrategyUpdate"] = object(update, {"strategyId"});
  s["StrategyDelete"] = object({{"strategyId", str()}}, {"strategyId"});
  json full = strategy_fields;
  full["id"] = str();
  full["creatorID"] = str();
  full["updaterID"] = str();
  full["createdTime"] = str();
  full["updatedTime"] = str();
  s["Strategy"] = object(full);
  s["StrategyResult"] = object({{"strategy", ref("Strategy")},
                                {"intentCount", integer("intents created for matching pods")}});
  s["StrategyList"] = object({{"strategies", array_of(ref("Strategy"))}});
  s["Intent"] = object({{"id", str()},
                        {"strategyID", str()},
                        {"podID", str("pod UID")},
                        {"podName", str()},
                        {"nodeID", str()},
                        {"k8sNamespace", str()},
                        {"commandRegex", str()},
                        {"priority", integer("", "int32")},
                        {"executionTime", integer()},
                        {"podLabels", {{"type", "object"}, {"additionalProperties", str()}}},
                        {"state", integer("0 Unknown, 1 Initialized, 2 Sent, 3 Applied, 4 Waiting, 5 Failed", "int32")},
                        {"stateName", str()},
                        {"stateReason", str()},
                        {"creatorID", str()},
                        {"createdTime", str()},
                        {"updatedTime", str()}});
  s["IntentList"] = object({{"intents", array_of(ref("Intent"))}});
  s["IntentDelete"] = object({{"intentIds", array_of(str())}}, {"intentIds"});
  s["Node"] = object({{"name", str()}, {"status", str("Ready | NotReady | Unknown")}});
  s["NodeList"] = object({{"nodes", array_of(ref("Node"))}});
  s["PreviewPod"] = object({{"podId", str("pod UID")},
                            {"podName", str()},
                            {"namespace", str()},
                            {"nodeName", str()},
                            {"labels", {{"type", "object"}, {"additionalProperties", str()}}}});
  s["PreviewNode"] = object({{"name", str()}, {"podCount", integer("", "int32")}});
  s["StrategyPreview"] = object({{"podCount", integer("pods that would get an intent now")},
                                 {"pods", array_of(ref("PreviewPod"))},
                                 {"nodes", array_of(ref("PreviewNode"))}});
  // Figures: the scheduler's per-policy counters of the pod's intents, from its node's
  // agent (GET /api/v1/pods/stats there; simulated on agent.simulate nodes); the series
  // is kept by the coordinator (pods/pod_metrics_series.h).
  auto nullable = [](json schema) {
    schema["nullable"] = true;
    return schema;
  };
  s["PodMetricsSample"] = object(
      {{"time", str("RFC 3339, when the coordinator asked the agent")},
       {"cpuTimeNs", integer("cumulative CPU time of the pod's policied tasks")},
       {"cpuUse", nullable({{"type", "number"},
                            {"description", "CPUs used on average since the previous sample (null for the first)"}})},
       {"runs", integer("runs in the interval since the previous sample (all runs for the first)")},
       {"waitP50Ns", nullable(integer("runqueue wait median of the interval, estimated from the log2 histogram; null without runs"))},
       {"waitP99Ns", nullable(integer("runqueue wait 99th percentile of the interval; null without runs"))}});
  s["PodMetrics"] = object(
      {{"podId", str("pod UID")},
       {"podName", str()},
       {"namespace", str()},
       {"node", str("the node whose agent answered")},
       {"source", {{"type", "string"}, {"enum", {"scheduler", "simulated"}},
                   {"description", "scheduler: the BPF scheduler's counters; simulated: an agent.simulate node's model"}}},
       {"sampledAt", str("RFC 3339, the newest sample")},
       {"cpuTimeNs", integer("CPU time of the pod's policied tasks since the policy was written")},
       {"runs", integer("times those tasks started running")},
       {"waitTimeNs", integer("runnable-to-running wait summed over those runs")},
       {"waitHistogram",
        object({{"boundsNs", array_of(integer("upper bound of a bucket, ns (the last bucket is open: one entry fewer than counts)"))},
                {"counts", array_of(integer("runs whose wait fell in the bucket, cumulative"))}})},
       {"samples", array_of(ref("PodMetricsSample"))}},
      {"podId", "node", "cpuTimeNs", "runs", "waitHistogram", "samples"});
  s["EffectivePermission"] = object({{"key", str()}, {"self", boolean("only the caller's own resources")}});
  s["SelfPermissions"] = object({{"userId", str()},
                                 {"username", str()},
                                 {"permissions", array_of(ref("EffectivePermission"))}});
  s["Health"] = object({{"status", str("healthy | unhealthy")},
                        {"timestamp", str()},
                        {"service", str()},
                        {"store", object({{"backend", str()}, {"ok", boolean()}, {"error", str()}})},
                        {"pods", object({{"synced", boolean()}})}});
  s["Version"] = object({{"message", str()}, {"version", str()}, {"endpoints", str()}});
  s["OpenApiDocument"] = object({{"openapi", {{"type", "string"}, {"enum", {"3.0.3"}}}},
                                 {"info", {{"type", "object"}}},
                                 {"servers", {{"type", "array"}}},
                                 {"paths", {{"type", "object"}}},
                                 {"components", {{"type", "object"}}}},
                                {"openapi", "info", "paths"});
  add_constraints(s);
  // The handlers read a JSON null as an absent field (common/http/json_input.h): say
  // so for every optional field of a request.
  for (const char* name : {"LoginRequest", "RefreshRequest", "UserCreate", "PasswordReset",
                           "PermissionsUpdate", "PasswordChange", "RolePolicy", "RoleCreate",
                           "RoleUpdate", "RoleDelete", "LabelSelector", "StrategyCreate",
                           "StrategyUpdate", "StrategyDelete", "IntentDelete"}) {
    json& schema = s[name];
    const json required = schema.value("required", json::array());
    for (auto& [field, prop] : schema["properties"].items()) {
      if (std::find(required.begin(), required.end(), field) == required.end())
        prop["nullable"] = true;
    }
  }
  return s;
}

struct Op {
  const char* method;
  const char* path;  // router pattern
  const char* tag;
  const char* summary;
  const char* permission;  // nullptr: no authentication; "": any signed-in user
  const char* request;     // schema name or nullptr
  int status;              // success status
  const char* data;        // schema of "data" (enveloped) or nullptr
  std::vector<int> errors;
  bool raw = false;        // response is not enveloped (data = the whole body)
  const char* content_type = "application/json";
};

json response_for(const Op& op) {
  json content;
  if (op.raw) {
    content = op.data ? ref(op.data) : json{{"type", "string"}};
  } else {
    content = {{"allOf", json::array({ref("Ok")})}};
    if (op.data) content["allOf"].push_back(object({{"data", ref(op.data)}}));
  }
  return {{"description", op.status == 201 ? "Created" : "OK"},
          {"content", {{op.content_type, {{"schema", content}}}}}};
}

const char* reason(int status) {
  switch (status) {
    case 400: return "Malformed body (not JSON, wrong JSON types, missing id)";
    case 401: return "Missing, malformed, expired or revoked token; bad credentials";
    case 403: return "Permission denied, or password change required";
    case 404: return "Not found (or not yours)";
    case 409: return "Duplicate name, concurrent change, or still in use";
    case 422: return "Validation failed; the message names each field";
    case 429: return "Too many login attempts; see Retry-After";
    case 502: return "A node's agent could not be reached or gave a bad answer (the message names the node)";
    case 503: return "Storage (or, for pod metrics, the node's agent or scheduler) unavailable; see Retry-After";
  }
  return "Error";
}

std::string openapi_path(const std::string& pattern) {
  std::string out;
  for (const auto& seg : http::split_path(pattern)) {
    out += '/';
    if (seg[0] == ':') {
      out += '{';
      out.append(seg, 1, std::string::npos);
      out += '}';
    } else {
      out += seg;
    }
  }
  if (pattern.size() > 1 && pattern.back() == '/') out += "/";
  return out.empty() ? "/" : out;
}

const std::vector<Op>& operations() {
  static const std::vector<Op> kOps = {
      {"GET", "/health", "system", "Health: 200 when the store answers, else 503", nullptr, nullptr, 200, "Health", {503}, true},
      {"GET", "/version", "system", "Version information", nullptr, nullptr, 200, "Version", {}, true},
      {"GET", "/metrics", "system", "Prometheus metrics (text exposition)", nullptr, nullptr, 200, nullptr, {}, true, "text/plain"},
      {"GET", "/swagger/", "system", "This documentation as a readable page", nullptr, nullptr, 200, nullptr, {}, true, "text/html"},
      {"GET", "/swagger/doc.json", "system", "This documentation (OpenAPI 3)", nullptr, nullptr, 200, "OpenApiDocument", {}, true},
      {"POST", "/api/v1/auth/login", "auth", "Sign in: access token + single-use refresh token", nullptr, "LoginRequest", 200, "TokenPair", {400, 401, 422, 429, 503}},
      {"POST", "/api/v1/auth/refresh", "auth", "Rotate: a new pair for a refresh token (which is spent). Reusing a spent one revokes every session of its user", nullptr, "RefreshRequest", 200, "TokenPair", {400, 401, 503}},
      {"POST", "/api/v1/auth/logout", "auth", "Spend a refresh token", nullptr, "RefreshRequest", 200, nullptr, {400, 401, 503}},
      {"POST", "/api/v1/auth/logout-all", "auth", "Revoke every token and session of the caller", "", nullptr, 200, nullptr, {401, 403, 503}},
      {"GET", "/api/v1/auth/validate", "auth", "Check the caller's access token", "", nullptr, 200, "Validation", {401, 403, 503}},
      {"POST", "/api/v1/users", "users", "Create a user (must change the password at first sign-in)", "user.create", "UserCreate", 201, "User", {400, 401, 403, 409, 422, 503}},
      {"GET", "/api/v1/users", "users", "List users (self-scoped grant: only the caller)", "user.read", nullptr, 200, "UserList", {401, 403, 503}},
      {"PUT", "/api/v1/users/password", "users", "Reset a user's password (they must change it next; their tokens are revoked)", "user.password.reset", "PasswordReset", 200, nullptr, {400, 401, 403, 404, 409, 422, 503}},
      {"PUT", "/api/v1/users/permissions", "users", "Set a user's roles and/or status", "user.permission.update", "PermissionsUpdate", 200, "User", {400, 401, 403, 404, 409, 422, 503}},
      {"PUT", "/api/v1/users/self/password", "users", "Change the caller's password; returns a fresh token pair and revokes the others", "user.password.change", "PasswordChange", 200, "TokenPair", {400, 401, 422, 429, 503}},
      {"GET", "/api/v1/users/self", "users", "The caller", "", nullptr, 200, "User", {401, 403, 503}},
      {"POST", "/api/v1/roles", "roles", "Create a role", "role.create", "RoleCreate", 201, "Role", {400, 401, 403, 409, 422, 503}},
      {"GET", "/api/v1/roles", "roles", "List roles", "role.read", nullptr, 200, "RoleList", {401, 403, 503}},
      {"PUT", "/api/v1/roles", "roles", "Update a role (renaming needs it unassigned)", "role.update", "RoleUpdate", 200, "Role", {400, 401, 403, 404, 409, 422, 503}},
      {"DELETE", "/api/v1/roles", "roles", "Delete a role (refused while assigned to users); id in the body or ?id=", "role.delete", "RoleDelete", 200, nullptr, {400, 401, 403, 404, 409, 503}},
      {"GET", "/api/v1/permissions", "roles", "List permission keys", "permission.read", nullptr, 200, "PermissionList", {401, 403, 503}},
      {"POST", "/api/v1/strategies", "strategies", "Create a strategy; intents are made for matching pods (none is fine)", "schedule_strategy.create", "StrategyCreate", 201, "StrategyResult", {400, 401, 403, 422, 503}},
      {"PUT", "/api/v1/strategies", "strategies", "Update a strategy (absent fields keep their value); its intents are re-planned", "schedule_strategy.update", "StrategyUpdate", 200, "StrategyResult", {400, 401, 403, 404, 409, 422, 503}},
      {"GET", "/api/v1/strategies/self", "strategies", "The caller's strategies", "schedule_strategy.read", nullptr, 200, "StrategyList", {401, 403, 503}},
      {"DELETE", "/api/v1/strategies", "strategies", "Delete a strategy and its intents", "schedule_strategy.delete", "StrategyDelete", 200, nullptr, {400, 401, 403, 404, 503}},
      {"GET", "/api/v1/intents/self", "intents", "The caller's intents (optional ?strategyId= and ?nodeId=)", "schedule_intent.read", nullptr, 200, "IntentList", {401, 403, 503}},
      {"DELETE", "/api/v1/intents", "intents", "Delete intents, all or nothing", "schedule_intent.delete", "IntentDelete", 200, nullptr, {400, 401, 403, 404, 503}},
      {"GET", "/api/v1/nodes", "nodes", "Nodes known from the pod source", "pod_pid_mapping.read", nullptr, 200, "NodeList", {401, 403, 503}},
      {"POST", "/api/v1/strategies/preview", "strategies", "Dry run: the pods and nodes a strategy would match now (validated as create; nothing is stored)", "schedule_strategy.create", "StrategyCreate", 200, "StrategyPreview", {400, 401, 403, 422, 503}},
      {"GET", "/api/v1/pods/metrics", "nodes", "CPU time and runqueue wait of one policied pod (?podId=UID), asked of its node's agent (at most once a second) and kept as a short series. 404: pod unknown, unscheduled or without a policy on its node; 502: the agent is unreachable or answers badly; 503: no agent for the node, or its scheduler is off", "pod_pid_mapping.read", nullptr, 200, "PodMetrics", {400, 401, 403, 404, 502, 503}},
      {"GET", "/api/v1/users/self/permissions", "users", "The caller's effective permission keys (what the UI may offer)", "", nullptr, 200, "SelfPermissions", {401, 403, 503}},
      {"GET", "/", "ui", "The web UI (index.html)", nullptr, nullptr, 200, nullptr, {404}, true, "text/html"},
      {"GET", "/assets/*", "ui", "The web UI's hashed assets (cached as immutable)", nullptr, nullptr, 200, nullptr, {404}, true, "text/javascript"},
      {"GET", "/favicon.svg", "ui", "The web UI's icon", nullptr, nullptr, 200, nullptr, {404}, true, "image/svg+xml"},
      {"GET", "/login", "ui", "Web UI view (index.html)", nullptr, nullptr, 200, nullptr, {404}, true, "text/html"},
      {"GET", "/change-password", "ui", "Web UI view (index.html)", nullptr, nullptr, 200, nullptr, {404}, true, "text/html"},
      {"GET", "/strategies/*", "ui", "Web UI views (index.html)", nullptr, nullptr, 200, nullptr, {404}, true, "text/html"},
      {"GET", "/intents/*", "ui", "Web UI views (index.html)", nullptr, nullptr, 200, nullptr, {404}, true, "text/html"},
      {"GET", "/nodes/*", "ui", "Web UI views (index.html)", nullptr, nullptr, 200, nullptr, {404}, true, "text/html"},
      {"GET", "/pods/*", "ui", "Web UI views (index.html)", nullptr, nullptr, 200, nullptr, {404}, true, "text/html"},
      {"GET", "/admin/*", "ui", "Web UI views (index.html)", nullptr, nullptr, 200, nullptr, {404}, true, "text/html"},
  };
  return kOps;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

json openapi_document() {
  json paths = json::object();
  for (const auto& op : operations()) {
    json o = {{"summary", op.summary}, {"tags", {op.tag}}, {"operationId", std::string(op.method) + " " + op.path}};
    if (op.permission) {
      o["security"] = json::array({{{"bearerAuth", json::array()}}});
      o["x-permission"] = op.permission[0] ? op.permission : "(any signed-in user)";
    } else {
      o["security"] = json::array();
    }
    if (op.request) {
      o["requestBody"] = {{"required", true},
                          {"content", {{"application/json", {{"schema", ref(op.request)}}}}}};
    }
    o["responses"][std::to_string(op.status)] = response_for(op);
    for (int e : op.errors) {
      o["responses"][std::to_string(e)] = {
          {"description", reason(e)},
          {"content", {{"application/json", {{"schema", ref("Error")}}}}}};
      if (e == 429 || e == 503) {
        o["responses"][std::to_string(e)]["headers"]["Retry-After"] = {
            {"description", "seconds to wait before retrying"},
            {"schema", {{"type", "integer"}, {"minimum", 1}}}};
      }
      if (e == 401) {
        o["responses"]["401"]["headers"]["WWW-Authenticate"] = {
            {"description", "Bearer realm=\"gthulhu\""}, {"schema", {{"type", "string"}}}};
      }
    }
    if (std::string(op.path) == "/api/v1/intents/self") {
      for (const char* q : {"strategyId", "nodeId"}) {
        o["parameters"].push_back({{"name", q},
                                   {"in", "query"},
                                   {"required", false},
                                   {"schema", {{"type", "string"}}},
                                   {"description", std::string("only intents with this ") + q}});
      }
    }
    if (std::string(op.path) == "/api/v1/pods/metrics") {
      o["parameters"].push_back({{"name", "podId"},
                                 {"in", "query"},
                                 {"required", true},
                                 {"schema", {{"type", "string"}, {"minLength", 1}, {"maxLength", 128}}},
                                 {"description", "the pod's UID"}});
    }
    if (std::string(op.path) == "/api/v1/auth/refresh" || std::string(op.path) == "/api/v1/auth/logout") {
      o["parameters"].push_back({{"name", "gthulhu_refresh"},
                                 {"in", "cookie"},
                                 {"required", false},
                                 {"schema", {{"type", "string"}}},
                                 {"description", "the refresh token when the body has none (web UI)"}});
    }
    if (std::string(op.path) == "/api/v1/auth/login") {
      o["links"] = {{"UseAccessToken",
                     {{"operationId", "GET /api/v1/auth/validate"},
                      {"description", "send data.accessToken as 'Authorization: Bearer'"}}},
                    {"Refresh",
                     {{"operationId", "POST /api/v1/auth/refresh"},
                      {"requestBody", "$response.body#/data/refreshToken"}}}};
    }
    if (std::string(op.path) == "/api/v1/strategies" && std::string(op.method) == "POST") {
      o["links"] = {{"UpdateStrategy",
                     {{"operationId", "PUT /api/v1/strategies"},
                      {"description", "strategyId = data.strategy.id"}}}};
    }
    std::string method = op.method;
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    paths[openapi_path(op.path)][method] = o;
  }
  return {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "Gthulhu coordinator API"},
        {"version", GTHULHU_VERSION},
        {"description",
         "REST API of the Gthulhu coordinator. Successful responses are "
         "{\"success\":true,\"data\":...,\"timestamp\":...}, errors "
         "{\"success\":false,\"error\":\"...\"}. Authenticate with "
         "'Authorization: Bearer <accessToken>' from /api/v1/auth/login. "
         "x-permission names the permission key an operation needs."}}},
      {"servers", json::array({{{"url", "/"}}})},
      {"paths", paths},
      {"components",
       {{"schemas", schemas()},
        {"securitySchemes",
         {{"bearerAuth", {{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"}}}}}}},
  };
}

std::vector<std::pair<std::string, std::string>> documented_routes(const json& doc) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [path, item] : doc.at("paths").items()) {
    std::string pattern;
    for (const auto& seg : http::split_path(path)) {
      pattern += '/';
      if (seg.front() == '{' && seg.back() == '}') {
        pattern += ':';
        pattern.append(seg, 1, seg.size() - 2);
      } else {
        pattern += seg;
      }
    }
    if (pattern.empty() || (path.size() > 1 && path.back() == '/')) pattern.push_back('/');
    for (const auto& [method, op] : item.items()) {
      std::string m = method;
      std::transform(m.begin(), m.end(), m.begin(), ::toupper);
      out.emplace_back(m, pattern);
    }
  }
  return out;
}

std::string render_openapi_html(const json& doc) {
  std::string h;
  h += "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>";
  h += html_escape(doc["info"]["title"].get<std::string>());
  h += "</title><style>"
       "body{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em;color:#222}"
       "h2{border-bottom:1px solid #ccc;margin-top:2em}"
       ".op{border:1px solid #ddd;border-radius:6px;margin:1em 0;padding:.6em 1em}"
       ".m{display:inline-block;min-width:4.5em;font-weight:bold;font-family:monospace}"
       ".GET{color:#0a6}.POST{color:#06c}.PUT{color:#c70}.DELETE{color:#c22}"
       "code,pre{background:#f5f5f5;padding:.1em .3em;border-radius:3px}"
       "pre{padding:.6em;overflow:auto;font-size:.85em}"
       "table{border-collapse:collapse}td{padding:.1em .8em .1em 0;vertical-align:top}"
       "</style></head><body>";
  h += "<h1>" + html_escape(doc["info"]["title"].get<std::string>()) + " <small>" +
       html_escape(doc["info"]["version"].get<std::string>()) + "</small></h1>";
  h += "<p>" + html_escape(doc["info"]["description"].get<std::string>()) + "</p>";
  h += "<p>Machine-readable: <a href=\"doc.json\">doc.json</a> (OpenAPI 3).</p>";
  h += "<h2>Operations</h2>";
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      std::string m = method;
      std::transform(m.begin(), m.end(), m.begin(), ::toupper);
      h += "<div class=\"op\"><span class=\"m " + m + "\">" + m + "</span> <code>" +
           html_escape(path) + "</code><p>" + html_escape(op["summary"].get<std::string>()) + "</p>";
      h += "<table>";
      h += "<tr><td>Permission</td><td>" +
           html_escape(op.contains("x-permission") ? op["x-permission"].get<std::string>()
                                                   : std::string("none (no token)")) +
           "</td></tr>";
      if (op.contains("requestBody")) {
        const auto& r = op["requestBody"]["content"]["application/json"]["schema"]["$ref"];
        std::string name = r.get<std::string>().substr(r.get<std::string>().rfind('/') + 1);
        h += "<tr><td>Body</td><td><a href=\"#schema-" + name + "\">" + name + "</a></td></tr>";
      }
      std::string codes;
      for (const auto& [code, resp] : op["responses"].items()) {
        codes += (codes.empty() ? "" : ", ") + code;
      }
      h += "<tr><td>Statuses</td><td>" + codes + "</td></tr></table></div>";
    }
  }
  h += "<h2>Schemas</h2>";
  for (const auto& [name, schema] : doc["components"]["schemas"].items()) {
    h += "<h3 id=\"schema-" + name + "\">" + name + "</h3><pre>" + html_escape(schema.dump(2)) + "</pre>";
  }
  h += "</body></html>";
  return h;
}

void add_openapi_routes(http::Router& r) {
  auto doc = std::make_shared<const json>(openapi_document());
  auto html = std::make_shared<const std::string>(render_openapi_html(*doc));
  auto text = std::make_shared<const std::string>(doc->dump(2));
  r.get("/swagger/", [html](http::Request&) {
    http::Response resp;
    resp.content_type = "text/html; charset=utf-8";
    resp.body = *html;
    return resp;
  });
  r.get("/swagger/doc.json", [text](http::Request&) {
    http::Response resp;
    resp.body = *text;
    return resp;
  });
}

}  // namespace gthulhu::coordinator
