#pragma once
// The agent process minus main(): restores intents, indexes the cgroup tree, applies
// policies, serves the REST API, and follows kernel events on one thread.
#include <chrono>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "agent/agent_config.h"
#include "agent/api.h"
#include "agent/cgroup_tree.h"
#include "agent/exec_latency.h"
#include "agent/intent_store.h"
#include "agent/metric_set.h"
#include "agent/node_backend.h"
#include "agent/policy_engine.h"
#include "agent/startup_phases.h"
#include "agent/token_service.h"
#include "common/http/server.h"

namespace gthulhu::agent {

class AgentDaemon {
 public:
  AgentDaemon(AgentSettings settings, NodeBackend& backend);
  ~AgentDaemon();

  // Throws std::runtime_error when the state cannot be restored or the server not bound.
  // `phases`: the start-up steps so far (from process start); the daemon marks the
  // first reconcile and serving, logs them and exposes them. It must outlive the daemon.
  void start(StartupPhases& phases);
  void start() { start(own_phases_); }
  void stop();
  uint16_t port() const { return server_ ? server_->port() : 0; }
  // The probe listener's port (0 when [probe] listen is off).
  uint16_t probe_port() const { return probe_server_ ? probe_server_->port() : 0; }

  // One event as the event thread handles it (public for tests).
  void handle(const NodeEvent& event);

 private:
  std::vector<IntentResult> reconcile();
  IntentUpdate update_intents(const IntentChange& change);
  void event_loop();
  void start_probe_listener(std::shared_ptr<prometheus::Registry> http_registry);

  AgentSettings settings_;
  NodeBackend& backend_;
  std::unique_ptr<IntentStore> intents_;
  std::unique_ptr<CgroupTree> tree_;
  std::unique_ptr<PolicyEngine> engine_;
  std::unique_ptr<TokenService> tokens_;
  MetricSetStore metric_set_;
  StartupPhases own_phases_;
  StartupPhases* phases_ = &own_phases_;
  ExecLatency exec_latency_;
  std::unique_ptr<AgentContext> context_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Server> probe_server_;
  std::mutex reconcile_mu_;
  std::atomic<bool> stopping_{false};
  std::thread events_;
};

}  // namespace gthulhu::agent
