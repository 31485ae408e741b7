// [probe] listen: off by default; when set, the main listener's bounds without TLS; a
// bad address or the main listener's port is a configuration error naming the key.
#include <gtest/gtest.h>

#include "agent/agent_config.h"

namespace gthulhu::agent {
namespace {

AgentSettings load(config::Environment env) {
  env.emplace("GTHULHU_AGENT_NODE_NAME", "node-a");
  return agent_settings(config::Config::load(agent_schema(), std::nullopt, env));
}

std::string errors_of(const config::Environment& env) {
  try {
    load(env);
  } catch (const config::ConfigError& e) {
    std::string all;
    for (const auto& m : e.errors()) all += m + "\n";
    return all;
  }
  return "";
}

TEST(AgentProbeConfig, OffByDefault) { EXPECT_FALSE(load({}).probe.has_value()); }

TEST(AgentProbeConfig, TakesTheMainListenersBoundsWithoutTls) {
  const auto s = load({{"GTHULHU_PROBE_LISTEN", ":8082"},
                       {"GTHULHU_SERVER_MAX_URL_BYTES", "4096"},
                       {"GTHULHU_SERVER_REQUEST_HEAD_TIMEOUT", "3s"},
                       {"GTHULHU_SERVER_MAX_CONNECTIONS_PER_IP", "7"}});
  ASSERT_TRUE(s.probe.has_value());
  EXPECT_EQ(s.probe->listen, ":8082");
  EXPECT_EQ(s.probe->name, "agent-probe");
  EXPECT_FALSE(s.probe->tls.has_value());
  EXPECT_EQ(s.probe->max_url_bytes, 4096u);
  EXPECT_EQ(s.probe->request_head_timeout, std::chrono::seconds(3));
  EXPECT_EQ(s.probe->max_connections_per_ip, 7u);
  EXPECT_EQ(s.probe->max_body_bytes, s.server.max_body_bytes);
  EXPECT_EQ(s.probe->connection_timeout, s.server.connection_timeout);
  EXPECT_EQ(s.probe->threads, s.server.threads);
}

TEST(AgentProbeConfig, RefusesABadAddressNamingTheKey) {
  const auto e = errors_of({{"GTHULHU_PROBE_LISTEN", "8082"}});
  EXPECT_NE(e.find("probe.listen: listen address '8082'"), std::string::npos) << e;
}

TEST(AgentProbeConfig, RefusesTheMainListenersPort) {
  const auto e = errors_of({{"GTHULHU_PROBE_LISTEN", "127.0.0.1:8080"}});
  EXPECT_NE(e.find("probe.listen must name another port than server.listen"), std::string::npos) << e;
  EXPECT_EQ(errors_of({{"GTHULHU_PROBE_LISTEN", "127.0.0.1:0"}, {"GTHULHU_SERVER_LISTEN", "127.0.0.1:0"}}), "")
      << "port 0 (any free port) on both is fine";
}

}  // namespace
}  // namespace gthulhu::agent
