#include "coordinator/api/route_support.h"

#include <spdlog/spdlog.h>

#include "common/http/json_input.h"

#include <algorithm>
#include <ctime>

namespace gthulhu::coordinator {

http::Handler guarded(http::Handler fn) {
  return [fn = std::move(fn)](http::Request& req) -> http::Response {
    try {
      return fn(req);
    } catch (const ApiError& e) {
      auto resp = http::json_error(e.status, e.message);
      if (e.retry_after > 0) resp.with_header("Retry-After", std::to_string(e.retry_after));
      if (e.status == 401) resp.with_header("WWW-Authenticate", "Bearer realm=\"gthulhu\"");
      return resp;
    } catch (const http::InputError&) {
      throw;  // the server answers it with its own status (400/422)
    } catch (const nlohmann::json::exception&) {
      throw;  // a client's value a JSON accessor refused: the server answers 400
    } catch (const std::exception& e) {
      spdlog::error("request {} {} {} failed: {}", req.request_id, req.method, req.path, e.what());
      return http::json_error(500, "Internal Server Error");
    }
  };
}

http::Handler until_ready(ApiContext& ctx, http::Handler fn) {
  return [&ctx, fn = std::move(fn)](http::Request& req) {
    if (ctx.ready != nullptr && !ctx.ready->load()) {
      return http::json_error(503, "coordinator is starting (store migration and bootstrap not "
                                   "finished); retry later")
          .with_header("Retry-After", "1");
    }
    return fn(req);
  };
}

http::Handler authed(ApiContext& ctx, std::string permission, AuthedHandler fn) {
  return guarded([&ctx, permission = std::move(permission), fn = std::move(fn)](
                     http::Request& req) -> http::Response {
    Principal p = ctx.authorizer.authorize(req.header("authorization"), permission);
    req.attributes["uid"] = p.user->id;
    return fn(req, p);
  });
}

json object_body(const http::Request& req) {
  http::Response err;
  auto parsed = http::parse_json_body(req, &err);
  if (!parsed) {
    std::string msg = "Invalid request body";
    try {
      auto e = json::parse(err.body);
      if (e.contains("error") && e["error"].is_string()) msg = e["error"].get<std::string>();
    } catch (const std::exception&) {
    }
    fail(400, msg);
  }
  if (!parsed->is_object()) fail(400, "Invalid request body: expected a JSON object");
  return std::move(*parsed);
}

const json* field(const json& obj, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    auto it = obj.find(n);
    if (it != obj.end() && !it->is_null()) return &*it;
  }
  return nullptr;
}

std::optional<std::string> opt_string(const json& obj, std::initializer_list<const char*> names) {
  const json* v = field(obj, names);
  if (!v) return std::nullopt;
  if (!v->is_string()) fail(400, std::string(*names.begin()) + " must be a string");
  return v->get<std::string>();
}

std::optional<std::int64_t> opt_int(const json& obj, std::initializer_list<const char*> names) {
  const json* v = field(obj, names);
  if (!v) return std::nullopt;
  return http::as_int64(*v, *names.begin());
}

std::optional<bool> opt_bool(const json& obj, std::initializer_list<const char*> names) {
  const json* v = field(obj, names);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) fail(400, std::string(*names.begin()) + " must be a boolean");
  return v->get<bool>();
}

std::optional<std::vector<std::string>> opt_strings(const json& obj,
                                                    std::initializer_list<const char*> names) {
  const json* v = field(obj, names);
  if (!v) return std::nullopt;
  const std::string name = *names.begin();
  if (!v->is_array()) fail(400, name + " must be an array of strings");
  std::vector<std::string> out;
  for (const auto& e : *v) {
    if (!e.is_string()) fail(400, name + " must be an array of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

http::Response ok(json data, int status) {
  json body(json::value_t::object);
  body["success"] = true;
  if (!data.is_null()) body["data"] = std::move(data);
  body["timestamp"] = http::rfc3339_now();
  return http::Response{status, http::dump_for_response(body), "application/json", {}};
}

http::Response ok_serialized(const std::string& data_json, int status) {
  // nlohmann orders object keys: data, success, timestamp (as ok() writes them). The
  // timestamp is digits, '-', ':', 'T' and 'Z': quoting it is its JSON encoding.
  const std::string timestamp = http::rfc3339_now();
  std::string body;
  body.reserve(data_json.size() + timestamp.size() + 42);
  body.append("{\"data\":").append(data_json).append(",\"success\":true,\"timestamp\":\"");
  body.append(timestamp).append("\"}");
  return http::Response{status, std::move(body), "application/json", {}};
}

std::string client_ip(const http::Request& req) {
  // peer_address may carry a port ("1.2.3.4:5678" / "[::1]:5678"): keep the host only.
  const std::string& a = req.peer_address;
  if (!a.empty() && a.front() == '[') {
    auto close = a.find(']');
    return close == std::string::npos ? a : a.substr(1, close - 1);
  }
  if (std::count(a.begin(), a.end(), ':') == 1) return a.substr(0, a.find(':'));
  return a;
}

std::string rfc3339_millis(UnixMillis t) {
  const std::time_t secs = static_cast<std::time_t>(t / 1000);
  const int ms = static_cast<int>(((t % 1000) + 1000) % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

}  // namespace gthulhu::coordinator
