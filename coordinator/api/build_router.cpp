#include "coordinator/api/route_support.h"
#include "coordinator/api/routes.h"
#include "coordinator/openapi/openapi.h"
#include "coordinator/web/ui_routes.h"

namespace gthulhu::coordinator {

http::Router build_router(ApiContext& ctx,
                          std::vector<std::shared_ptr<prometheus::Registry>> registries) {
  http::Router r;
  add_system_routes(r, ctx, std::move(registries));
  add_openapi_routes(r);
  add_ui_routes(r, std::make_shared<const StaticFiles>(ctx.web.ui_directory));
  // Everything below reads or writes the store: not before it is migrated and bootstrapped.
  r.wrap_next_routes([&ctx](http::Handler h) { return until_ready(ctx, std::move(h)); });
  add_auth_routes(r, ctx);
  add_user_routes(r, ctx);
  add_role_routes(r, ctx);
  add_strategy_routes(r, ctx);
  add_preview_routes(r, ctx);
  add_pod_metrics_routes(r, ctx);
  add_self_permission_routes(r, ctx);
  r.wrap_next_routes({});
  return r;
}

}  // namespace gthulhu::coordinator
