// GET /api/v1/pods/metrics?podId=UID: CPU time and runqueue wait of one pod, from the
// PodMetricsProvider in ApiContext (the agents, through the control loop).
#include "coordinator/api/route_support.h"
#include "coordinator/api/routes.h"
#include "coordinator/rbac/permissions.h"

namespace gthulhu::coordinator {

namespace {

http::Response get_pod_metrics(ApiContext& ctx, const http::Request& req) {
  const auto pod = req.query_param("podId");
  if (!pod || pod->empty()) fail(400, "podId is required");
  if (pod->size() > 128) fail(404, "no metrics for this pod");
  if (ctx.pod_metrics == nullptr) fail(503, "pod metrics unavailable", 30);
  auto metrics = ctx.pod_metrics->pod_metrics(*pod);
  if (!metrics) fail(404, "no metrics for pod " + *pod);
  return ok(std::move(*metrics));
}

}  // namespace

void add_pod_metrics_routes(http::Router& r, ApiContext& ctx) {
  r.get("/api/v1/pods/metrics",
        authed(ctx, perm::kPodPidMappingRead, [&ctx](http::Request& req, const Principal&) {
          return get_pod_metrics(ctx, req);
        }));
}

}  // namespace gthulhu::coordinator
