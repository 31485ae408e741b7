// GET /api/v1/users/self/permissions: the caller's effective permission keys.
#include "coordinator/api/route_support.h"
#include "coordinator/api/routes.h"
#include "coordinator/rbac/effective_permissions.h"

namespace gthulhu::coordinator {

namespace {

http::Response get_self_permissions(ApiContext& ctx, const Principal& p) {
  const auto roles = unwrap(ctx.store.get_roles_by_names(p.user->roles));
  json list = json::array();
  for (const auto& [key, self] : effective_permissions(roles)) {
    list.push_back({{"key", key}, {"self", self}});
  }
  return ok({{"userId", p.user->id}, {"username", p.user->username}, {"permissions", list}});
}

}  // namespace

void add_self_permission_routes(http::Router& r, ApiContext& ctx) {
  r.get("/api/v1/users/self/permissions",
        authed(ctx, "", [&ctx](http::Request&, const Principal& p) {
          return get_self_permissions(ctx, p);
        }));
}

}  // namespace gthulhu::coordinator
