// The control loop with every piece a real process: the gthulhu-coordinator binary and
// two gthulhu-agent binaries as simulated nodes (no root or BPF needed), over mTLS with
// certificates made by scripts/gen-certs.sh, driven through the REST API as a user.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/loopback.h"
#include "tests/support/product_processes.h"
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

class Processes : public ::testing::Test {
 protected:
  void SetUp() override {
    pki = make_pki(GTHULHU_SOURCE_DIR, dir.path() / "certs", {"node-a", "node-b"});
    const fs::path key_file = dir.write("token.key", rsa_key_pair().private_key_pem);
    const std::vector<SimNode> nodes = {{"node-a", free_loopback_port(), {kPodA}},
                                        {"node-b", free_loopback_port(), {kPodB}}};
    for (const auto& n : nodes) {
      agents[n.node] = sim_agent_process(GTHULHU_AGENT_BINARY, dir.path() / n.node, n, pki, key_file);
      agents[n.node]->start();
    }
    const json inventory = {{"pods",
                             {{{"uid", kPodA}, {"name", "prom-a"}, {"namespace", "mon"},
                               {"labels", {{"app", "prometheus"}}}, {"nodeName", "node-a"}, {"phase", "Running"}},
                              {{"uid", kPodB}, {"name", "prom-b"}, {"namespace", "mon"},
                               {"labels", {{"app", "prometheus"}}}, {"nodeName", "node-b"}, {"phase", "Running"}}}}};
    auto env = coordinator_env(coordinator_port, dir.path() / "coordinator.db", key_file, pki, kPassword);
    env["GTHULHU_PODS_INVENTORY_FILE"] = dir.write("inventory.json", inventory.dump()).string();
    env["GTHULHU_AGENTS_STATIC"] = static_agent_table(nodes);
    coordinator = std::make_unique<ServiceProcess>(GTHULHU_COORDINATOR_BINARY, env, dir.path() / "coordinator.log");
    coordinator->start();
    ASSERT_TRUE(eventually([&] { return api.login(); })) << coordinator->log_tail();
  }

  json call(const std::string& method, const std::string& path, const json& body = nullptr) {
    return api.call(method, path, body);
  }
  json states() { return api.intent_states(); }
  json node(const std::string& name) { return api.node(name); }
  std::string logs() {
    return "coordinator:\n" + coordinator->log_tail() + "\nnode-a:\n" + agents["node-a"]->log_tail() +
           "\nnode-b:\n" + agents["node-b"]->log_tail();
  }

  TempDir dir;
  Pki pki;
  std::map<std::string, std::unique_ptr<ServiceProcess>> agents;
  std::unique_ptr<ServiceProcess> coordinator;
  uint16_t coordinator_port = free_loopback_port();
  CoordinatorClient api{coordinator_port, kPassword};
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
  ASSERT_TRUE(eventually([&] { return api.login(); })) << coordinator->log_tail();
  ASSERT_TRUE(eventually([&] { return node("node-a")["ackedGeneration"] == gen_a; })) << node("node-a").dump();
  ASSERT_TRUE(call("PUT", "/api/v1/strategies", json{{"strategyId", id}, {"priority", 9}})["success"].get<bool>());
  EXPECT_TRUE(eventually([&] { return node("node-a")["ackedGeneration"] == gen_a + 1; })) << node("node-a").dump();
  EXPECT_TRUE(eventually([&] { return states() == applied; })) << states().dump();
}

}  // namespace
}  // namespace gthulhu::test
