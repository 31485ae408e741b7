#include "tests/support/sim_agent_pair.h"

namespace gthulhu::test {

using namespace inventory;

SimAgentPair::SimAgentPair()
    : a(std::make_unique<SimAgent>("node-a", std::vector<std::string>{kPodA})),
      b(std::make_unique<SimAgent>("node-b", std::vector<std::string>{kPodB, kNginx})) {
  a->set_processes({{100, "prometheus", kPodA}});
  b->set_processes({{200, "prometheus", kPodB}, {201, "nginx", kNginx}});
  a->start();
  b->start();
}

std::map<std::string, std::string> SimAgentPair::coordinator_env() const {
  return coordinator_agent_env({a.get(), b.get()});
}

}  // namespace gthulhu::test
