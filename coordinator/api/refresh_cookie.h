#pragma once
// The refresh token as a browser keeps it: an HttpOnly cookie that scripts cannot
// read, sent only to the auth endpoints that consume it (refresh, logout), only from
// this site (SameSite=Strict, which is also the CSRF defence), and only over TLS when
// the coordinator serves TLS (Secure).
//
//   Set-Cookie: gthulhu_refresh=<token>; Path=/api/v1/auth; Max-Age=<refresh ttl>;
//               HttpOnly; SameSite=Strict[; Secure]
//
// API clients that send the token in the JSON body never see the cookie.
#include <optional>
#include <string>

#include "common/http/request.h"
#include "coordinator/api/context.h"

namespace gthulhu::coordinator {

inline constexpr const char* kRefreshCookieName = "gthulhu_refresh";
inline constexpr const char* kRefreshCookiePath = "/api/v1/auth";

// The cookie's value from the request's Cookie header; nullopt when absent or empty.
std::optional<std::string> refresh_cookie_of(const http::Request& req);

// Set-Cookie header values: one that stores `token`, one that deletes the cookie.
std::string refresh_cookie_header(const WebOptions& web, const std::string& token);
std::string cleared_refresh_cookie_header(const WebOptions& web);

}  // namespace gthulhu::coordinator
