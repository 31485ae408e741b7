#include "common/http/json_api.h"

#include <chrono>
#include <ctime>

namespace gthulhu::http {

std::string rfc3339_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Response json_ok(const json& data, int status) {
  json body = {{"success", true}};
  if (!data.is_null()) body["data"] = data;
  body["timestamp"] = rfc3339_now();
  return Response{status, body.dump(), "application/json", {}};
}

Response json_error(int status, const std::string& message) {
  json body = {{"success", false}, {"error", message}};
  return Response{status, body.dump(), "application/json", {}};
}

Response json_raw(const json& body, int status) {
  return Response{status, body.dump(), "application/json", {}};
}

namespace {
struct DepthExceeded {};
}  // namespace

std::optional<json> parse_json_body(const Request& req, Response* error,
                                    const JsonLimits& limits) {
  if (req.body.empty()) {
    *error = json_error(400, "request body is empty: a JSON document is required");
    return std::nullopt;
  }
  // The callback sees the nesting depth while parsing, so an attacker's
  // [[[[...]]]] is refused before it is built (nlohmann recurses on destruction too).
  const int max_depth = limits.max_depth;
  auto guard = [max_depth](int depth, json::parse_event_t event, json&) {
    if ((event == json::parse_event_t::object_start ||
         event == json::parse_event_t::array_start) &&
        depth >= max_depth) {
      throw DepthExceeded{};
    }
    return true;
  };
  try {
    return json::parse(req.body, guard);
  } catch (const DepthExceeded&) {
    *error = json_error(400, "JSON nesting is deeper than " + std::to_string(max_depth) +
                                 " levels");
  } catch (const json::parse_error& e) {
    *error = json_error(400, "malformed JSON at byte " + std::to_string(e.byte) +
                                 ": " + e.what());
  }
  return std::nullopt;
}

}  // namespace gthulhu::http
