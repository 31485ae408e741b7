// The agent's configuration as its daemon sees it: server threading and limits.
#include <gtest/gtest.h>

#include "agent/agent_config.h"
#include "common/config/config.h"
#include "tests/support/temp_dir.h"

namespace gthulhu::agent {
namespace {

TEST(AgentSettings, ServesEachConnectionOnItsOwnThread) {
  // The results long poll blocks its handler; a pool would stall connections beside it.
  auto cfg = config::Config::load(agent_schema(), std::nullopt, {{"GTHULHU_AGENT_NODE_NAME", "n1"}});
  auto s = agent_settings(cfg);
  EXPECT_TRUE(s.server.thread_per_connection);
  EXPECT_EQ(s.server.max_connections, 256u);
  EXPECT_EQ(s.server.max_connections_per_ip, 32u);
}

TEST(AgentSettings, HasNoThreadPoolKey) {
  test::TempDir dir;
  const auto file = dir.write("agent.ini", "[server]\nthreads = 4\n");
  try {
    config::Config::load(agent_schema(), file, {});
    FAIL() << "server.threads must be refused: the agent has no thread pool";
  } catch (const config::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("threads"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gthulhu::agent
