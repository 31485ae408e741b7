// /health's store status comes from a background check (coordinator/store/store_health.h),
// not a ping per request: failures and recovery are seen within an interval, the answer
// says how old it is, and an answer older than stale_after is not trusted.
#include "coordinator/store/store_health.h"

#include <gtest/gtest.h>

#include "coordinator/store/sqlite_store.h"
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

}  // namespace
}  // namespace gthulhu::coordinator
