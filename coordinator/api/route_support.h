#pragma once
// Glue between handlers and the HTTP core: error mapping, authentication, lenient JSON
// field access. Handlers throw ApiError; `guarded` renders it as the seed envelope.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "common/http/json_api.h"
#include "common/http/request.h"
#include "coordinator/api/api_error.h"
#include "coordinator/api/context.h"

namespace gthulhu::coordinator {

using json = nlohmann::json;

// Runs `fn`; ApiError -> its status + message (+ Retry-After, + WWW-Authenticate on
// 401); any other exception -> 500 "Internal Server Error", logged with the request id.
http::Handler guarded(http::Handler fn);

// 503 "coordinator is starting ..." with Retry-After until ctx.ready is set (the store
// migrated and bootstrapped), so a client never sees a store error from a half-made schema.
http::Handler until_ready(ApiContext& ctx, http::Handler fn);

using AuthedHandler = std::function<http::Response(http::Request&, const Principal&)>;
// guarded + Authorizer::authorize(Authorization header, permission) first.
http::Handler authed(ApiContext& ctx, std::string permission, AuthedHandler fn);

// The request body as a JSON object; 400 "Invalid request body: <why>" otherwise.
json object_body(const http::Request& req);

// The first of `names` present (and not null) in `obj`, or nullptr. Lets input accept
// the upstream's spellings (camelCase, PascalCase, singular/plural) side by side.
const json* field(const json& obj, std::initializer_list<const char*> names);

// Typed readers over field(): absent -> nullopt; present with the wrong JSON type ->
// 400 "<first name> must be a <type>".
std::optional<std::string> opt_string(const json& obj, std::initializer_list<const char*> names);
std::optional<std::int64_t> opt_int(const json& obj, std::initializer_list<const char*> names);
std::optional<bool> opt_bool(const json& obj, std::initializer_list<const char*> names);
std::optional<std::vector<std::string>> opt_strings(const json& obj,
                                                    std::initializer_list<const char*> names);

// http::json_ok without copying `data` (the seed envelope, same bytes).
http::Response ok(json data = nullptr, int status = 200);

// The same envelope around `data_json`, an already serialised JSON value (a memoised
// rendering): the bytes ok(json::parse(data_json)) would give.
http::Response ok_serialized(const std::string& data_json, int status = 200);

// The client address used for rate limiting.
std::string client_ip(const http::Request& req);

// RFC 3339 UTC with milliseconds.
std::string rfc3339_millis(UnixMillis t);

}  // namespace gthulhu::coordinator
