// The control loop end to end in one process: a real coordinator (SQLite, static pod
// inventory) pushing over mTLS to real agent daemons running as simulated nodes.
// Every wait is for the state it names, with a deadline.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "coordinator/dispatch/control_loop.h"
#include "coordinator/pods/static_pod_source.h"
#include "tests/support/eventually.h"
#include "tests/support/sim_agent_pair.h"
#include "tests/unit/coordinator_harness.h"

namespace gthulhu::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using inventory::kNginx;
using inventory::kPodA;
using inventory::kPodB;

json prometheus_strategy(int priority) {
  return {{"labelSelectors", {{{"key", "app.kubernetes.io/name"}, {"value", "prometheus"}}}},
          {"priority", priority},
          {"executionTime", 4000000}};
}

class ControlLoop : public ::testing::Test {
 protected:
  void SetUp() override { start_coordinator(); }
  void start_coordinator(config::Environment extra = {}) {
    auto env = agents.coordinator_env();
    env["GTHULHU_SQLITE_PATH"] = (db.path() / "coordinator.db").string();
    for (const auto& [k, v] : extra) env[k] = v;
    coord = std::make_unique<CoordinatorHarness>(env);
    token = coord->admin_token();
  }

  json intents() {
    auto r = coord->call("GET", "/api/v1/intents/self", nullptr, token);
    EXPECT_EQ(r.status, 200) << r;
    return r.status == 200 ? r.data()["intents"] : json::array();
  }
  bool all_in_state(const std::string& state, size_t count) {
    auto list = intents();
    if (list.size() != count) return false;
    for (const auto& i : list) {
      if (i["stateName"] != state) return false;
    }
    return true;
  }
  json node(const std::string& name) {
    auto r = coord->call("GET", "/api/v1/nodes", nullptr, token);
    EXPECT_EQ(r.status, 200) << r;
    const json nodes = r.data()["nodes"];
    for (const auto& n : nodes) {
      if (n["name"] == name) return n;
    }
    return nullptr;
  }
  static std::vector<std::string> agent_intent_ids(const SimAgent& agent) {
    std::vector<std::string> ids;
    const json held = agent.intents();
    for (const auto& i : held["intents"]) ids.push_back(i["id"]);
    return ids;
  }
  static int agent_priority(const SimAgent& agent, const std::string& pod) {
    const json held = agent.intents();
    for (const auto& i : held["intents"]) {
      if (i["podID"] == pod) return i["priority"];
    }
    return -100;
  }
  std::string create(const json& body) {
    auto r = coord->call("POST", "/api/v1/strategies", body, token);
    EXPECT_EQ(r.status, 201) << r;
    return r.status == 201 ? r.data()["strategy"]["id"].get<std::string>() : "";
  }

  TempDir db;  // the store outlives a coordinator restart
  SimAgentPair agents;
  std::unique_ptr<SimAgent>& a = agents.a;
  std::unique_ptr<SimAgent>& b = agents.b;
  std::unique_ptr<CoordinatorHarness> coord;
  std::string token;
};

TEST_F(ControlLoop, StrategyReachesEveryMatchingAgentAndBecomesApplied) {
  const auto id = create(prometheus_strategy(5));
  ASSERT_TRUE(eventually([&] { return all_in_state("Applied", 2); })) << intents().dump();
  EXPECT_EQ(agent_intent_ids(*a).size(), 1u) << a->intents().dump();
  EXPECT_EQ(agent_intent_ids(*b).size(), 1u);  // nginx-0 does not match
  EXPECT_EQ(agent_priority(*a, kPodA), 5);
  EXPECT_EQ(agent_priority(*b, kPodB), 5);

  auto na = node("node-a");
  ASSERT_TRUE(na.is_object());
  EXPECT_TRUE(eventually([&] { return node("node-a")["status"] == "Degraded"; }))
      << "a simulated node has no scheduler, so its agent reports degraded: " << node("node-a").dump();
  na = node("node-a");
  EXPECT_EQ(na["ackedGeneration"], na["desiredGeneration"]);
  EXPECT_GE(na["ackedGeneration"].get<int>(), 1);
  EXPECT_EQ(na["intents"]["applied"], 1);
  EXPECT_FALSE(na["lastContact"].is_null());
  EXPECT_EQ(na["scheduler"]["state"], "simulated");

  // An update reaches both; deleting the strategy removes its intents from both.
  auto up = coord->call("PUT", "/api/v1/strategies", json{{"strategyId", id}, {"priority", 9}}, token);
  ASSERT_EQ(up.status, 200) << up;
  ASSERT_TRUE(eventually([&] { return agent_priority(*a, kPodA) == 9 && agent_priority(*b, kPodB) == 9; }));
  auto del = coord->call("DELETE", "/api/v1/strategies", json{{"strategyId", id}}, token);
  ASSERT_EQ(del.status, 200) << del;
  EXPECT_TRUE(eventually([&] { return agent_intent_ids(*a).empty() && agent_intent_ids(*b).empty(); }));
}

TEST_F(ControlLoop, APodThatGoesAwayLosesItsIntentOnItsAgent) {
  create(prometheus_strategy(3));
  ASSERT_TRUE(eventually([&] { return all_in_state("Applied", 2); })) << intents().dump();
  auto* pods = coord->app().static_pods();
  ASSERT_NE(pods, nullptr);
  auto remaining = pods->pods();
  std::erase_if(remaining, [](const coordinator::Pod& p) { return p.uid == kPodB; });
  pods->set(remaining);
  EXPECT_TRUE(eventually([&] { return agent_intent_ids(*b).empty(); }));
  EXPECT_EQ(agent_intent_ids(*a).size(), 1u);
  EXPECT_TRUE(eventually([&] { return intents().size() == 1; }));
}

