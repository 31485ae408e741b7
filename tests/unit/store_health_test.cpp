// /health's store status comes from a background check (coordinator/store/store_health.h),
// not a ping per request: failures and recovery are seen within an interval, the answer
// says how old it is, and an answer older than stale_after is not trusted.
#include "coordinator/store/store_health.h"

#include <gtest/gtest.h>

#include "coordinator/store/sqlite_store.h"
#include "coordinator/store/store_factory.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/coordinator_harness.h"

namespace gthulhu::coordinator {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Polls current() until `want` holds or 10 s pass.
bool wait_until(const StoreHealthMonitor& m, const std::function<bool(const StoreHealth&)>& want) {
  const auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline) {
    if (want(m.current())) return true;
    m.wait_for_check(100ms);
  }
  return want(m.current());
}

TEST(StoreHealth, ReportsFailureAndRecoveryFromTheBackgroundCheck) {
  test::TempDir dir;
  SqliteStore store({dir.path() / "coordinator.db"});  // not migrated: ping fails
  StoreHealthMonitor monitor(store, {20ms, 5000ms});
  EXPECT_FALSE(monitor.current().checked);
  EXPECT_FALSE(monitor.current().ok);
  monitor.start();
  ASSERT_TRUE(wait_until(monitor, [](const StoreHealth& h) { return h.checked; }));
  StoreHealth failing = monitor.current();
  EXPECT_FALSE(failing.ok);
  EXPECT_FALSE(failing.error.empty());

  ASSERT_TRUE(store.migrate().ok());
  ASSERT_TRUE(wait_until(monitor, [](const StoreHealth& h) { return h.ok; }));
  EXPECT_TRUE(monitor.current().error.empty());
  EXPECT_LT(monitor.current().age, 5000ms);
  monitor.stop();
  monitor.stop();  // twice is fine
}

TEST(StoreHealth, AnAnswerOlderThanStaleAfterIsNotTrusted) {
  test::TempDir dir;
  SqliteStore store({dir.path() / "coordinator.db"});
  ASSERT_TRUE(store.migrate().ok());
  // One ping, then none for an hour: answers are the cached check, so they go stale.
  StoreHealthMonitor monitor(store, {std::chrono::hours(1), 200ms});
  monitor.start();
  ASSERT_TRUE(wait_until(monitor, [](const StoreHealth& h) { return h.ok; }));
  ASSERT_TRUE(wait_until(monitor, [](const StoreHealth& h) { return !h.ok; }));
  StoreHealth stale = monitor.current();
  EXPECT_TRUE(stale.checked);
  EXPECT_GE(stale.age, 200ms);
  EXPECT_NE(stale.error.find("not answering"), std::string::npos) << stale.error;
}

TEST(StoreHealth, HealthEndpointSaysHowOldTheStoreCheckIs) {
  test::CoordinatorHarness h;
  auto r = h.call("GET", "/health");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.body["store"]["ok"], true);
  ASSERT_TRUE(r.body["store"].contains("checkedAgoMs")) << r;
  EXPECT_GE(r.body["store"]["checkedAgoMs"].get<long>(), 0);
  EXPECT_LT(r.body["store"]["checkedAgoMs"].get<long>(), 5000);
  EXPECT_TRUE(r.body["store"].contains("pingMs"));
}

// store.health_interval / store.health_stale_after: the defaults, a configured pair, and
// refusals that name the key.
config::Config health_config(config::Environment env) {
  return config::Config::load(App::schema(), std::nullopt, env);
}

TEST(StoreHealthConfig, DefaultsAreOneAndFiveSeconds) {
  const auto o = store_health_options(health_config({}));
  EXPECT_EQ(o.interval, 1000ms);
  EXPECT_EQ(o.stale_after, 5000ms);
  const auto set = store_health_options(
      health_config({{"GTHULHU_STORE_HEALTH_INTERVAL", "250ms"}, {"GTHULHU_STORE_HEALTH_STALE_AFTER", "2s"}}));
  EXPECT_EQ(set.interval, 250ms);
  EXPECT_EQ(set.stale_after, 2000ms);
}

TEST(StoreHealthConfig, RefusalsNameTheKey) {
  auto message = [](config::Environment env) -> std::string {
    try {
      (void)store_health_options(health_config(std::move(env)));
    } catch (const config::ConfigError& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_NE(message({{"GTHULHU_STORE_HEALTH_INTERVAL", "10ms"}}).find("store.health_interval must be between"),
            std::string::npos);
  EXPECT_NE(message({{"GTHULHU_STORE_HEALTH_INTERVAL", "10s"}}).find("store.health_stale_after"),
            std::string::npos)
      << "a 10 s interval is above the default 5 s staleness bound";
  try {
    (void)store_cache_ttl(health_config({{"GTHULHU_STORE_CACHE_TTL", "1h"}}));
    ADD_FAILURE() << "accepted a 1 h cache TTL";
  } catch (const config::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("store.cache_ttl"), std::string::npos) << e.what();
  }
  EXPECT_EQ(message({{"GTHULHU_STORE_HEALTH_INTERVAL", "10s"}, {"GTHULHU_STORE_HEALTH_STALE_AFTER", "30s"}}),
            "accepted");
  // The App refuses them at construction, before anything starts.
  test::TempDir dir;
  config::Environment env = {{"GTHULHU_STORE_HEALTH_STALE_AFTER", "500ms"},
                             {"GTHULHU_SQLITE_PATH", (dir.path() / "c.db").string()},
                             {"GTHULHU_AUTH_PRIVATE_KEY", test::rsa_key_pair().private_key_pem}};
  try {
    App app(health_config(env));
    ADD_FAILURE() << "accepted a staleness bound below the interval";
  } catch (const config::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("store.health_stale_after"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gthulhu::coordinator
