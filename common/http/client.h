#pragma once
// HTTP(S) client on libcurl for coordinator -> agent and coordinator -> Kubernetes.
// Every request has a connect and a total timeout; TLS trusts only the configured CA
// when one is given (pinning), and presents a client certificate for mTLS.
// One Client reuses its connection (keep-alive); it is safe to share between threads
// (requests are serialized), but use one Client per peer for parallelism.
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace gthulhu::http {

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds total_timeout{10000};  // 0 = none (long-lived watch streams)
  // Abort when no byte arrives for this long (useful with total_timeout 0). 0 = off.
  std::chrono::seconds low_speed_timeout{0};
  std::string ca_pem;           // non-empty: trust only this CA (else the system store)
  std::string client_cert_pem;  // mTLS client certificate
  std::string client_key_pem;
  bool verify_peer = true;      // never turn off outside tests
  // Connect somewhere else than the URL's host while TLS still verifies that host's
  // name (a pod IP for an agent whose certificate names its node): "" = off, else
  // "IP" or "IP:PORT" (curl's CURLOPT_CONNECT_TO with the URL's host and port).
  std::string connect_to;
  // Source address to bind before connecting ("" = the kernel's choice), e.g. another
  // 127.x.y.z loopback address so tests can act as several clients.
  std::string local_address;
  size_t max_response_bytes = 16 << 20;
  // When set, a transfer in progress aborts soon after *cancel becomes true (curl's
  // progress callback runs at least about once a second even on an idle stream), so
  // stop() of a long-lived watch does not wait for the server. The flag must outlive
  // the Client. Reported as !ok with `cancelled` set.
  const std::atomic<bool>* cancel = nullptr;
  std::string user_agent = "gthulhu/" GTHULHU_VERSION;
};

struct ClientResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-cased names
};

struct ClientResult {
  bool ok = false;      // a response arrived (any status)
  std::string error;    // transport error when !ok: timeout, refused, TLS...
  bool timed_out = false;
  bool cancelled = false;  // ClientOptions::cancel was raised
  ClientResponse response;
};

class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  ClientResult request(const std::string& method, const std::string& url,
                       const std::string& body = {},
                       const std::vector<std::string>& headers = {});
  // The same with another total timeout than ClientOptions::total_timeout for this one
  // request (a caller with a deadline of its own, e.g. a lease renewal).
  ClientResult request(const std::string& method, const std::string& url, const std::string& body,
                       const std::vector<std::string>& headers,
                       std::chrono::milliseconds total_timeout);
  ClientResult get(const std::string& url, const std::vector<std::string>& headers = {}) {
    return request("GET", url, {}, headers);
  }
  ClientResult post_json(const std::string& url, const std::string& json,
                         std::vector<std::string> headers = {});

  // Streams the response body to on_data as it arrives (Kubernetes watch). Returning
  // false from on_data ends the transfer early (reported ok with the status seen).
  ClientResult stream(const std::string& url, const std::vector<std::string>& headers,
                      const std::function<bool(std::string_view)>& on_data);
  // The same with the response's HTTP status (known once the headers are in), so an
  // error body (a JSON Status) can be told apart from a stream of events.
  using StatusDataCallback = std::function<bool(long status, std::string_view data)>;
  ClientResult stream_with_status(const std::string& url, const std::vector<std::string>& headers,
                                  const StatusDataCallback& on_data);

 private:
  ClientResult perform(const std::string& method, const std::string& url, const std::string& body,
                       const std::vector<std::string>& headers,
                       const std::function<bool(std::string_view)>* on_data,
                       const StatusDataCallback* on_status_data,
                       std::chrono::milliseconds total_timeout);
  ClientOptions options_;
  std::mutex mu_;
  void* curl_ = nullptr;  // CURL*, kept for connection reuse
};

}  // namespace gthulhu::http
