#pragma once
// The control loop on /metrics, read at scrape time from the node channels: whether
// this replica leads, each node's reachability, generations and intents by state, and
// what was pushed to its agent (so "only the leader pushes" and "deltas, not
// snapshots" can be watched from Prometheus).
#include <memory>

#include <prometheus/collectable.h>

#include "coordinator/dispatch/control_loop.h"

namespace gthulhu::coordinator {

std::shared_ptr<prometheus::Collectable> make_dispatch_collector(const ControlLoop& control);

}  // namespace gthulhu::coordinator
