#pragma once
// The agent's Prometheus metrics, read at scrape time from the BPF maps and the
// agent's state (no background sampling, so a scrape always sees current values).
// Every name has the gthulhu_ prefix; README "Metrics" lists them and maps the seed's
// MetricSet names onto them.
#include <memory>
#include <prometheus/collectable.h>

#include "agent/exec_latency.h"
#include "agent/intent_store.h"
#include "agent/metric_set.h"
#include "agent/node_views.h"
#include "agent/policy_engine.h"
#include "agent/startup_phases.h"

namespace gthulhu::agent {

// The daemon's own timings; either may be absent (tests without a daemon).
struct AgentTimings {
  const ExecLatency* exec_to_override = nullptr;
  const StartupPhases* startup = nullptr;
};

std::shared_ptr<prometheus::Collectable> make_agent_collector(const SchedulerView& scheduler,
                                                              const TrackerView& tracker,
                                                              const PolicyEngine& engine,
                                                              const MetricSetStore& metric_set,
                                                              std::string node_name,
                                                              AgentTimings timings = {});

}  // namespace gthulhu::agent
