// What the web UI needs from the API besides the upstream's endpoints: the refresh
// token as an HttpOnly cookie (with the JSON body form unchanged), the dry-run preview,
// the caller's effective permissions, and pod metrics behind their provider.
#include <gtest/gtest.h>

#include "coordinator/api/pod_metrics_provider.h"
#include "coordinator/api/refresh_cookie.h"
#include "tests/unit/coordinator_harness.h"

namespace gthulhu::test {
namespace {

// "gthulhu_refresh=<token>; Path=..." -> "<token>"
std::string cookie_value(const std::string& set_cookie) {
  const std::string prefix = "gthulhu_refresh=";
  EXPECT_EQ(set_cookie.rfind(prefix, 0), 0u) << set_cookie;
  return set_cookie.substr(prefix.size(), set_cookie.find(';') - prefix.size());
}

Reply login_with_cookie(CoordinatorHarness& h) {
  return h.call("POST", "/api/v1/auth/login",
                json{{"username", kAdminUser}, {"password", kAdminPassword}, {"refreshTokenCookie", true}});
}

Reply post_with_cookie(CoordinatorHarness& h, const std::string& path, const std::string& token) {
  return h.send("POST", path, "", "", {"Cookie: theme=dark; gthulhu_refresh=" + token});
}

TEST(RefreshCookie, LoginSetsAnHttpOnlyStrictCookieScopedToTheAuthPaths) {
  CoordinatorHarness h;
  auto r = login_with_cookie(h);
  ASSERT_EQ(r.status, 200) << r;
  const std::string c = r.headers["set-cookie"];
  EXPECT_NE(c.find("; Path=/api/v1/auth;"), std::string::npos) << c;
  EXPECT_NE(c.find("; HttpOnly"), std::string::npos) << c;
  EXPECT_NE(c.find("; SameSite=Strict"), std::string::npos) << c;
  EXPECT_NE(c.find("; Max-Age=86400"), std::string::npos) << c;
  EXPECT_EQ(c.find("Secure"), std::string::npos) << "plain HTTP: no Secure";
  EXPECT_FALSE(r.data().contains("refreshToken")) << "the script never sees it";
  EXPECT_FALSE(r.data()["accessToken"].get<std::string>().empty());
}

TEST(RefreshCookie, SecureWhenServedOverTls) {
  coordinator::WebOptions web;
  web.secure_cookies = true;
  EXPECT_NE(coordinator::refresh_cookie_header(web, "t").find("; Secure"), std::string::npos);
  EXPECT_NE(coordinator::cleared_refresh_cookie_header(web).find("Max-Age=0"), std::string::npos);
}

TEST(RefreshCookie, RefreshRotatesTheCookieAndLogoutMakesItUseless) {
  CoordinatorHarness h;
  const std::string first = cookie_value(login_with_cookie(h).headers["set-cookie"]);
  auto refreshed = post_with_cookie(h, "/api/v1/auth/refresh", first);
  ASSERT_EQ(refreshed.status, 200) << refreshed;
  EXPECT_FALSE(refreshed.data().contains("refreshToken"));
  const std::string second = cookie_value(refreshed.headers["set-cookie"]);
  EXPECT_NE(second, first);
  const std::string access = refreshed.data()["accessToken"];
  EXPECT_EQ(h.call("GET", "/api/v1/auth/validate", nullptr, access).status, 200);

  auto out = post_with_cookie(h, "/api/v1/auth/logout", second);
  EXPECT_EQ(out.status, 200) << out;
  EXPECT_NE(out.headers["set-cookie"].find("Max-Age=0"), std::string::npos) << "logout deletes the cookie";
  auto after = post_with_cookie(h, "/api/v1/auth/refresh", second);
  EXPECT_EQ(after.status, 401) << after;
  EXPECT_NE(after.headers["set-cookie"].find("Max-Age=0"), std::string::npos) << "a dead cookie is deleted";
}

TEST(RefreshCookie, TheJsonBodyFormIsUnchangedAndSetsNoCookie) {
  CoordinatorHarness h;
  auto l = h.login(kAdminUser, kAdminPassword);
  ASSERT_EQ(l.status, 200);
  EXPECT_EQ(l.headers.count("set-cookie"), 0u);
  const std::string rt = l.data()["refreshToken"];
  auto r = h.call("POST", "/api/v1/auth/refresh", json{{"refreshToken", rt}});
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.headers.count("set-cookie"), 0u);
  EXPECT_FALSE(r.data()["refreshToken"].get<std::string>().empty());
  EXPECT_EQ(h.call("POST", "/api/v1/auth/refresh", "").status, 401);  // neither body nor cookie
  EXPECT_EQ(h.call("POST", "/api/v1/auth/logout", json{{"refreshToken", r.data()["refreshToken"]}}).status, 200);
}

TEST(StrategyPreview, ListsMatchingScheduledPodsAndTheirNodesAndStoresNothing) {
  CoordinatorHarness h;
  const auto& admin = h.admin_token_cached();
  json s = {{"labelSelectors", {{{"key", "app.kubernetes.io/name"}, {"value", "prometheus"}}}}, {"priority", 5}};
  auto r = h.call("POST", "/api/v1/strategies/preview", s, admin);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.data()["podCount"], 2);  // the finished and the unscheduled pods are not matched
  EXPECT_EQ(r.data()["nodes"], json::parse(R"([{"name":"node-a","podCount":1},{"name":"node-b","podCount":1}])"));
  EXPECT_EQ(r.data()["pods"][0]["podName"], "prometheus-0");
  EXPECT_EQ(r.data()["pods"][0]["nodeName"], "node-a");
  EXPECT_EQ(r.data()["pods"][0]["namespace"], "default");
  EXPECT_TRUE(h.call("GET", "/api/v1/strategies/self", nullptr, admin).data()["strategies"].empty());
  EXPECT_TRUE(h.call("GET", "/api/v1/intents/self", nullptr, admin).data()["intents"].empty());

