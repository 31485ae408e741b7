#include "coordinator/app.h"

#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "common/service/server_config.h"
#include "coordinator/api/context.h"
#include "coordinator/api/routes.h"
#include "coordinator/auth/auth_service.h"
#include "coordinator/auth/password_hasher.h"
#include "coordinator/auth/token_service.h"
#include "coordinator/bootstrap.h"
#include "coordinator/dispatch/agent_pod_metrics.h"
#include "coordinator/dispatch/control_loop.h"
#include "coordinator/dispatch/dispatch_config.h"
#include "coordinator/dispatch/static_agent_directory.h"
#include "coordinator/ha/leader_elector.h"
#include "coordinator/kube/kube_factory.h"
#include "coordinator/openapi/openapi.h"
#include "coordinator/pods/static_pod_source.h"
#include "coordinator/rbac/authorizer.h"
#include "coordinator/store/caching_store.h"
#include "coordinator/store/mongo_store.h"
#include "coordinator/store/store_factory.h"

namespace gthulhu::coordinator {

namespace {

template <typename D>
std::chrono::seconds secs(D d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d);
}

}  // namespace

config::Schema App::schema() {
  config::Schema s("GTHULHU");
  // [server], [tls] (tls.client_ca turns on mTLS) and [log], shared with the agent.
  service::add_server_keys(s, {":8081", 4, 1024, 256});
  add_store_config(s);
  s.add_pem("auth", "private_key",
            "RSA private key (>= 2048 bits, PEM or file) signing access tokens (RS256). Required");
  s.add_string("auth", "issuer", "gthulhu-coordinator", "The iss claim of access tokens");
  s.add_duration("auth", "access_token_ttl", std::chrono::minutes(15), "Access token lifetime");
  s.add_duration("auth", "refresh_token_ttl", std::chrono::hours(24),
                 "Refresh token lifetime (each refresh issues a new one)");
  s.add_int("auth", "argon2_memory_kib", 19 * 1024, 8, 4 * 1024 * 1024,
            "Argon2id memory cost per password hash, KiB (default: OWASP's minimum, 19 MiB)");
  s.add_int("auth", "argon2_iterations", 2, 1, 100, "Argon2id time cost (passes; OWASP: 2 at 19 MiB)");
  s.add_int("auth", "argon2_parallelism", 1, 1, 64, "Argon2id lanes");
  s.add_int("auth", "argon2_max_concurrent", 2, 1, 64,
            "Password hashes computed at once (bounds memory: this x memory cost)");
  s.add_duration("auth", "role_cache_ttl", std::chrono::seconds(1),
                 "How long a role's permissions are reused without re-reading it (0 = never); "
                 "role changes through this instance apply at once");
  s.add_int("auth", "password_min_length", 12, 8, 256, "Minimum password length (characters)");
  s.add_int("auth", "login_attempts_per_ip", 20, 1, 1000000,
            "Login attempts one client IP may make in a burst...");
  s.add_duration("auth", "login_ip_window", std::chrono::minutes(1),
                 "...and earns back evenly over this window (429 + Retry-After beyond)");
  s.add_int("auth", "login_failures_per_user", 5, 1, 1000000,
            "Failed logins for one username from one client IP before each further failure "
            "delays that pair (never other addresses: no lockout by strangers)...");
  s.add_duration("auth", "login_failure_delay", std::chrono::seconds(1),
                 "...by this delay, doubled at every further failure...");
  s.add_duration("auth", "login_failure_max_delay", std::chrono::minutes(15),
                 "...up to this delay (429 + Retry-After while it runs)");
  s.add_duration("auth", "login_user_window", std::chrono::minutes(15),
                 "A (username, client IP) pair without failures for this long is forgotten");
  s.add_string("admin", "username", "admin@example.com",
               "The administrator created on first start (never modified afterwards)");
  s.add_string("admin", "password", "",
               "Its password, needed on first start only (prefer GTHULHU_ADMIN_PASSWORD)");
  s.add_path("ui", "directory", GTHULHU_DEFAULT_UI_DIR,
             "The built web UI served at / (index.html and assets/); default: the build's");
  s.add_path("pods", "inventory_file", "",
             "Static pod inventory (JSON) used when no Kubernetes cluster is configured");
  add_dispatch_config(s);
  add_kube_config(s);
  return s;
}

