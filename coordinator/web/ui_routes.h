#pragma once
// The web UI's routes: "/", its files, and the SPA's own paths (each falls back to
// index.html, so a reload or a bookmark of any view works). Only these prefixes are
// routed here; /api, /health, /version, /metrics and /swagger are never touched.
// The list must name every top-level path of ui/src/routes.ts.
#include <memory>
#include <string>
#include <vector>

#include "common/http/router.h"
#include "coordinator/web/static_files.h"

namespace gthulhu::coordinator {

// Router patterns of the UI, in registration order.
const std::vector<std::string>& ui_route_patterns();

void add_ui_routes(http::Router& r, std::shared_ptr<const StaticFiles> files);

}  // namespace gthulhu::coordinator
