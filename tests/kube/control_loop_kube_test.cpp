// The control loop against a real kube-apiserver: pods created and deleted in the API
// server reach a real agent (a simulated node over mTLS, found from its own agent pod),
// and two coordinator replicas on one store elect one leader with a Lease.
#include <gtest/gtest.h>

#include "coordinator/dispatch/control_loop.h"
#include "tests/kube/kube_fixture.h"
#include "tests/support/sim_agent.h"
#include "tests/unit/coordinator_harness.h"

namespace gthulhu::test::kube {
namespace {

using namespace std::chrono_literals;
constexpr const char* kAgentLabel = "app.kubernetes.io/name";

class KubeControlLoop : public ::testing::Test {
 protected:
  // A coordinator replica watching `ns`, finding agents there, campaigning on a Lease.
  std::unique_ptr<CoordinatorHarness> replica(KubeApiServer& server, const std::string& ns, SimAgent& agent,
                                              const std::string& identity) {
    auto env = coordinator_agent_env({&agent});
    env.erase("GTHULHU_AGENTS_STATIC");
    env["GTHULHU_PODS_INVENTORY_FILE"] = "";
    env["GTHULHU_SQLITE_PATH"] = (db.path() / "coordinator.db").string();
    env["GTHULHU_KUBERNETES_MODE"] = "kubeconfig";
    env["GTHULHU_KUBERNETES_KUBECONFIG"] = server.kubeconfig().string();
    env["GTHULHU_KUBERNETES_POD_NAMESPACE"] = ns;
    env["GTHULHU_KUBERNETES_AGENT_NAMESPACE"] = ns;
    env["GTHULHU_KUBERNETES_AGENT_PORT"] = std::to_string(agent.port());
    env["GTHULHU_KUBERNETES_LEASE_NAMESPACE"] = ns;
    env["GTHULHU_KUBERNETES_LEASE_DURATION"] = "3s";
    env["GTHULHU_KUBERNETES_LEASE_RENEW_DEADLINE"] = "2s";
    env["GTHULHU_KUBERNETES_LEASE_RETRY_PERIOD"] = "300ms";
    env["GTHULHU_KUBERNETES_LEASE_IDENTITY"] = identity;
    return std::make_unique<CoordinatorHarness>(env);
  }
  static size_t agent_intents(const SimAgent& a) { return a.intents()["intents"].size(); }
  static int agent_priority(const SimAgent& a) {
    const json held = a.intents();
    return held["intents"].empty() ? -100 : held["intents"][0]["priority"].get<int>();
  }
  static bool applied(CoordinatorHarness& c, const std::string& token, size_t n) {
    auto r = c.call("GET", "/api/v1/intents/self", nullptr, token);
    if (r.status != 200) return false;
    const json list = r.data()["intents"];
    if (list.size() != n) return false;
    for (const auto& i : list) {
      if (i["stateName"] != "Applied") return false;
    }
    return true;
  }
  TempDir db;
};

TEST_F(KubeControlLoop, PodsFromTheApiServerReachTheAgentAndOneReplicaLeads) {
  KUBE_TEST_SETUP(server, ns, "loop");
  // The workload pod's cgroup exists on the simulated node before the pod is created.
  const json made = create_pod(*server, ns, "prom-0", {{"app", "prometheus"}}, "node-a");
  ASSERT_TRUE(made.is_object());
  const std::string uid = made["metadata"]["uid"];
  SimAgent agent("node-a", {uid});
  agent.set_processes({{100, "prometheus", uid}});
  agent.start();
  create_pod(*server, ns, "agent-node-a", {{kAgentLabel, "gthulhu-agent"}}, "node-a");
  set_pod_status(*server, ns, "agent-node-a", "Running", "127.0.0.1");
  set_pod_status(*server, ns, "prom-0", "Running", "10.0.0.5");

  auto a = replica(*server, ns, agent, "replica-a");
  auto b = replica(*server, ns, agent, "replica-b");
  auto* leader = &a;
  ASSERT_TRUE(eventually([&] { return a->app().control().leading() || b->app().control().leading(); }, 15s));
  EXPECT_NE(a->app().control().leading(), b->app().control().leading()) << "exactly one replica leads";
  if (b->app().control().leading()) leader = &b;
  auto* follower = leader == &a ? &b : &a;
  const std::string token = (*follower)->admin_token();

  // A strategy created through the replica that does NOT lead: the leader plans and
  // pushes it (it sees the store change within agents.strategy_poll).
  auto created = (*follower)->call(
      "POST", "/api/v1/strategies",
      json{{"labelSelectors", {{{"key", "app"}, {"value", "prometheus"}}}}, {"priority", 4}}, token);
  ASSERT_EQ(created.status, 201) << created;
  const std::string sid = created.data()["strategy"]["id"];
  ASSERT_TRUE(eventually([&] { return applied(**follower, token, 1); }, 20s));
  EXPECT_EQ(agent_priority(agent), 4);

  // A second matching pod created in the API server gets its intent; deleting it in the
  // API server takes the intent off the agent.
  const json second = create_pod(*server, ns, "prom-1", {{"app", "prometheus"}}, "node-a");
  agent.add_pod(second["metadata"]["uid"]);
  set_pod_status(*server, ns, "prom-1", "Running", "10.0.0.6");
  ASSERT_TRUE(eventually([&] { return agent_intents(agent) == 2; }, 20s));
  ASSERT_TRUE(delete_pod(*server, ns, "prom-1"));
  ASSERT_TRUE(eventually([&] { return agent_intents(agent) == 1; }, 20s));

  // The leader goes away (a graceful stop releases the Lease; the abandoned-Lease
  // takeover is measured in lease_elector_test): the other replica takes over and
  // pushes the next change.
  leader->reset();
  ASSERT_TRUE(eventually([&] { return (*follower)->app().control().leading(); }, 10s));
  auto up = (*follower)->call("PUT", "/api/v1/strategies", json{{"strategyId", sid}, {"priority", 6}}, token);
  ASSERT_EQ(up.status, 200) << up;
  EXPECT_TRUE(eventually([&] { return agent_priority(agent) == 6; }, 10s));
  EXPECT_TRUE(eventually([&] { return applied(**follower, token, 1); }, 10s));
}

}  // namespace
}  // namespace gthulhu::test::kube
