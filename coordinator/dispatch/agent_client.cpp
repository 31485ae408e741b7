#include "coordinator/dispatch/agent_client.h"

#include <cctype>

namespace gthulhu::coordinator {

using nlohmann::json;

namespace {

// Renew this long before the agent's expiry, so a token never dies mid-request.
constexpr std::chrono::seconds kTokenRenewMargin{60};

AgentCallError transport_error(const http::ClientResult& r) {
  return {AgentCallError::Kind::kTransport, r.error, 0, 0};
}

std::string error_text(const http::ClientResult& r) {
  try {
    auto j = json::parse(r.response.body);
    if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"].get<std::string>();
  } catch (const json::exception&) {
  }
  return "HTTP " + std::to_string(r.response.status);
}

// For a query parameter: unreserved characters as they are, the rest %XX.
std::string query_escape(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

AgentClient::AgentClient(AgentEndpoint endpoint, const AgentTransport& transport,
                         const std::atomic<bool>* cancel)
    : endpoint_(std::move(endpoint)),
      transport_(transport),
      requests_(options(transport.request_timeout, cancel)),
      long_poll_(options(transport.results_wait + transport.request_timeout, cancel)),
      probe_(options(transport.request_timeout, cancel)) {}

http::ClientOptions AgentClient::options(std::chrono::milliseconds total,
                                         const std::atomic<bool>* cancel) const {
  http::ClientOptions o;
  o.cancel = cancel;
  o.connect_timeout = transport_.connect_timeout;
  o.total_timeout = total;
  o.ca_pem = transport_.ca_pem;
  o.client_cert_pem = transport_.client_cert_pem;
  o.client_key_pem = transport_.client_key_pem;
  o.connect_to = endpoint_.connect_address;
  o.user_agent = "gthulhu-coordinator/" GTHULHU_VERSION;
  return o;
}

std::optional<std::string> AgentClient::token(http::Client& client, AgentCallError* error) {
  {
    std::lock_guard lock(token_mu_);
    if (!token_.empty() && std::chrono::system_clock::now() + kTokenRenewMargin < token_expiry_) return token_;
  }
  // With a client certificate the agent needs no body; the secret is the fallback.
  json body = json::object();
  if (transport_.client_cert_pem.empty()) {
    body = {{"client_id", transport_.client_id}, {"secret", transport_.client_secret}};
  }
  auto r = client.post_json(endpoint_.url + "/api/v1/auth/token", body.dump());
  if (!r.ok) {
    *error = transport_error(r);
    return std::nullopt;
  }
  if (r.response.status != 200) {
    *error = {AgentCallError::Kind::kUnauthorized, "token refused: " + error_text(r), r.response.status, 0};
    return std::nullopt;
  }
  auto data = data_of(r, error);
  if (!data) return std::nullopt;
  auto t = data->find("token");
  auto exp = data->find("expired_at");
  if (t == data->end() || !t->is_string() || exp == data->end() || !exp->is_number_integer()) {
    *error = {AgentCallError::Kind::kBadAnswer, "token answer lacks token/expired_at", 200, 0};
    return std::nullopt;
  }
  std::lock_guard lock(token_mu_);
  token_ = t->get<std::string>();
  token_expiry_ = std::chrono::system_clock::time_point(std::chrono::seconds(exp->get<int64_t>()));
  return token_;
}

http::ClientResult AgentClient::authed(http::Client& client, const std::string& method,
                                       const std::string& path, const std::string& body,
                                       AgentCallError* error) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto t = token(client, error);
    if (!t) return {};
    std::vector<std::string> headers = {"Authorization: Bearer " + *t};
    if (!body.empty()) headers.emplace_back("Content-Type: application/json");
    auto r = client.request(method, endpoint_.url + path, body, headers);
    if (!r.ok) {
      *error = transport_error(r);
      return r;
    }
    if (r.response.status != 401) return r;
    // The agent restarted with a new ephemeral key, or the token expired early.
    std::lock_guard lock(token_mu_);
    token_.clear();
  }
  *error = {AgentCallError::Kind::kUnauthorized, "the agent refuses our token", 401, 0};
  return {};
}

std::optional<json> AgentClient::data_of(const http::ClientResult& r, AgentCallError* error) {
  try {
    auto j = json::parse(r.response.body);
    if (j.is_object() && j.contains("data")) return j["data"];
    *error = {AgentCallError::Kind::kBadAnswer, "answer has no data envelope", r.response.status, 0};
  } catch (const json::exception&) {
    *error = {AgentCallError::Kind::kBadAnswer, "answer is not JSON", r.response.status, 0};
  }
  return std::nullopt;
}

AgentCall<wire::ApplyResponse> AgentClient::post_intents(const std::string& body) {
  AgentCall<wire::ApplyResponse> out;
  auto r = authed(requests_, "POST", "/api/v1/intents", body, &out.error);
  if (!r.ok) return out;
  const long status = r.response.status;
  if (status == 409) {
    out.error = {AgentCallError::Kind::kConflict, error_text(r), status, 0};
    try {
      out.error.current_generation = json::parse(r.response.body).value("currentGeneration", uint64_t{0});
    } catch (const json::exception&) {
    }
    return out;
  }
  if (status != 200) {
    out.error = {AgentCallError::Kind::kRejected, error_text(r), status, 0};
    return out;
  }
  auto data = data_of(r, &out.error);
  if (!data) return out;
  std::string why;
  out.value = wire::apply_response_from_json(*data, &why);
  if (!out.value) out.error = {AgentCallError::Kind::kBadAnswer, why, status, 0};
  return out;
}

AgentCall<AgentIntentSet> AgentClient::get_intents() {
  AgentCall<AgentIntentSet> out;
  auto r = authed(requests_, "GET", "/api/v1/intents", {}, &out.error);
  if (!r.ok) return out;
  if (r.response.status != 200) {
    out.error = {AgentCallError::Kind::kRejected, error_text(r), r.response.status, 0};
    return out;
  }
  auto data = data_of(r, &out.error);
  if (!data) return out;
  AgentIntentSet set;
  if (!data->contains("generation") || !(*data)["generation"].is_number_unsigned()) {
    out.error = {AgentCallError::Kind::kBadAnswer, "generation missing", 200, 0};
    return out;
  }
  set.generation = (*data)["generation"].get<uint64_t>();
  for (const auto& raw : data->value("intents", json::array())) {
    auto parsed = wire::intent_from_json(raw);
    if (parsed.intent) set.intents.push_back(std::move(*parsed.intent));
  }
  out.value = std::move(set);
  return out;
}

AgentCall<wire::ResultsReport> AgentClient::wait_results(std::optional<uint64_t> after_version) {
  AgentCall<wire::ResultsReport> out;
  std::string path = "/api/v1/intents/results";
  if (after_version) {
    path += "?after=" + std::to_string(*after_version) +
            "&waitSeconds=" + std::to_string(transport_.results_wait.count());
  }
  auto r = authed(long_poll_, "GET", path, {}, &out.error);
  if (!r.ok) return out;
  if (r.response.status != 200) {
    out.error = {AgentCallError::Kind::kRejected, error_text(r), r.response.status, 0};
    return out;
  }
  auto data = data_of(r, &out.error);
  if (!data) return out;
  std::string why;
  out.value = wire::results_report_from_json(*data, &why);
  if (!out.value) out.error = {AgentCallError::Kind::kBadAnswer, why, 200, 0};
  return out;
}

AgentCall<AgentHealth> AgentClient::health() {
  AgentCall<AgentHealth> out;
  auto r = probe_.get(endpoint_.url + "/health");
  if (!r.ok) {
    out.error = transport_error(r);
    return out;
  }
  try {
    auto j = json::parse(r.response.body);
    AgentHealth h;
    h.status = j.value("status", "unknown");
    h.scheduler = j.value("scheduler", json::object());
    h.intent_generation = j.value("intentGeneration", uint64_t{0});
    if (h.scheduler.contains("reason") && h.scheduler["reason"].is_string()) {
      h.reason = h.scheduler["reason"].get<std::string>();
    }
    if (h.status == "unhealthy") {
      auto tracker = j.value("tracker", json::object());
      h.reason = tracker.value("reason", "the agent's tracker is not running");
    }
    out.value = std::move(h);
  } catch (const json::exception&) {
    out.error = {AgentCallError::Kind::kBadAnswer, "health answer is not JSON", r.response.status, 0};
  }
  return out;
}

AgentCall<json> AgentClient::pod_stats(const std::string& pod_uid) {
  AgentCall<json> out;
  auto r = authed(requests_, "GET", "/api/v1/pods/stats?podId=" + query_escape(pod_uid), {}, &out.error);
  if (!r.ok) return out;
  if (r.response.status != 200) {
    out.error = {AgentCallError::Kind::kRejected, error_text(r), r.response.status, 0};
    return out;
  }
  out.value = data_of(r, &out.error);
  return out;
}

}  // namespace gthulhu::coordinator
