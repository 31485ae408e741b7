#pragma once
// The coordinator's side of the wire to one agent: authentication (a token obtained
// with the coordinator's client certificate, or with the shared secret when the
// agents are configured that way), pushing intent requests, reading the agent's set,
// long-polling its results, and its /health. Every call has a connect and a total
// timeout; a 401 drops the cached token and retries once with a new one.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/http/client.h"
#include "common/wire/intent.h"
#include "common/wire/intent_result.h"
#include "coordinator/dispatch/agent_directory.h"

namespace gthulhu::coordinator {

struct AgentTransport {
  std::string ca_pem;           // CA of the agents' server certificates ("" = system store)
  std::string client_cert_pem;  // the coordinator's client certificate (mTLS)
  std::string client_key_pem;
  std::string client_id = "gthulhu-coordinator";
  std::string client_secret;    // used when no client certificate is configured
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds request_timeout{5000};
  std::chrono::seconds results_wait{20};  // long-poll wait the agent is asked for
};

// What a call ended with, in the coordinator's terms.
struct AgentCallError {
  enum class Kind { kTransport, kUnauthorized, kConflict, kRejected, kBadAnswer };
  Kind kind = Kind::kTransport;
  std::string message;
  long status = 0;
  uint64_t current_generation = 0;  // kConflict: the agent's generation
};

template <typename T>
struct AgentCall {
  std::optional<T> value;
  AgentCallError error;
  bool ok() const { return value.has_value(); }
};

struct AgentIntentSet {
  uint64_t generation = 0;
  std::vector<wire::Intent> intents;  // the valid ones; invalid entries are re-sent
};

struct AgentHealth {
  std::string status;  // healthy | degraded | unhealthy
  nlohmann::json scheduler;
  std::string reason;  // why degraded / unhealthy, from the scheduler or tracker
  uint64_t intent_generation = 0;
};

class AgentClient {
 public:
  // `cancel` (may be null) aborts calls in flight once true: stop() of a channel.
  AgentClient(AgentEndpoint endpoint, const AgentTransport& transport,
              const std::atomic<bool>* cancel = nullptr);

  const AgentEndpoint& endpoint() const { return endpoint_; }

  // `body`: an encoded intent request (common/wire/intent_request.h).
  AgentCall<wire::ApplyResponse> post_intents(const std::string& body);
  AgentCall<AgentIntentSet> get_intents();
  // Long poll: returns when the results version differs from `after_version`.
  AgentCall<wire::ResultsReport> wait_results(std::optional<uint64_t> after_version);
  AgentCall<AgentHealth> health();
  // GET /api/v1/pods/stats?podId=: one pod's scheduling counters (agent/pod_stats.h),
  // the `data` object as the agent sent it. A 404 is kRejected with status 404.
  AgentCall<nlohmann::json> pod_stats(const std::string& pod_uid);

 private:
  http::ClientOptions options(std::chrono::milliseconds total, const std::atomic<bool>* cancel) const;
  std::optional<std::string> token(http::Client& client, AgentCallError* error);
  // Sends with the bearer token; on 401 renews it once.
  http::ClientResult authed(http::Client& client, const std::string& method, const std::string& path,
                            const std::string& body, AgentCallError* error);
  static std::optional<nlohmann::json> data_of(const http::ClientResult& r, AgentCallError* error);

  AgentEndpoint endpoint_;
  AgentTransport transport_;
  http::Client requests_;   // pushes and reads
  http::Client long_poll_;  // results long poll, on its own connection
  http::Client probe_;      // /health, never queued behind a push

  std::mutex token_mu_;
  std::string token_;
  std::chrono::system_clock::time_point token_expiry_{};
};

}  // namespace gthulhu::coordinator
