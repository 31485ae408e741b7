#pragma once
// The agent's REST API (seed list plus our extensions):
//   GET  /health, /version, /metrics                 no token
//   POST /api/v1/auth/token                          credential -> token
//   POST /api/v1/intents                             full list (replace) or delta
//   GET  /api/v1/intents                             current set, generation, states
//   GET  /api/v1/intents/results?after=V&waitSeconds=S  long poll for changed results
//   DELETE /api/v1/intents                           {"podId"} or {"all":true}
//   GET  /api/v1/scheduling/strategies               upstream shape, per process
//   POST /api/v1/metrics                             external scheduler's MetricSet
//   GET  /api/v1/pods/pids                           pods and their processes (tracker)
//   GET  /api/v1/pods/stats?podId=UID                one pod's CPU time and runqueue wait
#include <functional>
#include <memory>
#include <string>

#include "agent/cgroup_tree.h"
#include "agent/intent_store.h"
#include "agent/metric_set.h"
#include "agent/node_views.h"
#include "agent/policy_engine.h"
#include "agent/process_source.h"
#include "agent/startup_phases.h"
#include "agent/token_service.h"
#include "common/http/router.h"
#include "common/metrics/exposition.h"

namespace gthulhu::agent {

// An intent change and the reconcile that follows it, as one step: two concurrent
// requests never see each other's results.
struct IntentUpdate {
  ApplyResult applied;
  std::vector<IntentResult> results;  // after the reconcile (or current, when nothing changed)
};
using IntentChange = std::function<ApplyResult(IntentStore&)>;

struct AgentContext {
  std::string node_name;
  IntentStore& intents;
  PolicyEngine& engine;
  const CgroupTree& tree;
  const ProcessSource& processes;
  const TokenService& tokens;
  MetricSetStore& metric_set;
  const SchedulerView& scheduler;
  const TrackerView& tracker;
  metrics::Collectables metrics;
  // Runs a change of the intent set and its reconciliation under one lock.
  std::function<IntentUpdate(const IntentChange&)> update_intents;
  const StartupPhases* startup = nullptr;  // shown in /health when set
};

http::Router make_agent_router(AgentContext& ctx);

// The probe listener's routes ([probe] listen, plain HTTP, no token): GET /health and
// GET /metrics, the same handlers as the main listener's, and nothing else (404), so
// an unauthenticated port reveals no more than those two already do.
http::Router make_probe_router(AgentContext& ctx);

}  // namespace gthulhu::agent