App::App(const config::Config& cfg, std::shared_ptr<Store> store) {
  backend_store_ = store ? std::move(store) : make_store(cfg);
  cache_ = std::make_shared<CachingStore>(backend_store_, store_cache_ttl(cfg));
  store_ = cache_;
  const StoreHealthOptions health_options = store_health_options(cfg);

  Argon2Params argon;
  argon.memory_kib = static_cast<std::uint32_t>(cfg.get_int("auth.argon2_memory_kib"));
  argon.iterations = static_cast<std::uint32_t>(cfg.get_int("auth.argon2_iterations"));
  argon.parallelism = static_cast<std::uint32_t>(cfg.get_int("auth.argon2_parallelism"));
  argon.max_concurrent = static_cast<unsigned>(cfg.get_int("auth.argon2_max_concurrent"));
  hasher_ = std::make_unique<PasswordHasher>(argon);

  if (!cfg.is_set("auth.private_key")) {
    throw std::runtime_error("auth.private_key is required (GTHULHU_AUTH_PRIVATE_KEY)");
  }
  tokens_ = std::make_unique<TokenService>(cfg.get_pem("auth.private_key"),
                                           cfg.get_string("auth.issuer"),
                                           secs(cfg.get_duration("auth.access_token_ttl")),
                                           secs(cfg.get_duration("auth.refresh_token_ttl")));
  PasswordPolicy policy;
  policy.min_length = static_cast<std::size_t>(cfg.get_int("auth.password_min_length"));
  LoginLimits limits;
  limits.attempts_per_ip = static_cast<unsigned>(cfg.get_int("auth.login_attempts_per_ip"));
  limits.ip_window = cfg.get_duration("auth.login_ip_window");
  limits.failures_per_user = static_cast<unsigned>(cfg.get_int("auth.login_failures_per_user"));
  limits.user_window = cfg.get_duration("auth.login_user_window");
  limits.failure_base_delay = cfg.get_duration("auth.login_failure_delay");
  limits.failure_max_delay = cfg.get_duration("auth.login_failure_max_delay");
  auth_ = std::make_unique<AuthService>(*store_, *hasher_, *tokens_, policy, limits);
  authorizer_ = std::make_unique<Authorizer>(
      *store_, *tokens_,
      std::chrono::duration_cast<std::chrono::milliseconds>(cfg.get_duration("auth.role_cache_ttl")),
      cache_.get());

  std::optional<KubeComponents> kube = make_kube_components(cfg);
  if (kube) {
    // Every replica keeps the pod cache (previews and counts work anywhere); only the
    // Lease holder plans and pushes.
    pods_ = kube->pods;
    elector_ = kube->elector;
    if (!cfg.get_string("agents.static").empty()) {
      // Pods from the API server, agents at fixed URLs: nodes whose agent is not a pod
      // (a VM behind a forwarded port, a host agent run by systemd).
      spdlog::info("agents.static set: agents are taken from it, not discovered from pods");
      agents_ = std::make_shared<StaticAgentDirectory>(StaticAgentDirectory::parse(cfg.get_string("agents.static")));
    } else {
      agents_ = kube->agents;
    }
  } else {
    std::shared_ptr<StaticPodSource> inventory;
    if (cfg.is_set("pods.inventory_file")) {
      inventory = StaticPodSource::from_file(cfg.get_path("pods.inventory_file"));
      spdlog::info("pod inventory {}: {} pods", cfg.get_path("pods.inventory_file").string(),
                   inventory->pods().size());
    } else {
      inventory = std::make_shared<StaticPodSource>();
      spdlog::warn("no pod source configured (kubernetes.mode or pods.inventory_file): strategies get no intents");
    }
    static_pods_ = inventory.get();
    pods_ = std::move(inventory);
    agents_ = std::make_shared<StaticAgentDirectory>(StaticAgentDirectory::parse(cfg.get_string("agents.static")));
    elector_ = std::make_shared<AlwaysLeader>();
  }
  const DispatchSettings dispatch = dispatch_settings(cfg);
  control_ = std::make_unique<ControlLoop>(*store_, *pods_, *agents_, *elector_, dispatch, system_millis);
  // Pod metrics are answered by every replica, from the agents directly.
  pod_metrics_ = std::make_unique<AgentPodMetrics>(*pods_, *agents_, dispatch.transport);
  // The control loop subscribed to pods and agents: the watches may start now.
  if (kube) kube->start();

  admin_username_ = cfg.get_string("admin.username");
  admin_password_ = cfg.get_string("admin.password");

  ctx_ = std::make_unique<ApiContext>(ApiContext{*store_, *auth_, *authorizer_, *pods_, *control_});
  ctx_->ready = &ready_;
  ctx_->pod_metrics = pod_metrics_.get();
  ctx_->cache = cache_.get();
  store_health_ = std::make_unique<StoreHealthMonitor>(*backend_store_, health_options);
  ctx_->store_health = store_health_.get();
  registry_ = std::make_shared<prometheus::Registry>();

  http::ServerOptions opts = service::server_options_from(cfg, "coordinator");
  ctx_->web.ui_directory = cfg.get_path("ui.directory");
  ctx_->web.secure_cookies = opts.tls.has_value();
  ctx_->web.refresh_cookie_max_age = tokens_->refresh_ttl();
  opts.metrics = registry_;
  http::Router router = build_router(*ctx_, {registry_});
  router_copy_ = std::make_unique<http::Router>(router);
  server_ = std::make_unique<http::Server>(opts, std::move(router));
}

