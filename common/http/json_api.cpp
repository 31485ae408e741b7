#include "common/http/json_api.h"

#include <chrono>
#include <ctime>

#include "common/http/json_input.h"

namespace gthulhu::http {

std::string rfc3339_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  // Every answer carries this second-resolution stamp: format it once per second per
  // thread (gmtime_r takes glibc's time zone lock, strftime is slow), not per request.
  thread_local std::time_t formatted_for = -1;
  thread_local char buf[32];
  if (t != formatted_for) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    formatted_for = t;
  }
  return buf;
}

std::string dump_for_response(const json& body) {
  // Replace, not throw: a string that is not valid UTF-8 (echoed input, a file name)
  // must not turn an answer into a 500.
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

Response json_ok(const json& data, int status) {
  json body = {{"success", true}};
  if (!data.is_null()) body["data"] = data;
  body["timestamp"] = rfc3339_now();
  return Response{status, dump_for_response(body), "application/json", {}};
}

Response json_error(int status, const std::string& message) {
  json body = {{"success", false}, {"error", message}};
  return Response{status, dump_for_response(body), "application/json", {}};
}

Response json_raw(const json& body, int status) {
  return Response{status, dump_for_response(body), "application/json", {}};
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
  // The last object key seen, so an error deep in a document names its field.
  std::string last_key;
  auto guard = [max_depth, &last_key](int depth, json::parse_event_t event, json& parsed) {
    if ((event == json::parse_event_t::object_start ||
         event == json::parse_event_t::array_start) &&
        depth >= max_depth) {
      throw DepthExceeded{};
    }
    if (event == json::parse_event_t::key && parsed.is_string()) {
      last_key = parsed.get_ref<const std::string&>().substr(0, 64);
    }
    return true;
  };
  auto where = [&last_key] {
    return last_key.empty() ? std::string() : " (in field \"" + last_key + "\")";
  };
  try {
    return json::parse(req.body, guard);
  } catch (const DepthExceeded&) {
    *error = json_error(400, "JSON nesting is deeper than " + std::to_string(max_depth) +
                                 " levels");
  } catch (const json::parse_error& e) {
    *error = json_error(400, "malformed JSON at byte " + std::to_string(e.byte) + ": " +
                                 describe_json_exception(e) + where());
  } catch (const json::exception& e) {
    // out_of_range.406: a number too large for a double ("1e400").
    *error = json_error(400, "malformed JSON: " + describe_json_exception(e) + where());
  }
  return std::nullopt;
}

}  // namespace gthulhu::http
