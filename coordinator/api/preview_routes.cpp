// POST /api/v1/strategies/preview: which pods (and nodes) a strategy would match now.
// Plans against the current pod source exactly as create does (same parsing, same
// validation, same planner) and stores nothing.
#include <map>

#include "coordinator/api/json_shapes.h"
#include "coordinator/api/route_support.h"
#include "coordinator/api/routes.h"
#include "coordinator/domain/validation.h"
#include "coordinator/planner/planner.h"
#include "coordinator/rbac/permissions.h"

namespace gthulhu::coordinator {

namespace {

json preview_json(const std::vector<Intent>& intents) {
  json pods = json::array();
  std::map<std::string, int> per_node;
  for (const auto& i : intents) {
    json pod(json::value_t::object);
    pod["podId"] = i.pod_id;
    pod["podName"] = i.pod_name;
    pod["namespace"] = i.k8s_namespace;
    pod["nodeName"] = i.node_id;
    pod["labels"] = i.pod_labels;
    pods.push_back(std::move(pod));
    ++per_node[i.node_id];
  }
  json nodes = json::array();
  for (const auto& [name, count] : per_node) nodes.push_back({{"name", name}, {"podCount", count}});
  json out(json::value_t::object);
  out["podCount"] = intents.size();
  out["pods"] = std::move(pods);
  out["nodes"] = std::move(nodes);
  return out;
}

http::Response preview_strategy(ApiContext& ctx, const http::Request& req) {
  Strategy s;
  parse_strategy(object_body(req), s, /*partial=*/false);
  if (auto errors = validate_strategy(s); !errors.empty()) fail(422, join(errors));
  return ok(preview_json(plan_intents(s, ctx.pods.pods(), ctx.clock())));
}

}  // namespace

void add_preview_routes(http::Router& r, ApiContext& ctx) {
  r.post("/api/v1/strategies/preview",
         authed(ctx, perm::kStrategyCreate, [&ctx](http::Request& req, const Principal&) {
           return preview_strategy(ctx, req);
         }));
}

}  // namespace gthulhu::coordinator
