// LoginThrottle: failures count per (username, address); after the free ones a
// doubling delay refuses that pair only; success and time forget it.
#include "coordinator/auth/login_throttle.h"

#include <gtest/gtest.h>

using namespace gthulhu::coordinator;
using namespace std::chrono_literals;

namespace {
struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  SteadyClock fn() {
    return [this] { return now; };
  }
};
LoginThrottleOptions opts() {
  LoginThrottleOptions o;
  o.free_failures = 2;
  o.base_delay = 1s;
  o.max_delay = 8s;
  o.forget_after = 60s;
  o.max_entries = 3;
  return o;
}
}  // namespace

TEST(LoginThrottle, DelaysDoubleAfterTheFreeFailuresUpToTheCap) {
  FakeClock clock;
  LoginThrottle t(opts(), clock.fn());
  t.record_failure("admin", "10.0.0.1");
  t.record_failure("admin", "10.0.0.1");
  EXPECT_TRUE(t.check("admin", "10.0.0.1").allowed);
  std::vector<long> delays;
  for (int i = 0; i < 5; ++i) {
    t.record_failure("admin", "10.0.0.1");
    auto d = t.check("admin", "10.0.0.1");
    EXPECT_FALSE(d.allowed);
    delays.push_back(d.retry_after.count());
    clock.now += d.retry_after;
    EXPECT_TRUE(t.check("admin", "10.0.0.1").allowed);
  }
  EXPECT_EQ(delays, (std::vector<long>{1, 2, 4, 8, 8}));
}

TEST(LoginThrottle, OtherAddressesAndUsersAreNeverDelayed) {
  FakeClock clock;
  LoginThrottle t(opts(), clock.fn());
  for (int i = 0; i < 10; ++i) t.record_failure("admin", "attacker");
  EXPECT_FALSE(t.check("admin", "attacker").allowed);
  EXPECT_TRUE(t.check("admin", "admin-desk").allowed);
  EXPECT_TRUE(t.check("someone", "attacker").allowed);
}

TEST(LoginThrottle, SuccessAndQuietTimeForget) {
  FakeClock clock;
  LoginThrottle t(opts(), clock.fn());
  for (int i = 0; i < 4; ++i) t.record_failure("u", "a");
  t.record_success("u", "a");
  EXPECT_TRUE(t.check("u", "a").allowed);
  EXPECT_EQ(t.size(), 0u);
  for (int i = 0; i < 3; ++i) t.record_failure("u", "a");
  clock.now += 61s;
  EXPECT_TRUE(t.check("u", "a").allowed);
  t.record_failure("u", "a");  // counts from zero again: free
  EXPECT_TRUE(t.check("u", "a").allowed);
}

TEST(LoginThrottle, AFullTableEvictsTheOldestInsteadOfRefusingNewPairs) {
  FakeClock clock;
  LoginThrottle t(opts(), clock.fn());
  for (int i = 0; i < 5; ++i) t.record_failure("victim", "a");
  for (const char* u : {"x1", "x2", "x3", "x4"}) {
    clock.now += 1s;
    t.record_failure(u, "flood");
  }
  EXPECT_LE(t.size(), 3u);
  EXPECT_TRUE(t.check("new", "b").allowed);
}
