#pragma once
// The seed's JSON envelope and safe request-body parsing.
//   success: {"success":true,"data":...,"timestamp":"RFC3339 UTC"}  ("data" omitted when null)
//   error:   {"success":false,"error":"message"}
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/http/request.h"

namespace gthulhu::http {

using json = nlohmann::json;

std::string rfc3339_now();

// body.dump() that never throws: invalid UTF-8 in a string becomes U+FFFD.
std::string dump_for_response(const json& body);

Response json_ok(const json& data = nullptr, int status = 200);
Response json_error(int status, const std::string& message);
// A raw JSON document with no envelope (health, version, upstream-compatible shapes).
Response json_raw(const json& body, int status = 200);

struct JsonLimits {
  int max_depth = 32;
};

// Parses the body as a JSON document. On failure fills *error with a 400 response
// whose message says what is wrong (empty body, syntax error with byte offset, nesting
// deeper than the limit) and returns nullopt.
std::optional<json> parse_json_body(const Request& req, Response* error,
                                    const JsonLimits& limits = {});

}  // namespace gthulhu::http
