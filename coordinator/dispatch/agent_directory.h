#pragma once
// Where the dispatcher finds each node's agent: from the agent DaemonSet's pods in a
// cluster (kube/agent_pod_directory.h), or from a static node -> URL table in the
// configuration (dispatch/static_agent_directory.h).
#include <cstdint>
#include <string>
#include <vector>

#include "coordinator/support/change_listeners.h"

namespace gthulhu::coordinator {

struct AgentEndpoint {
  std::string node;  // the node the agent runs on (spec.nodeName)
  // Base URL the coordinator sends requests to, e.g. "https://node-a:8080". Its host
  // is the name the agent's server certificate must carry.
  std::string url;
  // When set, connect to this address instead of resolving the URL's host (pod IP in
  // a cluster): the TLS name stays the URL's host. "" = resolve normally.
  std::string connect_address;
  bool operator==(const AgentEndpoint&) const = default;
};

// subscribe(): called after the set of agents changed, on the directory's own thread.
class AgentDirectory : public ChangeListeners {
 public:
  virtual ~AgentDirectory() = default;
  // One endpoint per node, sorted by node name.
  virtual std::vector<AgentEndpoint> agents() const = 0;
};

}  // namespace gthulhu::coordinator
