// KubeAgentDirectory against a real API server: agent DaemonSet pods (by namespace and
// label selector) become one endpoint per node once Running with an IP; agents that
// come and go notify listeners.
#include <gtest/gtest.h>

#include "coordinator/kube/kube_agent_directory.h"
#include "tests/kube/kube_fixture.h"

using namespace gthulhu;
using namespace gthulhu::test::kube;
using gthulhu::test::eventually;
using namespace std::chrono_literals;
using coordinator::AgentEndpoint;
using coordinator::kube::KubeAgentDirectory;
using coordinator::kube::KubeAgentDirectoryOptions;

namespace {
const std::map<std::string, std::string> kAgentLabels = {{"app.kubernetes.io/name", "gthulhu-agent"}};
}  // namespace

TEST(KubeAgentDirectory, FollowsTheAgentPods) {
  KUBE_TEST_SETUP(server, ns, "agents");
  create_pod(*server, ns, "agent-a", kAgentLabels, "node-a");
  set_pod_status(*server, ns, "agent-a", "Running", "127.0.0.11");
  create_pod(*server, ns, "not-an-agent", {{"app", "web"}}, "node-z");
  set_pod_status(*server, ns, "not-an-agent", "Running", "127.0.0.99");

  KubeAgentDirectoryOptions o;
  o.namespace_ = ns;
  o.port = 9443;
  o.reflector = fast_reflector();
  KubeAgentDirectory dir(credentials(*server), client_options(), o);
  ListenerCounter notified;
  dir.subscribe(std::ref(notified));
  dir.start();
  ASSERT_TRUE(eventually([&] { return dir.agents().size() == 1; }, 10s));
  EXPECT_EQ(dir.agents()[0], (AgentEndpoint{"node-a", "https://node-a:9443", "127.0.0.11"}));
  EXPECT_GE(notified.count(), 1);

  // A new agent counts only once Running with an IP.
  int seen = notified.count();
  const auto pending = create_pod(*server, ns, "agent-b", kAgentLabels, "node-b");  // Pending
  const long long pending_rv = std::stoll(pending["metadata"]["resourceVersion"].get<std::string>());
  ASSERT_TRUE(eventually([&] { return std::stoll(dir.reflector().resource_version()) >= pending_rv; }, 10s));
  EXPECT_EQ(dir.agents().size(), 1u);
  set_pod_status(*server, ns, "agent-b", "Running", "127.0.0.12");
  ASSERT_TRUE(eventually([&] { return dir.agents().size() == 2; }, 10s));
  EXPECT_EQ(dir.agents()[1], (AgentEndpoint{"node-b", "https://node-b:9443", "127.0.0.12"}));
  EXPECT_GT(notified.count(), seen);

  // An agent going away (node drained) is noticed.
  seen = notified.count();
  delete_pod(*server, ns, "agent-a");
  ASSERT_TRUE(eventually([&] { return dir.agents().size() == 1; }, 10s));
  EXPECT_EQ(dir.agents()[0].node, "node-b");
  EXPECT_GT(notified.count(), seen);

  // Losing the label removes it as well.
  set_pod_labels(*server, ns, "agent-b", {{"app.kubernetes.io/name", nullptr}});
  EXPECT_TRUE(eventually([&] { return dir.agents().empty(); }, 10s));
}
