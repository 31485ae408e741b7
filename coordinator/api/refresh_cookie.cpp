#include "coordinator/api/refresh_cookie.h"

namespace gthulhu::coordinator {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

std::string attributes(const WebOptions& web, long long max_age) {
  std::string a = std::string("; Path=") + kRefreshCookiePath + "; Max-Age=" +
                  std::to_string(max_age) + "; HttpOnly; SameSite=Strict";
  if (web.secure_cookies) a += "; Secure";
  return a;
}

}  // namespace

std::optional<std::string> refresh_cookie_of(const http::Request& req) {
  // Cookie: a=b; gthulhu_refresh=<token>; c=d
  const std::string header = req.header("cookie");
  const std::string wanted = kRefreshCookieName;
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    const std::string pair = trim(header.substr(pos, end - pos));
    const auto eq = pair.find('=');
    if (eq != std::string::npos && trim(pair.substr(0, eq)) == wanted) {
      std::string value = trim(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      if (value.empty()) return std::nullopt;
      return value;
    }
    pos = end + 1;
  }
  return std::nullopt;
}

std::string refresh_cookie_header(const WebOptions& web, const std::string& token) {
  return std::string(kRefreshCookieName) + "=" + token +
         attributes(web, static_cast<long long>(web.refresh_cookie_max_age.count()));
}

std::string cleared_refresh_cookie_header(const WebOptions& web) {
  return std::string(kRefreshCookieName) + "=" + attributes(web, 0);
}

}  // namespace gthulhu::coordinator
