#include "coordinator/api/routes.h"
#include "coordinator/openapi/openapi.h"

namespace gthulhu::coordinator {

http::Router build_router(ApiContext& ctx,
                          std::vector<std::shared_ptr<prometheus::Registry>> registries) {
  http::Router r;
  add_system_routes(r, ctx, std::move(registries));
  add_openapi_routes(r);
  add_auth_routes(r, ctx);
  add_user_routes(r, ctx);
  add_role_routes(r, ctx);
  add_strategy_routes(r, ctx);
  return r;
}

}  // namespace gthulhu::coordinator
