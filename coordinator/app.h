#pragma once
// The coordinator process: configuration schema, wiring of store, auth, RBAC, pod
// source, agent directory, leader election, the control loop and routes, the HTTP
// server, and the start-up sequence
//   bind :8081 at once (so /health can say "starting" / "store unavailable")
//   -> migrate the store, retrying with backoff while it is unavailable
//   -> bootstrap permissions, the admin role and the admin user
//   -> ready: the control loop campaigns for leadership and, leading, plans and pushes.
// A fatal start-up error (a newer schema, no admin password on a first start) is
// reported through on_fatal (main.cpp then exits non-zero).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/config/config.h"
#include "common/config/schema.h"
#include "common/http/server.h"
#include "coordinator/store/store.h"

namespace prometheus { class Registry; }

namespace gthulhu::coordinator {

class PasswordHasher;
class TokenService;
class AuthService;
class Authorizer;
class StaticPodSource;
class PodSource;
class AgentDirectory;
class LeaderElector;
class ControlLoop;
class PodMetricsProvider;
class AgentPodMetrics;
struct ApiContext;
class StoreHealthMonitor;
class CachingStore;

class App {
 public:
  // Every configuration key of the coordinator (rendered by --help-config).
  static config::Schema schema();

  // Throws std::runtime_error / std::invalid_argument for configuration problems
  // (missing or weak key, unreadable inventory, unknown store backend). `store`
  // overrides the configured one (tests).
  explicit App(const config::Config& cfg, std::shared_ptr<Store> store = nullptr);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Binds and serves, and starts the start-up sequence in the background.
  void start();
  // Stops the start-up sequence and the server (graceful: in-flight requests finish).
  void stop();

  uint16_t port() const;
  bool ready() const { return ready_.load(); }
  // Waits until ready (true) or a fatal error / timeout (false).
  bool wait_ready(std::chrono::milliseconds timeout);
  std::optional<std::string> fatal_error() const;
  void on_fatal(std::function<void(const std::string&)> callback) { on_fatal_ = std::move(callback); }

  // The source of GET /api/v1/pods/metrics: by default the agents (dispatch/
  // agent_pod_metrics.h); this replaces it (not owned; null = 503). Set it before
  // start(); tests may swap it between requests.
  void set_pod_metrics_provider(PodMetricsProvider* provider);

  // Writes through it are this replica's (they invalidate its caches at once).
  Store& store() { return *store_; }
  // The database itself, bypassing this replica's caches (another writer's view).
  Store& backend_store() { return *backend_store_; }
  // The static inventory (hosts without a cluster); nullptr when pods come from Kubernetes.
  StaticPodSource* static_pods() { return static_pods_; }
  ControlLoop& control() { return *control_; }
  const TokenService& tokens() const { return *tokens_; }
  const http::Router& router() const { return *router_copy_; }

 private:
  void startup();
  bool sleep_unless_stopped(std::chrono::milliseconds d);
  void set_fatal(const std::string& message);

  // The configured store, and the cache every component reads and writes through.
  std::shared_ptr<Store> backend_store_;
  std::shared_ptr<CachingStore> cache_;
  std::shared_ptr<Store> store_;
  std::unique_ptr<PasswordHasher> hasher_;
  std::unique_ptr<TokenService> tokens_;
  std::unique_ptr<AuthService> auth_;
  std::unique_ptr<Authorizer> authorizer_;
  std::shared_ptr<PodSource> pods_;
  StaticPodSource* static_pods_ = nullptr;
  std::shared_ptr<AgentDirectory> agents_;
  std::shared_ptr<LeaderElector> elector_;
  std::unique_ptr<ControlLoop> control_;
  std::unique_ptr<AgentPodMetrics> pod_metrics_;
  std::unique_ptr<ApiContext> ctx_;
  std::unique_ptr<StoreHealthMonitor> store_health_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<http::Router> router_copy_;
  std::unique_ptr<http::Server> server_;
  std::string admin_username_;
  std::string admin_password_;

  std::atomic<bool> ready_{false};
  std::atomic<bool> stopping_{false};
  std::thread startup_thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::string> fatal_;
  std::function<void(const std::string&)> on_fatal_;
};

}  // namespace gthulhu::coordinator
