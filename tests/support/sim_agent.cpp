#include "tests/support/sim_agent.h"

#include <fstream>
#include <stdexcept>

#include "agent/agent_config.h"
#include "agent/sim/simulated_backend.h"
#include "common/config/config.h"
#include "common/http/client.h"
#include "tests/support/loopback.h"

namespace gthulhu::test {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string systemd_uid(std::string uid) {
  for (auto& c : uid) {
    if (c == '-') c = '_';
  }
  return uid;
}

}  // namespace

SimAgent::SimAgent(std::string node, const std::vector<std::string>& pod_uids, uint16_t port)
    : node_(std::move(node)), cert_name_(node_), port_(port ? port : free_loopback_port()) {
  fs::create_directories(dir_.path() / "cgroup");
  for (const auto& uid : pod_uids) add_pod(uid);
  fs::create_directories(dir_.path() / "cgroup" / kNodeCgroup);
  set_processes({});
}

SimAgent::~SimAgent() { stop(); }

std::string SimAgent::container_path(const std::string& pod_uid) const {
  return "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + systemd_uid(pod_uid) +
         ".slice/cri-containerd-" + std::string(64, pod_uid[0]) + ".scope";
}

void SimAgent::add_pod(const std::string& pod_uid) {
  fs::create_directories(dir_.path() / "cgroup" / container_path(pod_uid));
}

void SimAgent::set_processes(const std::vector<SimProcess>& processes) {
  json list = json::array();
  for (const auto& p : processes) {
    // No pod: a node process outside every pod (system.slice).
    const std::string cgroup = p.pod_uid.empty() ? kNodeCgroup : container_path(p.pod_uid);
    list.push_back({{"pid", p.pid}, {"ppid", 1}, {"comm", p.comm}, {"cgroup", cgroup}});
  }
  // Write then rename: the agent must never read half a file.
  const fs::path file = dir_.path() / "processes.json";
  const fs::path tmp = dir_.path() / "processes.json.tmp";
  {
    std::ofstream out(tmp);
    out << json{{"processes", list}}.dump();
  }
  fs::rename(tmp, file);
}

void SimAgent::start() {
  if (daemon_) return;
  if (server_cert_.cert_pem.empty() || server_cert_name_ != cert_name_) {
    server_cert_ = issue_server_certificate(test_pki().ca, cert_name_);
    server_cert_name_ = cert_name_;
  }
  config::Environment env = {
      {"GTHULHU_AGENT_NODE_NAME", node_},
      {"GTHULHU_AGENT_STATE_DIR", (dir_.path() / "state").string()},
      {"GTHULHU_AGENT_CGROUP_ROOT", (dir_.path() / "cgroup").string()},
      {"GTHULHU_AGENT_SIMULATE", "true"},
      {"GTHULHU_AGENT_SIM_PROCESSES", (dir_.path() / "processes.json").string()},
      {"GTHULHU_AGENT_RESYNC_INTERVAL", "1s"},
      {"GTHULHU_AUTH_PRIVATE_KEY", rsa_key_pair().private_key_pem},
      {"GTHULHU_SERVER_LISTEN", "127.0.0.1:" + std::to_string(port_)},
      {"GTHULHU_SERVER_ACCESS_LOG", "false"},
      {"GTHULHU_TLS_CERT", server_cert_.cert_pem},
      {"GTHULHU_TLS_KEY", server_cert_.key_pem},
      {"GTHULHU_TLS_CLIENT_CA", test_pki().ca.cert_pem},
  };
  auto cfg = config::Config::load(agent::agent_schema(), std::nullopt, env);
  auto settings = agent::agent_settings(cfg);
  backend_ = agent::make_simulated_backend(settings);
  daemon_ = std::make_unique<agent::AgentDaemon>(settings, *backend_);
  daemon_->start();
}

void SimAgent::stop() {
  if (!daemon_) return;
  daemon_->stop();
  daemon_.reset();
  backend_.reset();
}

std::string SimAgent::directory_entry() const {
  const std::string p = std::to_string(port_);
  return node_ + "=https://" + node_ + ":" + p + "@127.0.0.1:" + p;
}

json SimAgent::intents() const {
  http::ClientOptions o;
  o.ca_pem = test_pki().ca.cert_pem;
  o.client_cert_pem = test_pki().client.cert_pem;
  o.client_key_pem = test_pki().client.key_pem;
  o.connect_to = "127.0.0.1:" + std::to_string(port_);
  http::Client c(o);
  const std::string base = "https://" + server_cert_name_ + ":" + std::to_string(port_);
  auto t = c.post_json(base + "/api/v1/auth/token", "{}");
  if (!t.ok || t.response.status != 200) throw std::runtime_error("sim agent token: " + t.error + t.response.body);
  const auto token = json::parse(t.response.body)["data"]["token"].get<std::string>();
  auto r = c.get(base + "/api/v1/intents", {"Authorization: Bearer " + token});
  if (!r.ok || r.response.status != 200) throw std::runtime_error("sim agent intents: " + r.error + r.response.body);
  return json::parse(r.response.body)["data"];
}

uint64_t SimAgent::generation() const { return intents()["generation"].get<uint64_t>(); }

std::map<std::string, std::string> coordinator_agent_env(const std::vector<const SimAgent*>& agents) {
  std::string table;
  for (const auto* a : agents) table += (table.empty() ? "" : ",") + a->directory_entry();
  return {{"GTHULHU_AGENTS_STATIC", table},
          {"GTHULHU_AGENTS_CA", test_pki().ca.cert_pem},
          {"GTHULHU_AGENTS_CLIENT_CERT", test_pki().client.cert_pem},
          {"GTHULHU_AGENTS_CLIENT_KEY", test_pki().client.key_pem},
          {"GTHULHU_AGENTS_PROBE_INTERVAL", "500ms"},
          {"GTHULHU_AGENTS_RETRY_INITIAL", "50ms"},
          {"GTHULHU_AGENTS_RETRY_MAX", "500ms"},
          {"GTHULHU_AGENTS_STRATEGY_POLL", "300ms"},
          {"GTHULHU_AGENTS_REQUEST_TIMEOUT", "2s"},
          {"GTHULHU_AGENTS_RESULTS_WAIT", "5s"}};
}

}  // namespace gthulhu::test
