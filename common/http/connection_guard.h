#pragma once
// Per-connection deadlines and soft connection limits for the HTTP server.
//
// libmicrohttpd only closes a connection that is fully idle, so a client that trickles
// one byte every few seconds would hold a slot for ever. The guard gives every request
// a deadline for its head (request line and headers: from the connection's opening or
// its previous response) and, separately, for its body (from the end of the head); a
// watchdog thread shuts down the socket of a connection that misses one, and
// libmicrohttpd then closes it as if the peer had gone.
//
// It also counts connections per client address and in total against soft limits.
// A connection over one is kept just long enough to answer its first request with
// 503 + Retry-After in the JSON envelope (the server asks over_limit()); libmicrohttpd's
// own, higher limits close anything beyond at once, with no answer.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace gthulhu::http {

struct ConnectionGuardOptions {
  std::string name = "http";  // for logs
  std::chrono::milliseconds head_timeout{10000};
  std::chrono::milliseconds body_timeout{30000};
  // How long a connection over a soft limit may take to send the request it is
  // answered 503 on.
  std::chrono::milliseconds refused_head_timeout{2000};
  unsigned max_connections = 512;
  unsigned max_connections_per_ip = 64;
  std::chrono::milliseconds tick{100};  // watchdog resolution
};

class ConnectionGuard {
 public:
  struct Connection;  // one per TCP connection, owned by the guard

  explicit ConnectionGuard(ConnectionGuardOptions options);
  ~ConnectionGuard();
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;

  // A new connection (socket `fd`, client `address`); the head deadline starts now.
  Connection* open(int fd, const std::string& address);
  // The connection is gone (before its socket is closed): forget it.
  void close(Connection* c);
  // Whether the connection was over a soft limit when it was opened.
  bool over_limit(const Connection* c) const;
  // The request's head arrived: its body deadline starts now.
  void head_received(Connection* c);
  // The whole body arrived: the handler's time is not the client's to bound.
  void body_received(Connection* c);
  // The response was sent: the next request's head deadline starts now.
  void request_done(Connection* c);
  // Connections closed for missing a deadline, since start.
  std::size_t closed_slow() const;

 private:
  void watch();

  const ConnectionGuardOptions options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::unordered_set<Connection*> connections_;
  std::unordered_map<std::string, unsigned> per_address_;
  std::size_t closed_slow_ = 0;
  std::thread watchdog_;
};

}  // namespace gthulhu::http
