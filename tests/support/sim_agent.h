#pragma once
// A real agent daemon in the test process, as a simulated node (agent/sim/): its own
// REST API over mTLS with a server certificate for its node name, its intent store in a
// temp dir, pod cgroups as directories and a process table file the test can rewrite.
// For control loop tests: what the coordinator talks to is the agent's own code.
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/daemon.h"
#include "agent/node_backend.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace gthulhu::test {

struct SimProcess {
  uint32_t pid = 0;
  std::string comm;
  std::string pod_uid;  // the process runs in this pod's container cgroup; empty: in
                        // a node cgroup outside every pod (system.slice/node.service)
};

inline constexpr const char* kNodeCgroup = "system.slice/node.service";

class SimAgent {
 public:
  // `pod_uids`: pods whose cgroups exist on this node from the start. The agent listens
  // on 127.0.0.1:`port` (0 = a free one, kept across restart()).
  SimAgent(std::string node, const std::vector<std::string>& pod_uids, uint16_t port = 0);
  ~SimAgent();

  void start();
  void stop();  // as a crash would leave it: state on disk, nothing else
  void restart() {
    stop();
    start();
  }
  bool running() const { return daemon_ != nullptr; }

  const std::string& node() const { return node_; }
  uint16_t port() const { return port_; }
  // "node=https://node:port@127.0.0.1:port" for agents.static.
  std::string directory_entry() const;
  // The agent's server certificate names this (default: the node name).
  void set_certificate_name(const std::string& name) { cert_name_ = name; }

  void set_processes(const std::vector<SimProcess>& processes);
  void add_pod(const std::string& pod_uid);

  // GET /api/v1/intents as a client with the test CA's client certificate.
  nlohmann::json intents() const;
  uint64_t generation() const;

 private:
  std::string container_path(const std::string& pod_uid) const;

  std::string node_;
  std::string cert_name_;
  uint16_t port_;
  TempDir dir_;
  CertifiedKey server_cert_;
  std::string server_cert_name_;
  std::unique_ptr<agent::NodeBackend> backend_;
  std::unique_ptr<agent::AgentDaemon> daemon_;
};

// Coordinator settings that make it push to these agents over mTLS with the test
// PKI's client certificate (GTHULHU_AGENTS_* keys), with short probe/retry times.
std::map<std::string, std::string> coordinator_agent_env(const std::vector<const SimAgent*>& agents);

}  // namespace gthulhu::test
