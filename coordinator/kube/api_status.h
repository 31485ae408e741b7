#pragma once
// Kubernetes reports failures as a Status object ({"kind":"Status","code":409,
// "reason":"Conflict","message":"..."}), both as an HTTP error body and inside a watch
// ERROR event. Reading it gives messages that say what the server said, and the
// reason / code that decide what to do (410 Gone -> relist, 409 Conflict -> retry).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace gthulhu::coordinator::kube {

struct ApiStatus {
  long code = 0;        // HTTP-like code: 404, 409, 410, 500...
  std::string reason;   // NotFound, Conflict, AlreadyExists, Expired, Gone, Forbidden...
  std::string message;  // human-readable, from the server
};

// nullopt when `value` is not a Status object.
std::optional<ApiStatus> parse_status(const nlohmann::json& value);

// "HTTP 403 (Forbidden): pods is forbidden: ..." from a status code and a response body
// that may or may not be a Status (or JSON at all).
std::string describe_failure(long http_status, const std::string& body);

// 410 Gone, or the reasons the API uses for "your resourceVersion is too old".
bool is_gone(const ApiStatus& status);

}  // namespace gthulhu::coordinator::kube
