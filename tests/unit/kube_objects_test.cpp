// Pod JSON -> Pod, agent endpoints from agent pods, backoff, and the lease decisions.
#include <gtest/gtest.h>

#include "coordinator/kube/backoff.h"
#include "coordinator/kube/kube_agent_directory.h"
#include "coordinator/kube/kube_pod_source.h"
#include "coordinator/kube/lease_elector.h"
#include "coordinator/kube/lease_record.h"
#include "coordinator/kube/pod_json.h"
#include "coordinator/kube/reflector.h"

using namespace gthulhu::coordinator;
using namespace gthulhu::coordinator::kube;
using namespace std::chrono_literals;

namespace {
// Abridged from a real API server's answer.
const char* kPodJson = R"({
  "kind": "Pod", "apiVersion": "v1",
  "metadata": {"name": "web-0", "namespace": "Shop", "uid": "3f1c-uid", "resourceVersion": "812",
               "creationTimestamp": "2026-12-02T10:00:00Z",
               "labels": {"app.kubernetes.io/name": "Web ", "tier": ""}},
  "spec": {"nodeName": "node-a", "containers": [{"name": "c", "image": "busybox"}]},
  "status": {"phase": "Running", "podIP": "10.1.2.3", "hostIP": "192.0.2.1"}})";

Pod agent_pod(std::string name, std::string node, std::string phase, std::string ip) {
  Pod p;
  p.uid = "uid-" + name;
  p.name = std::move(name);
  p.namespace_ = "gthulhu";
  p.node_name = std::move(node);
  p.phase = std::move(phase);
  p.pod_ip = std::move(ip);
  return p;
}
}  // namespace

TEST(PodJson, FieldsExactlyAsTheApiReturnsThem) {
  std::string problem;
  auto pod = pod_from_json(nlohmann::json::parse(kPodJson), problem);
  ASSERT_TRUE(pod) << problem;
  EXPECT_EQ(pod->uid, "3f1c-uid");
  EXPECT_EQ(pod->name, "web-0");
  EXPECT_EQ(pod->namespace_, "Shop");
  EXPECT_EQ(pod->labels.at("app.kubernetes.io/name"), "Web ");  // no trimming
  EXPECT_EQ(pod->labels.at("tier"), "");
  EXPECT_EQ(pod->node_name, "node-a");
  EXPECT_EQ(pod->phase, "Running");
  EXPECT_EQ(pod->pod_ip, "10.1.2.3");
  EXPECT_EQ(pod_creation_timestamp(nlohmann::json::parse(kPodJson)), "2026-12-02T10:00:00Z");
}

TEST(PodJson, AnUnscheduledPodHasEmptyNodeAndIp) {
  std::string problem;
  auto pod = pod_from_json(
      nlohmann::json::parse(R"({"metadata":{"name":"p","namespace":"n","uid":"u"},"spec":{},"status":{"phase":"Pending"}})"),
      problem);
  ASSERT_TRUE(pod) << problem;
  EXPECT_TRUE(pod->node_name.empty());
  EXPECT_TRUE(pod->pod_ip.empty());
  EXPECT_TRUE(pod->labels.empty());
  EXPECT_FALSE(is_schedulable(*pod));
}

TEST(PodJson, BrokenObjectsSayWhatIsWrong) {
  std::string problem;
  EXPECT_FALSE(pod_from_json(nlohmann::json::parse(R"({"metadata":{"name":"p","namespace":"n"}})"), problem));
  EXPECT_NE(problem.find("uid"), std::string::npos);
  EXPECT_FALSE(pod_from_json(
      nlohmann::json::parse(R"({"metadata":{"name":"p","namespace":"n","uid":"u","labels":{"a":1}}})"), problem));
  EXPECT_NE(problem.find("label \"a\""), std::string::npos) << problem;
  EXPECT_FALSE(pod_from_json(
      nlohmann::json::parse(R"({"metadata":{"name":"p","namespace":"n","uid":"u"},"spec":{"nodeName":7}})"), problem));
  EXPECT_NE(problem.find("spec.nodeName"), std::string::npos) << problem;
  EXPECT_FALSE(pod_from_json(nlohmann::json::array(), problem));
}

TEST(ObjectKeys, NamespacedAndClusterScoped) {
  EXPECT_EQ(object_key(nlohmann::json::parse(kPodJson)), "Shop/web-0");
  EXPECT_EQ(object_key(nlohmann::json::parse(R"({"metadata":{"name":"node-a"}})")), "node-a");
  EXPECT_EQ(object_key(nlohmann::json::parse(R"({"metadata":{}})")), "");
  EXPECT_EQ(object_resource_version(nlohmann::json::parse(kPodJson)), "812");
  EXPECT_EQ(split_key("ns/name"), std::make_pair(std::string("ns"), std::string("name")));
  EXPECT_EQ(pods_path(""), "/api/v1/pods");
  EXPECT_EQ(pods_path("web"), "/api/v1/namespaces/web/pods");
}