  auto none = h.call("POST", "/api/v1/strategies/preview", json{{"k8sNamespace", {"empty-ns"}}}, admin);
  EXPECT_EQ(none.status, 200);
  EXPECT_EQ(none.data()["podCount"], 0);
}

TEST(StrategyPreview, ValidatesAsCreateDoes) {
  CoordinatorHarness h;
  auto r = h.call("POST", "/api/v1/strategies/preview",
                  json{{"labelSelectors", {{{"key", "-bad"}, {"value", ""}}}}, {"priority", 30}},
                  h.admin_token_cached());
  EXPECT_EQ(r.status, 422) << r;
  EXPECT_NE(r.error().find("labelSelectors[0].key: "), std::string::npos) << r;
  EXPECT_NE(r.error().find("priority: must be between -20 and 20, got 30"), std::string::npos) << r;
}

TEST(SelfPermissions, AreTheKeysOfTheCallersRoles) {
  CoordinatorHarness h;
  h.create_role("viewer", json::array({{{"permissionKey", "schedule_strategy.read"}, {"self", true}},
                                       {{"permissionKey", "schedule_intent.read"}}}));
  auto viewer = h.ready_user("viewer@example.com", {"viewer"});
  auto r = h.call("GET", "/api/v1/users/self/permissions", nullptr, viewer.token);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.data()["username"], "viewer@example.com");
  EXPECT_EQ(r.data()["permissions"], json::parse(R"([
    {"key":"schedule_intent.read","self":false},
    {"key":"schedule_strategy.read","self":true},
    {"key":"user.password.change","self":false}])"));
  auto admin = h.call("GET", "/api/v1/users/self/permissions", nullptr, h.admin_token_cached());
  EXPECT_GT(admin.data()["permissions"].size(), 20u);
}

class FakePodMetrics : public coordinator::PodMetricsProvider {
 public:
  std::optional<json> pod_metrics(const std::string& pod_uid) override {
    asked = pod_uid;
    if (pod_uid != "0a0a0a0a-0000-0000-0000-000000000001") return std::nullopt;
    return json{{"podId", pod_uid}, {"node", "node-a"}, {"cpuTimeNs", 123}, {"runs", 4},
                {"waitHistogram", {{"boundsNs", {1000, 10000}}, {"counts", {3, 1}}}},
                {"samples", json::array()}};
  }
  std::string asked;
};

TEST(PodMetrics, UnavailableWithoutAProviderThenFromIt) {
  CoordinatorHarness h;
  const auto& admin = h.admin_token_cached();
  const std::string path = "/api/v1/pods/metrics?podId=0a0a0a0a-0000-0000-0000-000000000001";
  h.app().set_pod_metrics_provider(nullptr);  // instead of the agents (pod_metrics_test.cpp)
  auto none = h.call("GET", path, nullptr, admin);
  EXPECT_EQ(none.status, 503);
  EXPECT_EQ(none.error(), "pod metrics unavailable");

  FakePodMetrics fake;
  h.app().set_pod_metrics_provider(&fake);
  auto r = h.call("GET", path, nullptr, admin);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(fake.asked, "0a0a0a0a-0000-0000-0000-000000000001");
  EXPECT_EQ(r.data()["cpuTimeNs"], 123);
  EXPECT_EQ(r.data()["waitHistogram"]["counts"], json::parse("[3,1]"));
  EXPECT_EQ(h.call("GET", "/api/v1/pods/metrics?podId=other", nullptr, admin).status, 404);
  EXPECT_EQ(h.call("GET", "/api/v1/pods/metrics", nullptr, admin).status, 400);
  h.app().set_pod_metrics_provider(nullptr);
}

}  // namespace
}  // namespace gthulhu::test
