#include "coordinator/kube/kube_client.h"

#include "coordinator/kube/api_status.h"

#include <cctype>

namespace gthulhu::coordinator::kube {

std::string query_escape(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

KubeClient::KubeClient(KubeCredentials credentials, KubeClientOptions options)
    : credentials_(std::move(credentials)),
      options_(options),
      token_(credentials_.token, credentials_.token_file, options.token_refresh) {
  requests_ = std::make_unique<http::Client>(http_options());
}

http::ClientOptions KubeClient::http_options() const {
  http::ClientOptions o;
  o.connect_timeout = options_.connect_timeout;
  o.total_timeout = options_.request_timeout;
  o.ca_pem = credentials_.ca_pem;
  o.client_cert_pem = credentials_.client_cert_pem;
  o.client_key_pem = credentials_.client_key_pem;
  o.verify_peer = !credentials_.insecure_skip_tls_verify;
  o.cancel = options_.cancel;
  // A full pod LIST page can be large; a single object never comes near this.
  o.max_response_bytes = 256u << 20;
  return o;
}

std::vector<std::string> KubeClient::headers(bool with_body) {
  std::vector<std::string> h{"Accept: application/json"};
  if (with_body) h.emplace_back("Content-Type: application/json");
  if (const std::string t = token_.current(); !t.empty()) h.push_back("Authorization: Bearer " + t);
  return h;
}

ApiResponse KubeClient::get(const std::string& path, Timeout timeout) {
  return send("GET", path, {}, timeout);
}

ApiResponse KubeClient::create(const std::string& path, const nlohmann::json& object, Timeout timeout) {
  return send("POST", path, object.dump(), timeout);
}

ApiResponse KubeClient::replace(const std::string& path, const nlohmann::json& object, Timeout timeout) {
  return send("PUT", path, object.dump(), timeout);
}

ApiResponse KubeClient::send(const std::string& method, const std::string& path,
                             const std::string& body, Timeout timeout) {
  ApiResponse out;
  auto r = requests_->request(method, credentials_.server + path, body, headers(!body.empty()),
                              timeout.value_or(options_.request_timeout));
  if (!r.ok) {
    out.cancelled = r.cancelled;
    out.error = method + " " + path + ": " + r.error;
    return out;
  }
  out.status = r.response.status;
  out.body = nlohmann::json::parse(r.response.body, nullptr, false);
  if (out.status >= 200 && out.status < 300) {
    if (out.body.is_discarded()) {
      out.error = method + " " + path + ": the response is not JSON";
      return out;
    }
    out.ok = true;
    return out;
  }
  if (auto s = parse_status(out.body)) out.reason = s->reason;
  out.error = method + " " + path + ": " + describe_failure(out.status, r.response.body);
  return out;
}

WatchOutcome KubeClient::watch(const std::string& path, std::chrono::seconds idle_timeout,
                               const std::function<bool(std::string_view)>& on_data) {
  http::ClientOptions o = http_options();
  o.total_timeout = std::chrono::milliseconds(0);  // the server ends it (timeoutSeconds)
  o.low_speed_timeout = idle_timeout;
  http::Client stream_client(o);

  WatchOutcome out;
  std::string error_body;  // a non-200 answer is a Status, not events
  auto on_chunk = [&](long status, std::string_view data) {
    if (status == 200) {
      out.connected = true;
      return on_data(data);
    }
    if (error_body.size() < 65536) error_body.append(data);
    return true;
  };
  auto r = stream_client.stream_with_status(credentials_.server + path, headers(false), on_chunk);
  out.status = r.response.status;
  out.cancelled = r.cancelled;
  if (!r.ok) {
    out.idle_timeout = r.timed_out;
    out.error = r.timed_out ? "no data for " + std::to_string(idle_timeout.count()) + " s" : r.error;
    return out;
  }
  if (out.status != 200) {
    if (auto s = parse_status(nlohmann::json::parse(error_body, nullptr, false))) out.reason = s->reason;
    out.error = describe_failure(out.status, error_body);
  }
  return out;
}

}  // namespace gthulhu::coordinator::kube
