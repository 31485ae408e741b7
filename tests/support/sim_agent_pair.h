#pragma once
// The two simulated nodes the in-process control-loop tests push to, matching the pods
// of the coordinator harness's static inventory (tests/unit/coordinator_harness.h):
// node-a runs prometheus-0 (pid 100), node-b runs prometheus-1 (pid 200) and nginx-0
// (pid 201). Both agents are started on construction.
#include <map>
#include <memory>
#include <string>

#include "tests/support/sim_agent.h"

namespace gthulhu::test {

namespace inventory {
inline constexpr const char* kPodA = "0a0a0a0a-0000-0000-0000-000000000001";   // prometheus-0 on node-a
inline constexpr const char* kPodB = "0a0a0a0a-0000-0000-0000-000000000002";   // prometheus-1 on node-b
inline constexpr const char* kNginx = "0a0a0a0a-0000-0000-0000-000000000005";  // nginx-0 on node-b
}  // namespace inventory

struct SimAgentPair {
  SimAgentPair();
  // The coordinator settings that push to both (coordinator_agent_env).
  std::map<std::string, std::string> coordinator_env() const;

  std::unique_ptr<SimAgent> a, b;
};

}  // namespace gthulhu::test
