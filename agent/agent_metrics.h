#pragma once
// The agent's Prometheus metrics, read at scrape time from the BPF maps and the
// agent's state (no background sampling, so a scrape always sees current values).
// Every name has the gthulhu_ prefix; README "Metrics" lists them and maps the seed's
// MetricSet names onto them.
#include <memory>
#include <prometheus/collectable.h>

#include "agent/intent_store.h"
#include "agent/metric_set.h"
#include "agent/node_views.h"
#include "agent/policy_engine.h"

namespace gthulhu::agent {

std::shared_ptr<prometheus::Collectable> make_agent_collector(const SchedulerView& scheduler,
                                                              const TrackerView& tracker,
                                                              const PolicyEngine& engine,
                                                              const MetricSetStore& metric_set,
                                                              std::string node_name);

}  // namespace gthulhu::agent
