// The control loop with every piece a real process: the gthulhu-coordinator binary and
// two gthulhu-agent binaries as simulated nodes (no root or BPF needed), over mTLS with
// certificates made by scripts/gen-certs.sh, driven through the REST API as a user.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/http/client.h"
#include "tests/support/child_process.h"
#include "tests/support/loopback.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace gthulhu::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kPodA = "1b1b1b1b-0000-0000-0000-000000000001";
constexpr const char* kPodB = "1b1b1b1b-0000-0000-0000-000000000002";
constexpr const char* kPassword = "correct horse battery staple";

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds deadline = 20s) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(25ms);
  }
  return condition();
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string container_path(const std::string& uid) {
  std::string u = uid;
  for (auto& c : u) {
    if (c == '-') c = '_';
  }
  return "kubepods.slice/kubepods-pod" + u + ".slice/cri-containerd-" + std::string(64, 'a') + ".scope";
}

class Processes : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string certs = (dir.path() / "certs").string();
    const std::string cmd = std::string(GTHULHU_SOURCE_DIR) + "/scripts/gen-certs.sh " + certs +
                            " node-a node-b > " + (dir.path() / "gen-certs.log").string() + " 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << slurp(dir.path() / "gen-certs.log");
    key_file = dir.write("token.key", rsa_key_pair().private_key_pem);
    for (auto [node, pod] : {std::pair{"node-a", kPodA}, std::pair{"node-b", kPodB}}) {
      ports[node] = free_loopback_port();
      const fs::path root = dir.path() / node;
      fs::create_directories(root / "cgroup" / container_path(pod));
      std::ofstream(root / "processes.json")
          << json{{"processes", {{{"pid", 100}, {"comm", "prometheus"}, {"cgroup", container_path(pod)}}}}}.dump();
      agents[node] = std::make_unique<ServiceProcess>(
          GTHULHU_AGENT_BINARY,
          std::map<std::string, std::string>{
              {"GTHULHU_AGENT_NODE_NAME", node},
              {"GTHULHU_AGENT_STATE_DIR", (root / "state").string()},
              {"GTHULHU_AGENT_CGROUP_ROOT", (root / "cgroup").string()},
              {"GTHULHU_AGENT_SIMULATE", "true"},
              {"GTHULHU_AGENT_SIM_PROCESSES", (root / "processes.json").string()},
              {"GTHULHU_AUTH_PRIVATE_KEY", key_file.string()},
              {"GTHULHU_SERVER_LISTEN", "127.0.0.1:" + std::to_string(ports[node])},
              {"GTHULHU_TLS_CERT", certs + "/agents/" + node + ".crt"},
              {"GTHULHU_TLS_KEY", certs + "/agents/" + node + ".key"},
              {"GTHULHU_TLS_CLIENT_CA", certs + "/ca.crt"},
              {"GTHULHU_LOG_LEVEL", "warn"}},
          dir.path() / (std::string(node) + ".log"));
      agents[node]->start();
    }
    const json inventory = {{"pods",
                             {{{"uid", kPodA}, {"name", "prom-a"}, {"namespace", "mon"},
                               {"labels", {{"app", "prometheus"}}}, {"nodeName", "node-a"}, {"phase", "Running"}},
                              {{"uid", kPodB}, {"name", "prom-b"}, {"namespace", "mon"},
                               {"labels", {{"app", "prometheus"}}}, {"nodeName", "node-b"}, {"phase", "Running"}}}}};
    const auto inv = dir.write("inventory.json", inventory.dump());
    coordinator_port = free_loopback_port();
    std::string table;
    for (const auto& [node, port] : ports) {
      table += (table.empty() ? "" : ",") + node + "=https://" + node + ":" + std::to_string(port) +
               "@127.0.0.1:" + std::to_string(port);
    }
    coordinator = std::make_unique<ServiceProcess>(
        GTHULHU_COORDINATOR_BINARY,
        std::map<std::string, std::string>{
            {"GTHULHU_SERVER_LISTEN", "127.0.0.1:" + std::to_string(coordinator_port)},
            {"GTHULHU_SQLITE_PATH", (dir.path() / "coordinator.db").string()},
            {"GTHULHU_AUTH_PRIVATE_KEY", key_file.string()},
            {"GTHULHU_AUTH_ARGON2_MEMORY_KIB", "64"},
            {"GTHULHU_AUTH_ARGON2_ITERATIONS", "1"},
            {"GTHULHU_ADMIN_PASSWORD", kPassword},
            {"GTHULHU_PODS_INVENTORY_FILE", inv.string()},
            {"GTHULHU_AGENTS_STATIC", table},
            {"GTHULHU_AGENTS_CA", certs + "/ca.crt"},
            {"GTHULHU_AGENTS_CLIENT_CERT", certs + "/coordinator.crt"},
            {"GTHULHU_AGENTS_CLIENT_KEY", certs + "/coordinator.key"},
            {"GTHULHU_AGENTS_PROBE_INTERVAL", "500ms"},
            {"GTHULHU_AGENTS_RETRY_MAX", "500ms"},
            {"GTHULHU_LOG_LEVEL", "warn"}},
        dir.path() / "coordinator.log");
    coordinator->start();
    ASSERT_TRUE(eventually([&] { return login(); })) << coordinator->log_tail();
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(coordinator_port) + path;
  }
  bool login() {
    http::Client c;
    auto r = c.post_json(url("/api/v1/auth/login"),
                         json{{"username", "admin@example.com"}, {"password", kPassword}}.dump());
    if (!r.ok || r.response.status != 200) return false;
    token = json::parse(r.response.body)["data"]["accessToken"];
    return true;
  }
  json call(const std::string& method, const std::string& path, const json& body = nullptr) {
    http::Client c;
    std::vector<std::string> h = {"Authorization: Bearer " + token, "Content-Type: application/json"};
    auto r = c.request(method, url(path), body.is_null() ? "" : body.dump(), h);
    if (!r.ok) return nullptr;
    auto j = json::parse(r.response.body, nullptr, false);
    return j.is_discarded() ? json(nullptr) : j;
  }
  json states() {
    auto r = call("GET", "/api/v1/intents/self");
    json out = json::object();
    if (!r.is_object() || !r.contains("data")) return out;
    for (const auto& i : r["data"]["intents"]) out[i["nodeID"].get<std::string>()] = i["stateName"];
    return out;
  }
  json node(const std::string& name) {
    auto r = call("GET", "/api/v1/nodes");
    if (!r.is_object() || !r.contains("data")) return nullptr;
    for (const auto& n : r["data"]["nodes"]) {
      if (n["name"] == name) return n;
    }
    return nullptr;
  }
  std::string logs() {
    return "coordinator:\n" + coordinator->log_tail() + "\nnode-a:\n" + agents["node-a"]->log_tail() +
           "\nnode-b:\n" + agents["node-b"]->log_tail();
  }

  TempDir dir;
  fs::path key_file;
  std::map<std::string, uint16_t> ports;
  std::map<std::string, std::unique_ptr<ServiceProcess>> agents;
  std::unique_ptr<ServiceProcess> coordinator;
  uint16_t coordinator_port = 0;
  std::string token;
};

