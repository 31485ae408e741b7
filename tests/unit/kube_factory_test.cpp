// The [kubernetes] configuration keys and the factory that builds the pod source, the
// agent directory and the leader elector from them (nothing is contacted here).
#include <gtest/gtest.h>

#include "coordinator/kube/kube_factory.h"
#include "coordinator/kube/lease_elector.h"
#include "tests/support/temp_dir.h"

using namespace gthulhu;
using namespace gthulhu::coordinator;

namespace {

config::Config load(const std::string& ini, const config::Environment& env = {}) {
  config::Schema s;
  add_kube_config(s);
  test::TempDir dir;
  return config::Config::load(s, dir.write("c.ini", ini), env);
}

std::string kubeconfig_text() {
  return "current-context: c\n"
         "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1'}}]\n"
         "users: [{name: u, user: {token: t}}]\n"
         "contexts: [{name: c, context: {cluster: k, user: u, namespace: ops}}]\n";
}

}  // namespace

TEST(KubeFactory, OffByDefault) {
  auto cfg = load("");
  EXPECT_EQ(cfg.get_string("kubernetes.mode"), "off");
  EXPECT_EQ(cfg.get_string("kubernetes.agent_selector"), "app.kubernetes.io/name=gthulhu-agent");
  EXPECT_EQ(cfg.get_int("kubernetes.agent_port"), 8080);
  EXPECT_EQ(cfg.get_duration("kubernetes.lease_duration"), std::chrono::seconds(15));
  EXPECT_EQ(cfg.get_duration("kubernetes.lease_renew_deadline"), std::chrono::seconds(10));
  EXPECT_EQ(cfg.get_duration("kubernetes.lease_retry_period"), std::chrono::seconds(2));
  EXPECT_FALSE(make_kube_components(cfg, {}).has_value());
}

TEST(KubeFactory, KubeconfigModeBuildsAllThree) {
  test::TempDir dir;
  const auto kc = dir.write("kubeconfig", kubeconfig_text());
  auto cfg = load("[kubernetes]\nmode = kubeconfig\nkubeconfig = " + kc.string() + "\n");
  auto k = make_kube_components(cfg, {});
  ASSERT_TRUE(k.has_value());
  ASSERT_TRUE(k->pods && k->agents && k->elector);
  EXPECT_FALSE(k->pods->synced());  // not started
  EXPECT_TRUE(k->agents->agents().empty());
  EXPECT_NE(dynamic_cast<kube::LeaseElector*>(k->elector.get()), nullptr);
  EXPECT_FALSE(k->elector->leading());
}

TEST(KubeFactory, KubeconfigFromTheEnvironmentAndLeaseOff) {
  test::TempDir dir;
  const auto kc = dir.write("kubeconfig", kubeconfig_text());
  auto cfg = load("[kubernetes]\nmode = kubeconfig\nlease_enabled = false\n");
  auto k = make_kube_components(cfg, {{"KUBECONFIG", kc.string()}});
  ASSERT_TRUE(k.has_value());
  EXPECT_NE(dynamic_cast<AlwaysLeader*>(k->elector.get()), nullptr);
}

TEST(KubeFactory, ClearErrors) {
  EXPECT_THROW(
      {
        try {
          make_kube_components(load("[kubernetes]\nmode = cluster\n"), {});
        } catch (const std::invalid_argument& e) {
          EXPECT_NE(std::string(e.what()).find("off, in-cluster or kubeconfig"), std::string::npos);
          throw;
        }
      },
      std::invalid_argument);
  EXPECT_THROW(make_kube_components(load("[kubernetes]\nmode = in-cluster\n"), {}), std::runtime_error);
  test::TempDir dir;
  const auto kc = dir.write("kubeconfig", kubeconfig_text());
  EXPECT_THROW(make_kube_components(load("[kubernetes]\nmode = kubeconfig\nkubeconfig = " + kc.string() +
                                         "\nlease_renew_deadline = 20s\n"),
                                    {}),
               std::invalid_argument);
}
