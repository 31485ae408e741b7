// Two real gthulhu-coordinator processes on one store and one real kube-apiserver, with
// a real gthulhu-agent (a simulated node) found from its agent pod: only the Lease
// holder pushes, and after `kill -9` of the holder (no release: the Lease must expire)
// the other replica pushes the next change within the lease duration.
#include <gtest/gtest.h>

#include <chrono>

#include "tests/kube/kube_fixture.h"
#include "tests/support/loopback.h"
#include "tests/support/product_processes.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace gthulhu::test::kube {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kPassword = "correct horse battery staple";
constexpr auto kLeaseDuration = 3s;

struct Replica {
  std::string identity;
  uint16_t port = free_loopback_port();
  std::unique_ptr<ServiceProcess> process;
  std::unique_ptr<CoordinatorClient> api;
};

std::string lease_holder(KubeApiServer& server, const std::string& ns) {
  auto lease = server.request_json(
      "GET", "/apis/coordination.k8s.io/v1/namespaces/" + ns + "/leases/gthulhu-coordinator");
  if (!lease) return "";
  return lease->value("/spec/holderIdentity"_json_pointer, std::string());
}

TEST(CoordinatorReplicas, OnlyTheLeaseHolderPushesAndKillNineHandsOverWithinTheLease) {
  KUBE_TEST_SETUP(server, ns, "replicas");
  TempDir dir;
  const Pki pki = make_pki(GTHULHU_SOURCE_DIR, dir.path() / "certs", {"node-a"});
  const fs::path key = dir.write("token.key", rsa_key_pair().private_key_pem);

  const json pod = create_pod(*server, ns, "prom-0", {{"app", "prometheus"}}, "node-a");
  ASSERT_TRUE(pod.is_object());
  set_pod_status(*server, ns, "prom-0", "Running", "10.0.0.5");
  const SimNode node{"node-a", free_loopback_port(), {pod["metadata"]["uid"].get<std::string>()}};
  auto agent = sim_agent_process(GTHULHU_AGENT_BINARY, dir.path() / "node-a", node, pki, key);
  agent->start();
  create_pod(*server, ns, "agent-node-a", {{"app.kubernetes.io/name", "gthulhu-agent"}}, "node-a");
  set_pod_status(*server, ns, "agent-node-a", "Running", "127.0.0.1");

  std::vector<Replica> replicas(2);
  for (size_t i = 0; i < replicas.size(); i++) {
    Replica& r = replicas[i];
    r.identity = std::string("replica-") + char('a' + i);
    auto env = coordinator_env(r.port, dir.path() / "coordinator.db", key, pki, kPassword);
    env["GTHULHU_PODS_INVENTORY_FILE"] = "";
    env["GTHULHU_KUBERNETES_MODE"] = "kubeconfig";
    env["GTHULHU_KUBERNETES_KUBECONFIG"] = server->kubeconfig().string();
    env["GTHULHU_KUBERNETES_POD_NAMESPACE"] = ns;
    env["GTHULHU_KUBERNETES_AGENT_NAMESPACE"] = ns;
    env["GTHULHU_KUBERNETES_AGENT_PORT"] = std::to_string(node.port);
    env["GTHULHU_KUBERNETES_LEASE_NAMESPACE"] = ns;
    env["GTHULHU_KUBERNETES_LEASE_DURATION"] = "3s";
    env["GTHULHU_KUBERNETES_LEASE_RENEW_DEADLINE"] = "2s";
    env["GTHULHU_KUBERNETES_LEASE_RETRY_PERIOD"] = "300ms";
    env["GTHULHU_KUBERNETES_LEASE_IDENTITY"] = r.identity;
    r.process = std::make_unique<ServiceProcess>(GTHULHU_COORDINATOR_BINARY, env,
                                                 dir.path() / (r.identity + ".log"));
    r.process->start();
    r.api = std::make_unique<CoordinatorClient>(r.port, kPassword);
    // One after the other: two processes creating one new SQLite file at the same
    // moment can see "database is locked" while it switches to WAL (replicas of a real
    // deployment share MongoDB, not a file).
    ASSERT_TRUE(eventually([&] { return r.api->login(); }, 60s)) << r.process->log_tail();
  }
  std::string holder;
  ASSERT_TRUE(eventually([&] { return !(holder = lease_holder(*server, ns)).empty(); }, 20s));
  Replica& leader = holder == replicas[0].identity ? replicas[0] : replicas[1];
  Replica& follower = &leader == &replicas[0] ? replicas[1] : replicas[0];
  ASSERT_EQ(leader.identity, holder);
  EXPECT_EQ(leader.api->metric_sum("gthulhu_coordinator_leader"), 1);
  EXPECT_EQ(follower.api->metric_sum("gthulhu_coordinator_leader"), 0);

  // A strategy written through the follower is planned and pushed by the leader alone.
  auto created = follower.api->call(
      "POST", "/api/v1/strategies",
      json{{"labelSelectors", {{{"key", "app"}, {"value", "prometheus"}}}}, {"priority", 4}});
  ASSERT_TRUE(created.is_object() && created.value("success", false)) << created.dump();
  const std::string sid = created["data"]["strategy"]["id"];
  const json applied = {{"node-a", "Applied"}};
  ASSERT_TRUE(eventually([&] { return follower.api->intent_states() == applied; }, 30s))
      << follower.api->intent_states().dump() << leader.process->log_tail();
  EXPECT_GT(leader.api->metric_sum("gthulhu_coordinator_agent_pushes_total"), 0);
  EXPECT_EQ(follower.api->metric_sum("gthulhu_coordinator_agent_pushes_total"), 0)
      << "a replica that does not hold the Lease pushed to an agent";
  const double generation = leader.api->node("node-a").value("ackedGeneration", 0.0);

  // kill -9: the Lease is not released; the follower may take it only once it expired,
  // and then pushes the change made meanwhile (through the follower's own REST API).
  leader.process->kill9();
  const auto killed = std::chrono::steady_clock::now();
  auto up = follower.api->call("PUT", "/api/v1/strategies", json{{"strategyId", sid}, {"priority", 6}});
  ASSERT_TRUE(up.is_object() && up.value("success", false)) << up.dump();
  ASSERT_TRUE(eventually([&] { return lease_holder(*server, ns) == follower.identity; }, 15s))
      << follower.process->log_tail();
  const auto took_over = std::chrono::steady_clock::now() - killed;
  ASSERT_TRUE(eventually([&] {
    auto n = follower.api->node("node-a");
    return n.is_object() && n.value("ackedGeneration", 0.0) > generation &&
           follower.api->intent_states() == applied;
  }, 15s)) << follower.api->node("node-a").dump() << follower.process->log_tail();
  const auto pushed = std::chrono::steady_clock::now() - killed;
  EXPECT_GT(follower.api->metric_sum("gthulhu_coordinator_agent_pushes_total"), 0);
  const auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  std::printf("kill -9 of the leader: Lease taken over after %lld ms, change applied after %lld ms "
              "(lease duration %lld ms)\n", static_cast<long long>(ms(took_over)),
              static_cast<long long>(ms(pushed)), static_cast<long long>(ms(kLeaseDuration)));
  // Within the lease duration plus one retry period and the push itself (slack for a
  // loaded machine); never before the lease could have expired on the follower's clock.
  EXPECT_LE(took_over, kLeaseDuration + 3s);
  EXPECT_GE(took_over, kLeaseDuration - 1s) << "the Lease of a dead leader was taken before it expired";
}

}  // namespace
}  // namespace gthulhu::test::kube
