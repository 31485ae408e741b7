// LeaseElector against a real API server: two candidates on one Lease, exactly one
// leads; a leader that dies without releasing is replaced once the lease expires
// (never before); one that stops cleanly releases, and the other takes over at once.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "coordinator/kube/lease_elector.h"
#include "tests/kube/kube_fixture.h"

using namespace gthulhu;
using namespace gthulhu::test::kube;
using gthulhu::test::eventually;
using namespace std::chrono_literals;
using coordinator::kube::LeaseElector;
using coordinator::kube::LeaseElectorOptions;

namespace {

// Short timings so a takeover happens in seconds: duration 4 s, deadline 3 s, retry 0.5 s.
LeaseElectorOptions lease_options(const std::string& ns, const std::string& identity) {
  LeaseElectorOptions o;
  o.namespace_ = ns;
  o.name = "coordinator";
  o.identity = identity;
  o.lease_duration = 4s;
  o.renew_deadline = 3000ms;
  o.retry_period = 500ms;
  return o;
}

struct Candidate {
  std::unique_ptr<LeaseElector> elector;
  std::atomic<int> became_leader{0};
  std::atomic<int> stopped_leading{0};

  Candidate(test::KubeApiServer& s, const std::string& ns, const std::string& id)
      : elector(std::make_unique<LeaseElector>(credentials(s), client_options(), lease_options(ns, id))) {}
  void start() {
    elector->start([this](bool leading) { (leading ? became_leader : stopped_leading)++; });
  }
};

long long ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
}

nlohmann::json read_lease(test::KubeApiServer& s, const std::string& ns) {
  return s.request_json("GET", "/apis/coordination.k8s.io/v1/namespaces/" + ns + "/leases/coordinator")
      .value_or(nullptr);
}

}  // namespace

TEST(LeaseElector, ExactlyOneOfTwoLeads) {
  KUBE_TEST_SETUP(server, ns, "lease-one");
  Candidate a(*server, ns, "replica-a"), b(*server, ns, "replica-b");
  a.start();
  b.start();
  ASSERT_TRUE(eventually([&] { return a.elector->leading() || b.elector->leading(); }, 10s));
  // Over several lease renewals, never both and never neither.
  const auto until = std::chrono::steady_clock::now() + 3s;
  int samples = 0;
  while (std::chrono::steady_clock::now() < until) {
    const int leaders = int(a.elector->leading()) + int(b.elector->leading());
    ASSERT_EQ(leaders, 1) << "after " << samples << " samples";
    ++samples;
    std::this_thread::sleep_for(20ms);
  }
  Candidate& leader = a.elector->leading() ? a : b;
  Candidate& follower = a.elector->leading() ? b : a;
  EXPECT_EQ(leader.became_leader, 1);
  EXPECT_EQ(follower.became_leader, 0);
  const auto lease = read_lease(*server, ns);
  EXPECT_EQ(lease["spec"]["holderIdentity"], leader.elector->identity());
  EXPECT_EQ(lease["spec"]["leaseDurationSeconds"], 4);
}

TEST(LeaseElector, ALeaderThatDiesIsReplacedOnlyAfterTheLeaseExpires) {
  KUBE_TEST_SETUP(server, ns, "lease-kill");
  Candidate a(*server, ns, "replica-a");
  a.start();
  ASSERT_TRUE(eventually([&] { return a.elector->leading(); }, 10s));
  Candidate b(*server, ns, "replica-b");
  b.start();
  std::this_thread::sleep_for(1500ms);  // b has watched a renew a few times
  ASSERT_FALSE(b.elector->leading());
  const auto transitions = read_lease(*server, ns)["spec"].value("leaseTransitions", -1);

  const auto t0 = std::chrono::steady_clock::now();
  a.elector->abandon();  // as kill -9: no release
  ASSERT_TRUE(eventually([&] { return b.elector->leading(); }, 10s));
  const long long took = ms_since(t0);
  std::printf("[ figure   ] takeover after a leader died: %lld ms (lease duration 4000 ms, retry 500 ms)\n", took);
  // Not before the lease expired (a's last renewal was at most one retry period before
  // the kill), and not much after.
  EXPECT_GE(took, 4000 - 2 * 500);
  EXPECT_LE(took, 4000 + 2 * 600 + 500);
  const auto lease = read_lease(*server, ns);
  EXPECT_EQ(lease["spec"]["holderIdentity"], "replica-b");
  EXPECT_EQ(lease["spec"].value("leaseTransitions", -1), transitions + 1);
  EXPECT_EQ(a.stopped_leading, 0) << "an abandoned elector calls nothing";
}

TEST(LeaseElector, ALeaderThatStopsReleasesAndTheOtherTakesOverAtOnce) {
  KUBE_TEST_SETUP(server, ns, "lease-release");
  Candidate a(*server, ns, "replica-a");
  a.start();
  ASSERT_TRUE(eventually([&] { return a.elector->leading(); }, 10s));
  Candidate b(*server, ns, "replica-b");
  b.start();
  std::this_thread::sleep_for(1000ms);
  ASSERT_FALSE(b.elector->leading());

  const auto t0 = std::chrono::steady_clock::now();
  a.elector->stop();
  EXPECT_FALSE(a.elector->leading());
  EXPECT_EQ(a.stopped_leading, 1);
  ASSERT_TRUE(eventually([&] { return b.elector->leading(); }, 10s));
  const long long took = ms_since(t0);
  std::printf("[ figure   ] takeover after a release: %lld ms\n", took);
  EXPECT_LT(took, 1500) << "a released lease should be taken at the next retry";
  EXPECT_EQ(read_lease(*server, ns)["spec"]["holderIdentity"], "replica-b");
}

TEST(LeaseElector, ALeaderThatCannotRenewStepsDown) {
  KUBE_TEST_SETUP(server, ns, "lease-deadline");
  Candidate a(*server, ns, "replica-a");
  a.start();
  ASSERT_TRUE(eventually([&] { return a.elector->leading(); }, 10s));
  const auto t0 = std::chrono::steady_clock::now();
  server->pause_apiserver();
  const bool stepped_down = eventually([&] { return !a.elector->leading(); }, 10s);
  const long long took = ms_since(t0);
  server->resume_apiserver();
  ASSERT_TRUE(stepped_down);
  std::printf("[ figure   ] step-down without renewals: %lld ms (renew deadline 3000 ms)\n", took);
  EXPECT_LT(took, 4000) << "must stop leading before others may take over";
  EXPECT_EQ(a.stopped_leading, 1);
  // It campaigns again and, alone, leads again.
  EXPECT_TRUE(eventually([&] { return a.elector->leading(); }, 15s));
}