TEST_F(ControlLoop, WaitingBecomesAppliedWhenTheProcessAppearsWithoutAPush) {
  json s = prometheus_strategy(4);
  s["commandRegex"] = "^redis";
  create(s);
  ASSERT_TRUE(eventually([&] { return all_in_state("Waiting", 2); })) << intents().dump();
  const auto generation = a->generation();
  a->set_processes({{100, "prometheus", kPodA}, {101, "redis-server", kPodA}});
  // The agent's results long poll carries the change: Applied on node-a within 2 s of
  // the agent seeing the process, and no new generation was pushed for it.
  ASSERT_TRUE(eventually(
      [&] {
        const json held = intents();
        for (const auto& i : held) {
          if (i["nodeID"] == "node-a") return i["stateName"] == "Applied";
        }
        return false;
      },
      5s))
      << intents().dump();
  EXPECT_EQ(a->generation(), generation);
}

TEST_F(ControlLoop, ADeadAgentDelaysNoOtherAndCatchesUpWhenItReturns) {
  const auto id = create(prometheus_strategy(2));
  ASSERT_TRUE(eventually([&] { return all_in_state("Applied", 2); }));
  b->stop();
  ASSERT_TRUE(eventually([&] { return node("node-b")["status"] == "Unreachable"; })) << node("node-b").dump();
  const auto t0 = Clock::now();
  ASSERT_EQ(coord->call("PUT", "/api/v1/strategies", json{{"strategyId", id}, {"priority", 7}}, token).status, 200);
  ASSERT_TRUE(eventually([&] { return agent_priority(*a, kPodA) == 7; }, 3s));
  const auto reach = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  EXPECT_LT(reach.count(), 2000) << "node-a waited for the dead node-b";
  auto nb = node("node-b");
  EXPECT_EQ(nb["status"], "Unreachable");
  EXPECT_NE(nb["reason"].get<std::string>(), "");
  EXPECT_GT(nb["desiredGeneration"].get<int>(), nb["ackedGeneration"].get<int>());

  b->start();  // same port, same state directory: it comes back at its old generation
  EXPECT_TRUE(eventually([&] { return agent_priority(*b, kPodB) == 7; })) << node("node-b").dump();
  EXPECT_TRUE(eventually([&] { return all_in_state("Applied", 2); })) << intents().dump();
}

TEST_F(ControlLoop, ARestartedCoordinatorResumesWithoutResending) {
  create(prometheus_strategy(6));
  ASSERT_TRUE(eventually([&] { return all_in_state("Applied", 2); }));
  const auto gen_a = a->generation();
  const auto gen_b = b->generation();
  coord.reset();
  // A fresh coordinator on the same store: it learns each agent's set, finds nothing
  // to change, and sends no new generation.
  start_coordinator();
  EXPECT_TRUE(eventually([&] { return node("node-a")["ackedGeneration"] == gen_a; }));
  EXPECT_EQ(a->generation(), gen_a);
  EXPECT_EQ(b->generation(), gen_b);
}

TEST_F(ControlLoop, AnAgentThatLostItsStateGetsEverythingBack) {
  create(prometheus_strategy(1));
  ASSERT_TRUE(eventually([&] { return all_in_state("Applied", 2); }));
  // Simulates a node whose agent state directory was wiped.
  auto fresh = std::make_unique<SimAgent>("node-b", std::vector<std::string>{kPodB, kNginx}, b->port());
  fresh->set_processes({{200, "prometheus", kPodB}});
  b->stop();
  b = std::move(fresh);
  b->start();
  EXPECT_TRUE(eventually([&] { return agent_priority(*b, kPodB) == 1; })) << node("node-b").dump();
}

// mTLS both ways: an agent serves only coordinators with a certificate from its CA,
// and the coordinator talks only to agents whose certificate names their node.
TEST_F(ControlLoop, AgentsRefuseACoordinatorWithoutItsClientCertificate) {
  const auto other = issue_client_certificate(test_pki().other_ca, "gthulhu-coordinator");
  for (const auto& [cert, key] : {std::pair<std::string, std::string>{"", ""},
                                  std::pair<std::string, std::string>{other.cert_pem, other.key_pem}}) {
    coord.reset();
    start_coordinator({{"GTHULHU_AGENTS_CLIENT_CERT", cert}, {"GTHULHU_AGENTS_CLIENT_KEY", key}});
    const auto id = create(prometheus_strategy(8));
    ASSERT_TRUE(eventually([&] {
      const auto reason = node("node-a")["reason"].get<std::string>();
      return reason.find("token refused") != std::string::npos || reason.find("SSL") != std::string::npos ||
             reason.find("TLS") != std::string::npos;
    })) << node("node-a").dump();
    EXPECT_TRUE(agent_intent_ids(*a).empty());
    auto r = coord->call("GET", "/api/v1/intents/self?strategyId=" + id, nullptr, token);
    ASSERT_EQ(r.status, 200) << r;
    const json held = r.data()["intents"];
    EXPECT_EQ(held.size(), 2u);
    for (const auto& i : held) EXPECT_NE(i["stateName"], "Applied");
  }
}

TEST_F(ControlLoop, TheCoordinatorRefusesAnAgentWhoseCertificateNamesAnotherNode) {
  b->stop();
  b->set_certificate_name("node-x");
  b->start();
  create(prometheus_strategy(8));
  ASSERT_TRUE(eventually([&] { return node("node-a")["intents"]["applied"] == 1; })) << node("node-a").dump();
  ASSERT_TRUE(eventually([&] { return node("node-b")["status"] == "Unreachable"; })) << node("node-b").dump();
  EXPECT_TRUE(agent_intent_ids(*b).empty());
}

}  // namespace
}  // namespace gthulhu::test
