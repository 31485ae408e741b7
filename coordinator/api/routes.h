#pragma once
// The coordinator's routes, one function per resource. app.cpp calls them all;
// openapi/ documents the same set (a test keeps the two equal).
#include <memory>
#include <vector>

#include "common/http/router.h"
#include "coordinator/api/context.h"

namespace prometheus { class Registry; }

namespace gthulhu::coordinator {

// GET /health, GET /version, GET /metrics
void add_system_routes(http::Router& r, ApiContext& ctx,
                       std::vector<std::shared_ptr<prometheus::Registry>> registries);
// /api/v1/auth/{login,refresh,logout,logout-all,validate}
void add_auth_routes(http::Router& r, ApiContext& ctx);
// /api/v1/users, /api/v1/users/password, /api/v1/users/permissions, /api/v1/users/self[/password]
void add_user_routes(http::Router& r, ApiContext& ctx);
// /api/v1/roles, /api/v1/permissions
void add_role_routes(http::Router& r, ApiContext& ctx);
// /api/v1/strategies[/self], /api/v1/intents[/self], /api/v1/nodes
void add_strategy_routes(http::Router& r, ApiContext& ctx);
// POST /api/v1/strategies/preview (a dry run: plans, stores nothing)
void add_preview_routes(http::Router& r, ApiContext& ctx);
// GET /api/v1/pods/metrics?podId= (ApiContext::pod_metrics)
void add_pod_metrics_routes(http::Router& r, ApiContext& ctx);
// GET /api/v1/users/self/permissions
void add_self_permission_routes(http::Router& r, ApiContext& ctx);

// Every route above, the web UI (web/ui_routes.h) plus the OpenAPI routes (/swagger/...).
http::Router build_router(ApiContext& ctx,
                          std::vector<std::shared_ptr<prometheus::Registry>> registries);

}  // namespace gthulhu::coordinator
