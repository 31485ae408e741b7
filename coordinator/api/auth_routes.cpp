#include "coordinator/api/json_shapes.h"
#include "coordinator/api/route_support.h"
#include "coordinator/api/routes.h"

namespace gthulhu::coordinator {

namespace {

std::string required_refresh_token(const http::Request& req) {
  json body = object_body(req);
  auto token = opt_string(body, {"refreshToken", "refresh_token"});
  if (!token || token->empty()) fail(400, "refreshToken is required");
  if (token->size() > 512) fail(401, "invalid refresh token");
  return *token;
}

}  // namespace

void add_auth_routes(http::Router& r, ApiContext& ctx) {
  r.post("/api/v1/auth/login", guarded([&ctx](http::Request& req) {
           json body = object_body(req);
           auto username = opt_string(body, {"username"});
           auto password = opt_string(body, {"password"});
           if (!username || username->empty() || !password || password->empty()) {
             fail(422, "Username and password are required");
           }
           if (username->size() > 256 || password->size() > 1024) {
             fail(401, "invalid username or password");
           }
           return ok(token_json(ctx.auth.login(*username, *password, client_ip(req))));
         }));
  r.post("/api/v1/auth/refresh", guarded([&ctx](http::Request& req) {
           return ok(token_json(ctx.auth.refresh(required_refresh_token(req))));
         }));
  r.post("/api/v1/auth/logout", guarded([&ctx](http::Request& req) {
           ctx.auth.logout(required_refresh_token(req));
           return ok();
         }));
  r.post("/api/v1/auth/logout-all", authed(ctx, "", [&ctx](http::Request&, const Principal& p) {
           ctx.auth.logout_all(p.user.id);
           return ok();
         }));
  r.get("/api/v1/auth/validate", authed(ctx, "", [](http::Request&, const Principal& p) {
          return ok(
              {{"valid", true},
               {"uid", p.user.id},
               {"needChangePassword", p.user.status == UserStatus::kWaitChangePassword}});
        }));
}

}  // namespace gthulhu::coordinator
