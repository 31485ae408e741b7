#pragma once
// Runs a route handler the way the server answers for it, so the server and the fuzz
// targets (which call handlers without a socket) see the same responses:
//   InputError                  -> its status (400/422) with its message
//   a JSON accessor's exception -> 400 "invalid request: ..." (logged as a missing check)
//   any other exception         -> 500 "internal error (request id ...)" (logged)
#include <string>

#include "common/http/request.h"

namespace gthulhu::http {

struct HandlerOutcome {
  Response response;
  bool unchecked_json = false;  // answered by the JSON-accessor fallback
};

HandlerOutcome call_handler(const Handler& handler, Request& req, const std::string& server_name);

}  // namespace gthulhu::http
