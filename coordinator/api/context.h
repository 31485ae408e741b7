#pragma once
// Everything a route handler may use. Owned by the App (app.h); handlers hold a
// reference.
#include <atomic>
#include <string>

#include "coordinator/auth/auth_service.h"
#include "coordinator/auth/password_hasher.h"
#include "coordinator/dispatch/control_loop.h"
#include "coordinator/pods/pod_source.h"
#include "coordinator/rbac/authorizer.h"
#include "coordinator/store/store.h"

namespace gthulhu::coordinator {

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
};

}  // namespace gthulhu::coordinator
