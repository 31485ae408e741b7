#pragma once
// HTTP/HTTPS server on libmicrohttpd with the limits every service here needs:
// body size, JSON-friendly errors, connection timeout, total and per-IP connection
// limits, optional mTLS with real peer verification, a request id and one access-log
// line per request, per-route Prometheus metrics, and graceful shutdown.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/http/router.h"

struct MHD_Daemon;
namespace prometheus { class Registry; }

namespace gthulhu::http {

struct TlsOptions {
  std::string cert_pem;       // server certificate chain
  std::string key_pem;        // server private key
  std::string client_ca_pem;  // non-empty: mTLS, every request needs a cert from this CA
};

// Every limit is answered in the JSON envelope while the server can still write one:
// 413 body, 414 URL, 431 headers, 503 + Retry-After for a connection over a connection
// limit (on its first request). Past 16 KiB over the head limits / twice the counts,
// libmicrohttpd's own limits act instead (its HTML 414/431 page, or a close).
struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // "host:port", ":port" (all IPv4), "[::1]:port"
  std::string name = "http";              // for logs and metric labels
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 64 << 10;     // request line + headers
  size_t max_url_bytes = 8 << 10;         // the request target, query included
  std::chrono::seconds connection_timeout{30};  // idle time before a connection is closed
  // A request's line and headers must arrive within this time of the connection's
  // opening or of its previous response (bounds clients that trickle bytes; idle
  // keep-alive connections are closed after it too)...
  std::chrono::milliseconds request_head_timeout{10000};
  // ...and its body within this time of the end of its head.
  std::chrono::milliseconds request_body_timeout{30000};
  unsigned max_connections = 512;
  unsigned max_connections_per_ip = 64;
  unsigned threads = 2;
  // For servers whose handlers may block (a long poll): every connection gets its own
  // thread, bounded by max_connections, and `threads` is unused. In a pool a connection
  // stays on the thread that accepted it, so one waiting request would hold up every
  // keep-alive connection that shares its thread.
  bool thread_per_connection = false;
  std::chrono::milliseconds shutdown_grace{5000};
  std::optional<TlsOptions> tls;
  bool access_log = true;
  std::shared_ptr<prometheus::Registry> metrics;  // adds http_requests_total etc. when set
};

// Parses a listen spec; throws std::invalid_argument with a message naming the spec.
struct ListenAddress {
  std::string host;  // empty = any IPv4 address
  uint16_t port = 0;
  bool ipv6 = false;
};
ListenAddress parse_listen(const std::string& spec);

class Server {
 public:
  Server(ServerOptions options, Router router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving; throws std::runtime_error if the address cannot be bound.
  void start();
  // Stops accepting, lets in-flight requests finish within shutdown_grace, then closes.
  void stop();
  uint16_t port() const { return port_; }
  bool running() const { return daemon_ != nullptr; }
  const ServerOptions& options() const { return options_; }

  struct Impl;  // libmicrohttpd callbacks live in server.cpp

 private:
  ServerOptions options_;
  Router router_;
  std::unique_ptr<Impl> impl_;
  MHD_Daemon* daemon_ = nullptr;
  uint16_t port_ = 0;
};

}  // namespace gthulhu::http