TEST_F(Processes, StrategyAppliedThroughRealBinariesSurvivesKillNineOfEither) {
  json s = {{"labelSelectors", {{{"key", "app"}, {"value", "prometheus"}}}}, {"priority", 5}};
  auto created = call("POST", "/api/v1/strategies", s);
  ASSERT_TRUE(created.is_object() && created.value("success", false)) << created.dump() << logs();
  const std::string id = created["data"]["strategy"]["id"];
  const json applied = {{"node-a", "Applied"}, {"node-b", "Applied"}};
  ASSERT_TRUE(eventually([&] { return states() == applied; })) << states().dump() << logs();

  // kill -9 of an agent: the other one keeps being served; the dead node is shown
  // Unreachable and catches up when it is back (its intents were on its disk).
  agents["node-b"]->kill9();
  ASSERT_TRUE(eventually([&] { return node("node-b")["status"] == "Unreachable"; })) << node("node-b").dump();
  ASSERT_TRUE(call("PUT", "/api/v1/strategies", json{{"strategyId", id}, {"priority", 8}})["success"].get<bool>());
  ASSERT_TRUE(eventually([&] {
    auto n = node("node-a");
    return n["ackedGeneration"] == n["desiredGeneration"] && n["ackedGeneration"].get<int>() >= 2;
  })) << node("node-a").dump();
  agents["node-b"]->start();
  ASSERT_TRUE(eventually([&] {
    auto n = node("node-b");
    return n["status"] != "Unreachable" && n["ackedGeneration"] == n["desiredGeneration"] &&
           n["ackedGeneration"].get<int>() >= 2;
  })) << node("node-b").dump() << logs();

  // kill -9 of the coordinator: the new one resumes from the agents' generations
  // (nothing is resent) and pushes the next change as a delta.
  const int gen_a = node("node-a")["ackedGeneration"];
  coordinator->kill9();
  coordinator->start();
  ASSERT_TRUE(eventually([&] { return login(); })) << coordinator->log_tail();
  ASSERT_TRUE(eventually([&] { return node("node-a")["ackedGeneration"] == gen_a; })) << node("node-a").dump();
  ASSERT_TRUE(call("PUT", "/api/v1/strategies", json{{"strategyId", id}, {"priority", 9}})["success"].get<bool>());
  EXPECT_TRUE(eventually([&] { return node("node-a")["ackedGeneration"] == gen_a + 1; })) << node("node-a").dump();
  EXPECT_TRUE(eventually([&] { return states() == applied; })) << states().dump();
}

}  // namespace
}  // namespace gthulhu::test
