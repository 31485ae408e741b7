// /api/v1/auth/*. The refresh token travels either in the JSON body (API clients, as
// upstream) or, for the web UI, in an HttpOnly cookie (api/refresh_cookie.h):
//   login   {"username","password","refreshTokenCookie":true} -> the refresh token is
//           set as the cookie and left out of the body
//   refresh a body without refreshToken -> the cookie's token is used; the rotated one
//           is set as the cookie and left out of the body
//   logout  likewise; the cookie is deleted
// A failed refresh or logout through the cookie deletes the cookie too.
#include "coordinator/api/json_shapes.h"
#include "coordinator/api/refresh_cookie.h"
#include "coordinator/api/route_support.h"
#include "coordinator/api/routes.h"

namespace gthulhu::coordinator {

namespace {

constexpr const char* kTransportAttribute = "refresh_transport";

bool has_body(const http::Request& req) {
  return req.body.find_first_not_of(" \t\r\n") != std::string::npos;
}

bool used_cookie(const http::Request& req) {
  auto it = req.attributes.find(kTransportAttribute);
  return it != req.attributes.end() && it->second == "cookie";
}

// The refresh token from the body, else from the cookie (noted in the request's
// attributes, so the answer can set or delete the cookie).
std::string presented_refresh_token(http::Request& req) {
  std::optional<std::string> token;
  if (has_body(req)) token = opt_string(object_body(req), {"refreshToken", "refresh_token"});
  if (!token || token->empty()) {
    token = refresh_cookie_of(req);
    if (token) req.attributes[kTransportAttribute] = "cookie";
  }
  // No credential at all is an authentication failure, like a request without a bearer
  // token (and what the OpenAPI document says: 401).
  if (!token || token->empty())
    fail(401, "refreshToken is required (in the body, or the gthulhu_refresh cookie)");
  if (token->size() > 512) fail(401, "invalid refresh token");
  return *token;
}

// The token pair as JSON; in cookie mode the refresh token goes to the cookie only.
http::Response token_response(ApiContext& ctx, const TokenPair& pair, bool cookie) {
  json body = token_json(pair);
  if (!cookie) return ok(std::move(body));
  body.erase("refreshToken");
  auto resp = ok(std::move(body));
  resp.with_header("Set-Cookie", refresh_cookie_header(ctx.web, pair.refresh_token));
  return resp;
}

// guarded(fn), and a failure of a cookie-borne request deletes the cookie.
http::Handler clearing_cookie_on_failure(ApiContext& ctx, http::Handler fn) {
  return [&ctx, inner = guarded(std::move(fn))](http::Request& req) {
    auto resp = inner(req);
    if (resp.status >= 400 && used_cookie(req)) {
      resp.with_header("Set-Cookie", cleared_refresh_cookie_header(ctx.web));
    }
    return resp;
  };
}

http::Response login(ApiContext& ctx, http::Request& req) {
  json body = object_body(req);
  auto username = opt_string(body, {"username"});
  auto password = opt_string(body, {"password"});
  const bool cookie = opt_bool(body, {"refreshTokenCookie"}).value_or(false);
  if (!username || username->empty() || !password || password->empty()) {
    fail(422, "Username and password are required");
  }
  if (username->size() > 256 || password->size() > 1024) {
    fail(401, "invalid username or password");
  }
  return token_response(ctx, ctx.auth.login(*username, *password, client_ip(req)), cookie);
}

http::Response refresh(ApiContext& ctx, http::Request& req) {
  const std::string token = presented_refresh_token(req);
  return token_response(ctx, ctx.auth.refresh(token), used_cookie(req));
}

http::Response logout(ApiContext& ctx, http::Request& req) {
  ctx.auth.logout(presented_refresh_token(req));
  auto resp = ok();
  if (used_cookie(req)) resp.with_header("Set-Cookie", cleared_refresh_cookie_header(ctx.web));
  return resp;
}

http::Response logout_all(ApiContext& ctx, const http::Request& req, const Principal& p) {
  ctx.auth.logout_all(p.user->id);
  auto resp = ok();
  if (refresh_cookie_of(req)) resp.with_header("Set-Cookie", cleared_refresh_cookie_header(ctx.web));
  return resp;
}

http::Response validate(const Principal& p) {
  return ok({{"valid", true},
             {"uid", p.user->id},
             {"needChangePassword", p.user->status == UserStatus::kWaitChangePassword}});
}

}  // namespace

void add_auth_routes(http::Router& r, ApiContext& ctx) {
  r.post("/api/v1/auth/login", guarded([&ctx](http::Request& req) { return login(ctx, req); }));
  r.post("/api/v1/auth/refresh",
         clearing_cookie_on_failure(ctx, [&ctx](http::Request& req) { return refresh(ctx, req); }));
  r.post("/api/v1/auth/logout",
         clearing_cookie_on_failure(ctx, [&ctx](http::Request& req) { return logout(ctx, req); }));
  r.post("/api/v1/auth/logout-all", authed(ctx, "", [&ctx](http::Request& req, const Principal& p) {
           return logout_all(ctx, req, p);
         }));
  r.get("/api/v1/auth/validate",
        authed(ctx, "", [](http::Request&, const Principal& p) { return validate(p); }));
}

}  // namespace gthulhu::coordinator
