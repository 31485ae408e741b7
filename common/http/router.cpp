#include "common/http/router.h"

#include <algorithm>
#include <stdexcept>

namespace gthulhu::http {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(std::count(path.begin(), path.end(), '/')) + 1);
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

void Router::add(std::string method, std::string pattern, Handler handler) {
  if (pattern.empty() || pattern[0] != '/') {
    throw std::invalid_argument("route pattern must start with '/': " + pattern);
  }
  if (wrap_) handler = wrap_(std::move(handler));
  Route r{std::move(method), pattern, split_path(pattern), std::move(handler)};
  for (size_t i = 0; i < r.segments.size(); ++i) {
    if (r.segments[i] == "*" && i + 1 != r.segments.size()) {
      throw std::invalid_argument("'*' must be the last segment: " + pattern);
    }
  }
  for (const auto& existing : routes_) {
    if (existing.method == r.method && existing.pattern == r.pattern) {
      throw std::invalid_argument("duplicate route " + r.method + " " + r.pattern);
    }
  }
  routes_.push_back(std::move(r));
}

int Router::match_segments(const Route& route, const std::vector<std::string>& path,
                           std::map<std::string, std::string>* params) {
  int score = 0;
  const auto& segs = route.segments;
  // Without a trailing '*' only a path of as many segments can match: most routes are
  // refused here, before any segment is compared.
  const bool wildcard = !segs.empty() && segs.back() == "*";
  if (!wildcard && segs.size() != path.size()) return -1;
  for (size_t i = 0; i < segs.size(); ++i) {
    if (segs[i] == "*") {
      if (params != nullptr) {
        std::string rest;
        for (size_t k = i; k < path.size(); ++k) rest += (k > i ? "/" : "") + path[k];
        (*params)["*"] = rest;
      }
      return score;  // a wildcard is the least specific way to match the remainder
    }
    if (i >= path.size()) return -1;
    if (segs[i][0] == ':') {
      if (params != nullptr) (*params)[segs[i].substr(1)] = path[i];
      score += 1;
    } else if (segs[i] == path[i]) {
      score += 2;
    } else {
      return -1;
    }
  }
  return segs.size() == path.size() ? score + 1 : -1;
}

Router::Match Router::match(const std::string& method, const std::string& path) const {
  const auto parts = split_path(path);
  Match best;
  int best_score = -1;
  const Route* best_route = nullptr;
  // Scores only (no parameter maps built for routes that lose), then the winner's
  // parameters: every request tries every route.
  for (const auto& route : routes_) {
    int score = match_segments(route, parts, nullptr);
    if (score < 0) continue;
    if (route.method != method && !(method == "HEAD" && route.method == "GET")) {
      best.allowed_methods.push_back(route.method);
      continue;
    }
    if (score > best_score) {
      best_score = score;
      best_route = &route;
    }
  }
  if (best_route != nullptr) {
    best.outcome = Outcome::kMatched;
    best.handler = &best_route->handler;
    best.pattern = best_route->pattern;
    match_segments(*best_route, parts, &best.params);
  } else if (!best.allowed_methods.empty()) {
    best.outcome = Outcome::kMethodNotAllowed;
  }
  return best;
}

std::vector<std::pair<std::string, std::string>> Router::routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : routes_) out.emplace_back(r.method, r.pattern);
  return out;
}

}  // namespace gthulhu::http
