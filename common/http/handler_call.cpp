#include "common/http/handler_call.h"

#include <spdlog/spdlog.h>

#include "common/http/json_api.h"
#include "common/http/json_input.h"

namespace gthulhu::http {

HandlerOutcome call_handler(const Handler& handler, Request& req, const std::string& server_name) {
  try {
    return {handler(req), false};
  } catch (const InputError& e) {
    return {json_error(e.status, e.what()), false};
  } catch (const nlohmann::json::exception& e) {
    // A JSON accessor refused a value the client sent (wrong type, out of range) in a
    // handler that did not check it first: the client's fault, so 400, not 500. The
    // log keeps the detail so the missing check can be added with a field name.
    spdlog::warn("{}: {} {} [{}] unchecked JSON input: {}", server_name, req.method, req.path,
                 req.request_id, e.what());
    return {json_error(400, "invalid request: " + describe_json_exception(e)), true};
  } catch (const std::exception& e) {
    spdlog::error("{}: {} {} [{}] handler failed: {}", server_name, req.method, req.path,
                  req.request_id, e.what());
  } catch (...) {
    spdlog::error("{}: {} {} [{}] handler failed with a non-standard exception", server_name,
                  req.method, req.path, req.request_id);
  }
  return {json_error(500, "internal error (request id " + req.request_id + ")"), false};
}

}  // namespace gthulhu::http
