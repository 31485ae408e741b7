#pragma once
// A small Kubernetes API client on libcurl: JSON GET / POST / PUT with the configured
// credentials, and a watch stream. Failures carry the server's Status (reason, code,
// message) so callers can act on 404 / 409 / 410 and log what the server said.
// Thread-safe; requests of one KubeClient are serialized (one connection, reused), and
// each watch() opens its own connection, so one client per component is the rule.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/http/client.h"
#include "coordinator/kube/bearer_token.h"
#include "coordinator/kube/kube_config.h"

namespace gthulhu::coordinator::kube {

struct KubeClientOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{10000};  // one request (a LIST page, a Lease update)
  std::chrono::seconds token_refresh{60};           // re-read a token file this often
  // When set, raising it aborts requests and watches in progress (a component's stop()).
  const std::atomic<bool>* cancel = nullptr;
};

struct ApiResponse {
  bool ok = false;      // a 2xx response with a JSON body
  long status = 0;      // HTTP status; 0 when no response arrived
  nlohmann::json body;  // the parsed body (on errors: the Status object, if one came)
  std::string reason;   // Status.reason when the server sent one (NotFound, Conflict...)
  std::string error;    // !ok: what went wrong, for logs
  bool cancelled = false;
};

struct WatchOutcome {
  bool connected = false;  // a 200 response started streaming
  long status = 0;         // HTTP status; 0 when no response arrived
  std::string error;       // transport error, or the Status of a non-200 answer
  std::string reason;      // Status.reason of a non-200 answer
  bool idle_timeout = false;  // no byte for the idle timeout: a dead stream
  bool cancelled = false;
};

// Percent-encodes a query parameter value.
std::string query_escape(std::string_view value);

class KubeClient {
 public:
  KubeClient(KubeCredentials credentials, KubeClientOptions options);

  // `path` starts with "/" and may carry a query: "/api/v1/pods?limit=500". `timeout`
  // replaces the request timeout for this call (a caller with its own deadline).
  using Timeout = std::optional<std::chrono::milliseconds>;
  ApiResponse get(const std::string& path, Timeout timeout = std::nullopt);
  ApiResponse create(const std::string& path, const nlohmann::json& object,
                     Timeout timeout = std::nullopt);  // POST
  ApiResponse replace(const std::string& path, const nlohmann::json& object,
                      Timeout timeout = std::nullopt);  // PUT

  // GETs `path` (a ?watch=true URL) and hands every chunk of a 200 response to on_data
  // until the server ends the stream, on_data returns false, no byte arrives for
  // `idle_timeout` (0 = no limit), or the cancel flag rises.
  WatchOutcome watch(const std::string& path, std::chrono::seconds idle_timeout,
                     const std::function<bool(std::string_view)>& on_data);

  const KubeCredentials& credentials() const { return credentials_; }

 private:
  http::ClientOptions http_options() const;
  std::vector<std::string> headers(bool with_body);
  ApiResponse send(const std::string& method, const std::string& path, const std::string& body,
                   Timeout timeout);

  KubeCredentials credentials_;
  KubeClientOptions options_;
  BearerToken token_;
  std::unique_ptr<http::Client> requests_;
};

}  // namespace gthulhu::coordinator::kube
