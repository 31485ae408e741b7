#include "common/http/connection_guard.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

namespace gthulhu::http {

using Clock = std::chrono::steady_clock;

struct ConnectionGuard::Connection {
  enum class Phase { kHead, kBody, kHandling, kShutDown };
  int fd = -1;
  std::string address;
  bool over_limit = false;
  Phase phase = Phase::kHead;
  Clock::time_point deadline;
};

ConnectionGuard::ConnectionGuard(ConnectionGuardOptions options) : options_(std::move(options)) {
  watchdog_ = std::thread([this] { watch(); });
}

ConnectionGuard::~ConnectionGuard() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  watchdog_.join();
  for (auto* c : connections_) delete c;
}

ConnectionGuard::Connection* ConnectionGuard::open(int fd, const std::string& address) {
  auto* c = new Connection;
  c->fd = fd;
  c->address = address;
  std::lock_guard lock(mu_);
  const unsigned here = ++per_address_[address];
  connections_.insert(c);
  c->over_limit = here > options_.max_connections_per_ip ||
                  connections_.size() > options_.max_connections;
  c->deadline = Clock::now() + (c->over_limit ? options_.refused_head_timeout : options_.head_timeout);
  return c;
}

void ConnectionGuard::close(Connection* c) {
  if (c == nullptr) return;
  {
    std::lock_guard lock(mu_);
    connections_.erase(c);
    auto it = per_address_.find(c->address);
    if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
  }
  delete c;
}

bool ConnectionGuard::over_limit(const Connection* c) const {
  return c != nullptr && c->over_limit;  // set once in open(), before any other use
}

void ConnectionGuard::head_received(Connection* c) {
  if (c == nullptr) return;
  std::lock_guard lock(mu_);
  if (c->phase == Connection::Phase::kShutDown) return;
  c->phase = Connection::Phase::kBody;
  c->deadline = Clock::now() + options_.body_timeout;
}

void ConnectionGuard::body_received(Connection* c) {
  if (c == nullptr) return;
  std::lock_guard lock(mu_);
  if (c->phase != Connection::Phase::kShutDown) c->phase = Connection::Phase::kHandling;
}

void ConnectionGuard::request_done(Connection* c) {
  if (c == nullptr) return;
  std::lock_guard lock(mu_);
  if (c->phase == Connection::Phase::kShutDown) return;
  c->phase = Connection::Phase::kHead;
  c->deadline = Clock::now() + (c->over_limit ? options_.refused_head_timeout : options_.head_timeout);
}

std::size_t ConnectionGuard::closed_slow() const {
  std::lock_guard lock(mu_);
  return closed_slow_;
}

void ConnectionGuard::watch() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.tick);
    const auto now = Clock::now();
    for (auto* c : connections_) {
      const bool waiting_for_client =
          c->phase == Connection::Phase::kHead || c->phase == Connection::Phase::kBody;
      if (!waiting_for_client || now < c->deadline) continue;
      // Under the lock that close() takes: the socket is still this connection's (the
      // server notifies close() before it closes the descriptor), never a reused one.
      ::shutdown(c->fd, SHUT_RDWR);
      if (c->over_limit) {
        spdlog::warn("{}: closed a connection over the connection limit from {}", options_.name,
                     c->address);
      } else {
        spdlog::warn("{}: closed a slow client {}: its request {} did not arrive in time",
                     options_.name, c->address,
                     c->phase == Connection::Phase::kHead ? "head" : "body");
      }
      c->phase = Connection::Phase::kShutDown;
      ++closed_slow_;
    }
  }
}

}  // namespace gthulhu::http