TEST(AgentEndpoints, OneRunningPodWithAnIpPerNode) {
  std::vector<AgentPod> pods = {
      {agent_pod("agent-a1", "node-a", "Running", "192.0.2.10"), "2026-12-02T10:00:00Z"},
      {agent_pod("agent-b1", "node-b", "Pending", ""), "2026-12-02T10:00:00Z"},
      {agent_pod("agent-c1", "node-c", "Running", ""), "2026-12-02T10:00:00Z"},  // no IP yet
      {agent_pod("agent-d1", "node-d", "Failed", "192.0.2.13"), "2026-12-02T10:00:00Z"},
      {agent_pod("agent-x", "", "Running", "192.0.2.99"), "2026-12-02T10:00:00Z"},  // unscheduled
      // A rolling update on node-e: the newer pod wins.
      {agent_pod("agent-e-old", "node-e", "Running", "192.0.2.14"), "2026-12-02T10:00:00Z"},
      {agent_pod("agent-e-new", "node-e", "Running", "192.0.2.15"), "2026-12-02T11:00:00Z"},
  };
  auto eps = agent_endpoints(pods, 9443);
  ASSERT_EQ(eps.size(), 2u);
  EXPECT_EQ(eps[0], (AgentEndpoint{"node-a", "https://node-a:9443", "192.0.2.10"}));
  EXPECT_EQ(eps[1], (AgentEndpoint{"node-e", "https://node-e:9443", "192.0.2.15"}));
}

TEST(Backoff, DoublesUpToTheCapWithJitterAndResets) {
  Backoff b(100ms, 1000ms, 42);
  std::vector<long long> bases;
  for (int i = 0; i < 6; ++i) {
    const auto base = b.base();
    const auto d = b.next();
    EXPECT_GE(d, base / 2);
    EXPECT_LE(d, base);
    bases.push_back(base.count());
  }
  EXPECT_EQ(bases, (std::vector<long long>{100, 200, 400, 800, 1000, 1000}));
  b.reset();
  EXPECT_EQ(b.base(), 100ms);
}

TEST(LeaseRecord, ReadAndWriteTheSpec) {
  auto lease = nlohmann::json::parse(R"({"metadata":{"name":"l","resourceVersion":"9"},
    "spec":{"holderIdentity":"a","leaseDurationSeconds":15,"acquireTime":"t0","renewTime":"t1","leaseTransitions":3}})");
  LeaseRecord r = lease_record_of(lease);
  EXPECT_EQ(r, (LeaseRecord{"a", 15, "t0", "t1", 3}));
  set_lease_record(lease, released_lease_record(r, "t2"));
  EXPECT_FALSE(lease["spec"].contains("holderIdentity"));
  EXPECT_EQ(lease["spec"]["leaseDurationSeconds"], 1);
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 3);
  EXPECT_EQ(lease["metadata"]["resourceVersion"], "9");  // kept for the conditional PUT
  auto fresh = new_lease_object("ns", "l", LeaseRecord{"me", 15, "t", "t", 0});
  EXPECT_EQ(fresh["kind"], "Lease");
  EXPECT_EQ(fresh["metadata"]["namespace"], "ns");
  EXPECT_EQ(fresh["spec"]["holderIdentity"], "me");
}

TEST(LeaseRecord, Decisions) {
  const LeaseRecord theirs{"other", 15, "t0", "t1", 2};
  const LeaseRecord mine{"me", 15, "t0", "t1", 2};
  const LeaseRecord released{"", 1, "t2", "t2", 2};
  EXPECT_EQ(decide_lease(std::nullopt, "me", false), LeaseDecision::Create);
  EXPECT_EQ(decide_lease(theirs, "me", false), LeaseDecision::HeldByOther);
  EXPECT_EQ(decide_lease(theirs, "me", true), LeaseDecision::Acquire);
  EXPECT_EQ(decide_lease(mine, "me", false), LeaseDecision::Renew);
  EXPECT_EQ(decide_lease(released, "me", false), LeaseDecision::Acquire);  // at once

  // Taking over bumps transitions and sets acquireTime; renewing keeps both.
  EXPECT_EQ(next_lease_record(theirs, LeaseDecision::Acquire, "me", 15s, "t9"),
            (LeaseRecord{"me", 15, "t9", "t9", 3}));
  EXPECT_EQ(next_lease_record(mine, LeaseDecision::Renew, "me", 15s, "t9"),
            (LeaseRecord{"me", 15, "t0", "t9", 2}));
  EXPECT_EQ(next_lease_record(std::nullopt, LeaseDecision::Create, "me", 15s, "t9"),
            (LeaseRecord{"me", 15, "t9", "t9", 0}));
}

TEST(LeaseRecord, ExpiryIsMeasuredOnOurClockFromTheLastObservedChange) {
  const auto t0 = std::chrono::steady_clock::now();
  const LeaseRecord r{"other", 15, "", "", 0};
  EXPECT_FALSE(lease_expired(r, t0, t0 + 14s));
  EXPECT_TRUE(lease_expired(r, t0, t0 + 15s));
}

TEST(LeaseRecord, MicroTimeFormat) {
  const auto t = std::chrono::system_clock::time_point(std::chrono::microseconds(1764669845123456LL));
  EXPECT_EQ(micro_time(t), "2025-12-02T10:04:05.123456Z");
}

TEST(LeaseElectorOptions, TimingsMustBeOrdered) {
  LeaseElectorOptions o;
  o.namespace_ = "ns";
  EXPECT_NO_THROW(validate_lease_timing(o));
  o.renew_deadline = 20s;
  EXPECT_THROW(validate_lease_timing(o), std::invalid_argument);
  o.renew_deadline = 1s;
  EXPECT_THROW(validate_lease_timing(o), std::invalid_argument);  // retry 2s > deadline
  o = {};
  EXPECT_THROW(validate_lease_timing(o), std::invalid_argument);  // no namespace
  const auto id = default_lease_identity();
  EXPECT_NE(id.find('_'), std::string::npos);
  EXPECT_NE(id, default_lease_identity());
}
