#pragma once
// What every API fuzz target checks about an answer: never a 500, always the JSON
// envelope (valid JSON, so valid UTF-8), and its count of answers that came from the
// JSON-accessor fallback (a missing field check, reported at exit).
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "common/http/handler_call.h"
#include "common/http/router.h"

namespace gthulhu::fuzz {

inline std::size_t& unchecked_json_answers() {
  static std::size_t n = 0;
  return n;
}

inline void report_at_exit() {
  static bool once = [] {
    std::atexit([] {
      std::fprintf(stderr, "fuzz: %zu answer(s) came from the unchecked-JSON fallback\n",
                   unchecked_json_answers());
    });
    return true;
  }();
  (void)once;
}

// Routes `req` like the server and aborts on an answer no client may ever get.
inline http::Response call_route(const http::Router& router, http::Request& req) {
  auto match = router.match(req.method, req.path);
  if (match.outcome != http::Router::Outcome::kMatched) std::abort();  // a target's own bug
  req.route = match.pattern;
  req.path_params = match.params;
  auto outcome = http::call_handler(*match.handler, req, "fuzz");
  if (outcome.unchecked_json) ++unchecked_json_answers();
  const auto& r = outcome.response;
  if (r.status >= 500 && r.status != 503) {
    std::fprintf(stderr, "fuzz: %s %s answered %d: %s\n", req.method.c_str(), req.path.c_str(),
                 r.status, r.body.c_str());
    std::abort();
  }
  if (r.content_type == "application/json" &&
      !nlohmann::json::accept(r.body)) {
    std::fprintf(stderr, "fuzz: %s %s answered invalid JSON\n", req.method.c_str(), req.path.c_str());
    std::abort();
  }
  return r;
}

}  // namespace gthulhu::fuzz
