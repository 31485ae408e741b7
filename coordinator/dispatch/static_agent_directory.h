#pragma once
// Agents listed in the configuration, for hosts without a cluster:
//   agents.static = "node-a=https://node-a:8080, node-b=https://10.0.0.2:8080"
// Optionally "node=URL@ADDRESS" connects to ADDRESS while TLS checks the URL's host.
#include <string>
#include <vector>

#include "coordinator/dispatch/agent_directory.h"

namespace gthulhu::coordinator {

class StaticAgentDirectory final : public AgentDirectory {
 public:
  explicit StaticAgentDirectory(std::vector<AgentEndpoint> agents = {});
  // Throws std::invalid_argument naming the entry that is malformed.
  static std::vector<AgentEndpoint> parse(const std::string& table);

  std::vector<AgentEndpoint> agents() const override;
  // Replaces the table (tests; a configuration reload) and notifies listeners.
  void set(std::vector<AgentEndpoint> agents);

 private:
  mutable std::mutex mu_;
  std::vector<AgentEndpoint> agents_;
};

}  // namespace gthulhu::coordinator