App::~App() { stop(); }

uint16_t App::port() const { return server_->port(); }

void App::set_pod_metrics_provider(PodMetricsProvider* provider) { ctx_->pod_metrics = provider; }

void App::start() {
  store_health_->start();
  server_->start();
  spdlog::info("coordinator listening on port {} (store: {})", server_->port(), store_->backend());
  startup_thread_ = std::thread([this] { startup(); });
}

bool App::sleep_unless_stopped(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [&] { return stopping_.load(); });
}

void App::set_fatal(const std::string& message) {
  spdlog::critical("coordinator cannot start: {}", message);
  {
    std::lock_guard lock(mu_);
    fatal_ = message;
  }
  cv_.notify_all();
  if (on_fatal_) on_fatal_(message);
}

void App::startup() {
  std::chrono::milliseconds backoff(250);
  const std::chrono::milliseconds max_backoff(5000);
  // 1. Schema.
  while (!stopping_) {
    auto st = store_->migrate();
    if (st.ok()) break;
    if (st.code() != StoreErrc::kUnavailable) return set_fatal("store migration: " + st.error().message);
    spdlog::warn("store unavailable ({}), retrying in {} ms", st.error().message, backoff.count());
    if (!sleep_unless_stopped(backoff)) return;
    backoff = std::min(backoff * 2, max_backoff);
  }
  // 2. Permissions, admin role, admin user.
  backoff = std::chrono::milliseconds(250);
  while (!stopping_) {
    Status st;
    try {
      st = bootstrap(*store_, *hasher_, auth_->policy(), {admin_username_, admin_password_},
                     system_millis());
    } catch (const std::exception& e) {
      return set_fatal(e.what());
    }
    if (st.ok()) break;
    if (st.code() != StoreErrc::kUnavailable) return set_fatal("bootstrap: " + st.error().message);
    spdlog::warn("store unavailable during bootstrap ({}), retrying in {} ms", st.error().message,
                 backoff.count());
    if (!sleep_unless_stopped(backoff)) return;
    backoff = std::min(backoff * 2, max_backoff);
  }
  if (stopping_) return;
  admin_password_.clear();
  control_->start();
  // A single replica leads at once: serve only when strategies are planned on save.
  if (dynamic_cast<AlwaysLeader*>(elector_.get()) != nullptr) {
    while (!stopping_ && !control_->wait_leading(std::chrono::seconds(1))) {
      spdlog::warn("coordinator: the control loop is not leading yet (store unavailable?)");
    }
  }
  // Ready means /health can say so: a store check made after the migration.
  store_health_->check_now(std::chrono::seconds(10));
  ready_ = true;
  cv_.notify_all();
  spdlog::info("coordinator ready");
}

bool App::wait_ready(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return ready_.load() || fatal_.has_value(); });
  return ready_.load();
}

std::optional<std::string> App::fatal_error() const {
  std::lock_guard lock(mu_);
  return fatal_;
}

void App::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (auto* mongo = dynamic_cast<MongoStore*>(backend_store_.get())) mongo->cancel_start();
  if (startup_thread_.joinable()) startup_thread_.join();
  if (control_) control_->stop();
  if (server_ && server_->running()) server_->stop();
  if (store_health_) store_health_->stop();
}

}  // namespace gthulhu::coordinator
