#include "tests/support/product_processes.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/http/client.h"
#include "tests/support/temp_dir.h"

namespace gthulhu::test {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string kubelet_container_cgroup(const std::string& uid) {
  std::string u = uid;
  for (auto& c : u) {
    if (c == '-') c = '_';
  }
  return "kubepods.slice/kubepods-pod" + u + ".slice/cri-containerd-" + std::string(64, 'a') + ".scope";
}

Pki make_pki(const std::string& source_dir, const fs::path& dir, const std::vector<std::string>& nodes) {
  const fs::path log = dir.parent_path() / (dir.filename().string() + "-gen-certs.log");
  std::string cmd = source_dir + "/scripts/gen-certs.sh " + dir.string();
  for (const auto& n : nodes) cmd += " " + n;
  cmd += " > " + log.string() + " 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    throw std::runtime_error("scripts/gen-certs.sh failed: " + file_tail(log));
  }
  return Pki{dir};
}

std::unique_ptr<ServiceProcess> sim_agent_process(const std::string& binary, const fs::path& root,
                                                  const SimNode& node, const Pki& pki,
                                                  const fs::path& token_key) {
  json processes = json::array();
  int pid = 100;
  for (const auto& uid : node.pod_uids) {
    fs::create_directories(root / "cgroup" / kubelet_container_cgroup(uid));
    processes.push_back({{"pid", pid++}, {"comm", node.comm}, {"cgroup", kubelet_container_cgroup(uid)}});
  }
  fs::create_directories(root);
  std::ofstream(root / "processes.json") << json{{"processes", processes}}.dump();
  std::map<std::string, std::string> env{
      {"GTHULHU_AGENT_NODE_NAME", node.node},
      {"GTHULHU_AGENT_STATE_DIR", (root / "state").string()},
      {"GTHULHU_AGENT_CGROUP_ROOT", (root / "cgroup").string()},
      {"GTHULHU_AGENT_SIMULATE", "true"},
      {"GTHULHU_AGENT_SIM_PROCESSES", (root / "processes.json").string()},
      {"GTHULHU_AUTH_PRIVATE_KEY", token_key.string()},
      {"GTHULHU_SERVER_LISTEN", "127.0.0.1:" + std::to_string(node.port)},
      {"GTHULHU_TLS_CERT", pki.agent_cert(node.node)},
      {"GTHULHU_TLS_KEY", pki.agent_key(node.node)},
      {"GTHULHU_TLS_CLIENT_CA", pki.ca()},
      {"GTHULHU_LOG_LEVEL", "warn"}};
  if (node.probe_port != 0) env["GTHULHU_PROBE_LISTEN"] = "127.0.0.1:" + std::to_string(node.probe_port);
  return std::make_unique<ServiceProcess>(binary, env, root / "agent.log");
}

std::string static_agent_table(const std::vector<SimNode>& nodes) {
  std::string table;
  for (const auto& n : nodes) {
    const std::string port = std::to_string(n.port);
    table += (table.empty() ? "" : ",") + n.node + "=https://" + n.node + ":" + port + "@127.0.0.1:" + port;
  }
  return table;
}

std::map<std::string, std::string> coordinator_env(uint16_t port, const fs::path& db,
                                                   const fs::path& token_key, const Pki& pki,
                                                   const std::string& admin_password) {
  return {{"GTHULHU_SERVER_LISTEN", "127.0.0.1:" + std::to_string(port)},
          {"GTHULHU_SQLITE_PATH", db.string()},
          {"GTHULHU_AUTH_PRIVATE_KEY", token_key.string()},
          {"GTHULHU_AUTH_ARGON2_MEMORY_KIB", "64"},
          {"GTHULHU_AUTH_ARGON2_ITERATIONS", "1"},
          {"GTHULHU_ADMIN_PASSWORD", admin_password},
          {"GTHULHU_AGENTS_CA", pki.ca()},
          {"GTHULHU_AGENTS_CLIENT_CERT", pki.client_cert()},
          {"GTHULHU_AGENTS_CLIENT_KEY", pki.client_key()},
          {"GTHULHU_AGENTS_PROBE_INTERVAL", "500ms"},
          {"GTHULHU_AGENTS_RETRY_MAX", "500ms"},
          {"GTHULHU_LOG_LEVEL", "warn"}};
}

std::string CoordinatorClient::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

bool CoordinatorClient::login() {
  http::Client c;
  auto r = c.post_json(url("/api/v1/auth/login"),
                       json{{"username", "admin@example.com"}, {"password", password_}}.dump());
  if (!r.ok || r.response.status != 200) return false;
  const json body = json::parse(r.response.body, nullptr, false);
  if (body.is_discarded()) return false;
  token_ = body["data"]["accessToken"];
  return true;
}

json CoordinatorClient::call(const std::string& method, const std::string& path, const json& body) {
  http::Client c;
  std::vector<std::string> h = {"Authorization: Bearer " + token_, "Content-Type: application/json"};
  auto r = c.request(method, url(path), body.is_null() ? "" : body.dump(), h);
  if (!r.ok) return nullptr;
  auto j = json::parse(r.response.body, nullptr, false);
  return j.is_discarded() ? json(nullptr) : j;
}

json CoordinatorClient::intent_states() {
  auto r = call("GET", "/api/v1/intents/self");
  json out = json::object();
  if (!r.is_object() || !r.contains("data")) return out;
  for (const auto& i : r["data"]["intents"]) out[i["nodeID"].get<std::string>()] = i["stateName"];
  return out;
}

json CoordinatorClient::node(const std::string& name) {
  auto r = call("GET", "/api/v1/nodes");
  if (!r.is_object() || !r.contains("data")) return nullptr;
  for (const auto& n : r["data"]["nodes"]) {
    if (n["name"] == name) return n;
  }
  return nullptr;
}

double CoordinatorClient::metric_sum(const std::string& family) {
  http::Client c;
  auto r = c.get(url("/metrics"));
  if (!r.ok || r.response.status != 200) return -1;
  std::istringstream in(r.response.body);
  double sum = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(family, 0) != 0) continue;
    const char next = line.size() > family.size() ? line[family.size()] : '\0';
    if (next != '{' && next != ' ') continue;  // another family with this prefix
    sum += std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
  }
  return sum;
}

}  // namespace gthulhu::test
