#include "coordinator/api/dispatch_metrics.h"

#include "common/metrics/families.h"
#include "coordinator/api/json_shapes.h"

namespace gthulhu::coordinator {
namespace {

using metrics::add_value;
using metrics::family;
using prometheus::MetricFamily;
using prometheus::MetricType;

class DispatchCollector : public prometheus::Collectable {
 public:
  explicit DispatchCollector(const ControlLoop& control) : control_(control) {}

  std::vector<MetricFamily> Collect() const override {
    auto leader = family("gthulhu_coordinator_leader",
                         "1 while this replica leads (watches, plans and pushes), else 0",
                         MetricType::Gauge);
    add_value(leader, control_.leading() ? 1 : 0);
    auto status = family("gthulhu_coordinator_node_status",
                         "1 for the node's current reachability (Unknown, Ready, Degraded, "
                         "Unreachable)", MetricType::Gauge);
    auto generation = family("gthulhu_coordinator_node_generation",
                             "intent generation per node: acknowledged by its agent, desired",
                             MetricType::Gauge);
    auto intents = family("gthulhu_coordinator_intents", "intents per node by state",
                          MetricType::Gauge);
    auto pushes = family("gthulhu_coordinator_agent_pushes_total",
                         "intent requests sent to the node's agent, by kind (delta, full)",
                         MetricType::Counter);
    auto bytes = family("gthulhu_coordinator_agent_push_bytes_total",
                        "request body bytes of those intent requests", MetricType::Counter);
    auto failures = family("gthulhu_coordinator_agent_failures_total",
                           "failed calls to the node's agent (push, read, probe)",
                           MetricType::Counter);
    for (const NodeStatus& n : control_.nodes()) {
      add_value(status, 1, {{"node", n.node}, {"status", to_string(n.status)}});
      add_value(generation, static_cast<double>(n.acked_generation),
                {{"node", n.node}, {"kind", "acknowledged"}});
      add_value(generation, static_cast<double>(n.desired_generation),
                {{"node", n.node}, {"kind", "desired"}});
      for (const auto& [state, count] : n.intents_by_state) {
        add_value(intents, static_cast<double>(count), {{"node", n.node}, {"state", state_name(state)}});
      }
      add_value(pushes, static_cast<double>(n.delta_pushes), {{"node", n.node}, {"kind", "delta"}});
      add_value(pushes, static_cast<double>(n.full_pushes), {{"node", n.node}, {"kind", "full"}});
      add_value(bytes, static_cast<double>(n.push_bytes), {{"node", n.node}});
      add_value(failures, static_cast<double>(n.failures), {{"node", n.node}});
    }
    return {std::move(leader), std::move(status), std::move(generation), std::move(intents),
            std::move(pushes), std::move(bytes), std::move(failures)};
  }

 private:
  const ControlLoop& control_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> make_dispatch_collector(const ControlLoop& control) {
  return std::make_shared<DispatchCollector>(control);
}

}  // namespace gthulhu::coordinator
