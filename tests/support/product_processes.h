#pragma once
// Our own binaries as child processes, for process-level tests: the certificates of
// scripts/gen-certs.sh, simulated-node agents (the real gthulhu-agent in its
// `agent.simulate` mode: no root, no BPF), coordinators, and a REST client that logs in
// as a user does. The binaries' paths come from the test target (compile definitions).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/child_process.h"
#include "tests/support/eventually.h"

namespace gthulhu::test {

// The kubelet's (systemd driver) cgroup of a container of pod `uid` (BestEffort layout).
std::string kubelet_container_cgroup(const std::string& uid);

// scripts/gen-certs.sh <dir> <nodes...>: a CA, the coordinator's client certificate and
// one server certificate per node. Throws std::runtime_error with the script's output.
struct Pki {
  std::filesystem::path dir;
  std::string ca() const { return (dir / "ca.crt").string(); }
  std::string client_cert() const { return (dir / "coordinator.crt").string(); }
  std::string client_key() const { return (dir / "coordinator.key").string(); }
  std::string agent_cert(const std::string& node) const { return (dir / "agents" / (node + ".crt")).string(); }
  std::string agent_key(const std::string& node) const { return (dir / "agents" / (node + ".key")).string(); }
};
Pki make_pki(const std::string& source_dir, const std::filesystem::path& dir,
             const std::vector<std::string>& nodes);

// A simulated node under `root`: each pod's container cgroup and one process per pod
// (pid 100, 101, ... running `comm`), served on 127.0.0.1:`port` over mTLS, and with
// `probe_port` set, /health and /metrics on 127.0.0.1:`probe_port` ([probe] listen).
struct SimNode {
  std::string node;
  uint16_t port = 0;
  std::vector<std::string> pod_uids;
  std::string comm = "prometheus";
  uint16_t probe_port = 0;
};
std::unique_ptr<ServiceProcess> sim_agent_process(const std::string& binary,
                                                  const std::filesystem::path& root,
                                                  const SimNode& node, const Pki& pki,
                                                  const std::filesystem::path& token_key);
// agents.static for these nodes: node=https://node:port@127.0.0.1:port,...
std::string static_agent_table(const std::vector<SimNode>& nodes);

// A coordinator's environment: loopback `port`, SQLite at `db`, fast test hashing, the
// admin password, mTLS to agents with `pki`, short probe and retry intervals.
std::map<std::string, std::string> coordinator_env(uint16_t port, const std::filesystem::path& db,
                                                   const std::filesystem::path& token_key,
                                                   const Pki& pki, const std::string& admin_password);

// The REST API of one coordinator, as the admin.
class CoordinatorClient {
 public:
  CoordinatorClient(uint16_t port, std::string password) : port_(port), password_(std::move(password)) {}
  bool login();  // true once a login succeeded (the token is kept)
  // The parsed answer (envelope included), or null when the call or parsing failed.
  nlohmann::json call(const std::string& method, const std::string& path,
                      const nlohmann::json& body = nullptr);
  // node -> stateName of every intent.
  nlohmann::json intent_states();
  // GET /api/v1/nodes' entry of `name`, or null.
  nlohmann::json node(const std::string& name);
  // The sum of every sample of a metric family on /metrics (-1 when unreadable).
  double metric_sum(const std::string& family);

 private:
  std::string url(const std::string& path) const;
  uint16_t port_;
  std::string password_;
  std::string token_;
};

}  // namespace gthulhu::test
