#pragma once
// Method + path routing with `:name` path parameters and a trailing `*` wildcard.
// Matching is by segments; a literal segment beats a parameter at the same depth so
// `/users/self` and `/users/:id` can coexist regardless of registration order.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/http/request.h"

namespace gthulhu::http {

class Router {
 public:
  void add(std::string method, std::string pattern, Handler handler);
  void get(std::string p, Handler h) { add("GET", std::move(p), std::move(h)); }
  void post(std::string p, Handler h) { add("POST", std::move(p), std::move(h)); }
  void put(std::string p, Handler h) { add("PUT", std::move(p), std::move(h)); }
  void del(std::string p, Handler h) { add("DELETE", std::move(p), std::move(h)); }

  // Every route added after this call is registered as wrap(handler): one place for a
  // rule that covers a group of routes (for example "503 until the store is ready").
  // An empty function stops wrapping.
  using Wrapper = std::function<Handler(Handler)>;
  void wrap_next_routes(Wrapper wrap) { wrap_ = std::move(wrap); }

  enum class Outcome { kMatched, kNotFound, kMethodNotAllowed };
  struct Match {
    Outcome outcome = Outcome::kNotFound;
    const Handler* handler = nullptr;
    std::string pattern;
    std::map<std::string, std::string> params;
    std::vector<std::string> allowed_methods;  // for 405's Allow header
  };
  Match match(const std::string& method, const std::string& path) const;

  // Every registered (method, pattern), in registration order: used to check that the
  // OpenAPI document and the server agree.
  std::vector<std::pair<std::string, std::string>> routes() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  // Returns a specificity score (higher is more specific) or -1 when no match.
  static int match_segments(const Route& route, const std::vector<std::string>& path,
                            std::map<std::string, std::string>* params);
  std::vector<Route> routes_;
  Wrapper wrap_;
};

std::vector<std::string> split_path(const std::string& path);

}  // namespace gthulhu::http
