#pragma once
// Everything a route handler may use. Owned by the App (app.h); handlers hold a
// reference.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>

#include "coordinator/api/pod_metrics_provider.h"
#include "coordinator/auth/auth_service.h"
#include "coordinator/auth/password_hasher.h"
#include "coordinator/dispatch/control_loop.h"
#include "coordinator/pods/pod_source.h"
#include "coordinator/rbac/authorizer.h"
#include "coordinator/store/caching_store.h"
#include "coordinator/store/store.h"
#include "coordinator/store/store_health.h"

namespace gthulhu::coordinator {

// What the browser-facing parts need: where the built web UI is, and how the refresh
// cookie is set (api/refresh_cookie.h).
struct WebOptions {
  std::filesystem::path ui_directory;         // empty or missing: "/" answers 404
  bool secure_cookies = false;                // served over TLS: cookies get Secure
  std::chrono::seconds refresh_cookie_max_age{24 * 3600};
};

struct ApiContext {
  Store& store;
  AuthService& auth;
  Authorizer& authorizer;
  PodSource& pods;
  // Plans strategies into intents and pushes them (on the leader); REST hooks.
  ControlLoop& control;
  MillisClock clock = system_millis;
  std::string service_name = "gthulhu-coordinator";
  // False until the store is migrated and bootstrapped; /health reports "starting".
  const std::atomic<bool>* ready = nullptr;
  // The store's health from a background ping (/health never pings per request).
  // Null: /health reports the store as unchecked (503).
  const StoreHealthMonitor* store_health = nullptr;
  // Per-pod CPU time and runqueue wait, gathered from the agents. Null: GET
  // /api/v1/pods/metrics answers 503 "pod metrics unavailable".
  PodMetricsProvider* pod_metrics = nullptr;
  // The hot reads (the caller's user, a creator's strategy list), cached with a
  // staleness bound (store/caching_store.h); it wraps `store`. Null: read per request.
  CachingStore* cache = nullptr;
  WebOptions web{};
};

}  // namespace gthulhu::coordinator
