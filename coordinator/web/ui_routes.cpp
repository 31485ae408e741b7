#include "coordinator/web/ui_routes.h"

namespace gthulhu::coordinator {

const std::vector<std::string>& ui_route_patterns() {
  static const std::vector<std::string> kPatterns = {
      "/",        "/assets/*",    "/favicon.svg", "/login",  "/change-password",
      "/strategies/*", "/intents/*", "/nodes/*",  "/pods/*", "/admin/*",
  };
  return kPatterns;
}

namespace {

http::Handler serve_with(std::shared_ptr<const StaticFiles> files) {
  return [files = std::move(files)](http::Request& req) { return files->serve(req.path); };
}

}  // namespace

void add_ui_routes(http::Router& r, std::shared_ptr<const StaticFiles> files) {
  for (const auto& pattern : ui_route_patterns()) r.get(pattern, serve_with(files));
}

}  // namespace gthulhu::coordinator
