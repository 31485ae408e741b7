// The coordinator's REST API end to end: a real server on loopback with the SQLite store.
#include <gtest/gtest.h>

#include <thread>

#include "coordinator/store/store.h"
#include "tests/support/loopback.h"
#include "tests/unit/coordinator_harness.h"

namespace gthulhu::test {
namespace {

const json kPrometheusStrategy = {
    {"strategyNamespace", "default"},
    {"labelSelectors", {{{"key", "app.kubernetes.io/name"}, {"value", "prometheus"}}}},
    {"k8sNamespace", {"default"}},
    {"priority", 10},
    {"executionTime", 20000000}};

// The "Testing" walk-through of the upstream chart README, step by step.
TEST(CoordinatorApi, ChartReadmeCurlFlow) {
  CoordinatorHarness h;
  // 1. login
  auto login = h.login(kAdminUser, kAdminPassword);
  ASSERT_EQ(login.status, 200) << login;
  EXPECT_TRUE(login.body["success"].get<bool>());
  const std::string token = login.data()["token"];
  EXPECT_EQ(token, login.data()["accessToken"].get<std::string>());
  EXPECT_FALSE(login.data()["refreshToken"].get<std::string>().empty());

  // 2. create a strategy
  auto created = h.call("POST", "/api/v1/strategies", kPrometheusStrategy, token);
  ASSERT_EQ(created.status, 201) << created;
  const std::string id = created.data()["strategy"]["id"];
  EXPECT_EQ(created.data()["intentCount"], 2);  // running + scheduled prometheus pods only

  // 3. list own strategies
  auto strategies = h.call("GET", "/api/v1/strategies/self", "", token);
  ASSERT_EQ(strategies.status, 200) << strategies;
  ASSERT_EQ(strategies.data()["strategies"].size(), 1u);
  const auto& s = strategies.data()["strategies"][0];
  EXPECT_EQ(s["id"], id);
  EXPECT_EQ(s["strategyNamespace"], "default");
  EXPECT_EQ(s["labelSelectors"][0]["key"], "app.kubernetes.io/name");
  EXPECT_EQ(s["k8sNamespace"], json::array({"default"}));
  EXPECT_EQ(s["priority"], 10);
  EXPECT_EQ(s["executionTime"], 20000000);

  // 4. list own intents
  auto intents = h.call("GET", "/api/v1/intents/self", "", token);
  ASSERT_EQ(intents.status, 200) << intents;
  ASSERT_EQ(intents.data()["intents"].size(), 2u);
  std::set<std::string> pods, nodes;
  for (const auto& i : intents.data()["intents"]) {
    EXPECT_EQ(i["strategyID"], id);
    EXPECT_EQ(i["priority"], 10);
    EXPECT_EQ(i["executionTime"], 20000000);
    EXPECT_EQ(i["k8sNamespace"], "default");
    EXPECT_EQ(i["state"], 1);
    EXPECT_EQ(i["stateName"], "Initialized");
    EXPECT_EQ(i["podLabels"]["app.kubernetes.io/name"], "prometheus");
    pods.insert(i["podName"]);
    nodes.insert(i["nodeID"]);
  }
  EXPECT_EQ(pods, (std::set<std::string>{"prometheus-0", "prometheus-1"}));
  EXPECT_EQ(nodes, (std::set<std::string>{"node-a", "node-b"}));

  // 5. delete the strategy (its intents go with it)
  auto deleted = h.call("DELETE", "/api/v1/strategies", json{{"strategyId", id}}, token);
  ASSERT_EQ(deleted.status, 200) << deleted;
  EXPECT_EQ(h.call("GET", "/api/v1/strategies/self", "", token).data()["strategies"].size(), 0u);
  EXPECT_EQ(h.call("GET", "/api/v1/intents/self", "", token).data()["intents"].size(), 0u);
  auto again = h.call("DELETE", "/api/v1/strategies", json{{"strategyId", id}}, token);
  EXPECT_EQ(again.status, 404) << again;
}

TEST(CoordinatorApi, StrategyMatchingNoPodIsCreatedWithZeroIntents) {
  CoordinatorHarness h;
  const auto token = h.admin_token();
  auto r = h.call("POST", "/api/v1/strategies",
                  json{{"labelSelectors", {{{"key", "app"}, {"value", "not-deployed-yet"}}}},
                       {"priority", 5}},
                  token);
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.data()["intentCount"], 0);
  EXPECT_EQ(h.call("GET", "/api/v1/intents/self", "", token).data()["intents"].size(), 0u);
}

TEST(CoordinatorApi, UpstreamPascalCaseInputIsAccepted) {
  CoordinatorHarness h;
  const auto token = h.admin_token();
  auto r = h.call("POST", "/api/v1/strategies",
                  json{{"StrategyNamespace", "default"},
                       {"LabelSelectors", {{{"Key", "app"}, {"Value", "nginx"}}}},
                       {"K8sNamespace", {"web"}},
                       {"CommandRegex", "^nginx"},
                       {"Priority", 3},
                       {"ExecutionTime", 1000000}},
                  token);
  ASSERT_EQ(r.status, 201) << r;
  const auto& s = r.data()["strategy"];
  EXPECT_EQ(s["labelSelectors"][0]["value"], "nginx");
  EXPECT_EQ(s["k8sNamespace"][0], "web");
  EXPECT_EQ(s["commandRegex"], "^nginx");
  EXPECT_EQ(s["priority"], 3);
  EXPECT_EQ(r.data()["intentCount"], 1);
  // Update by PascalCase id, only the priority: the rest is kept; intents re-planned.
  auto u = h.call("PUT", "/api/v1/strategies",
                  json{{"StrategyID", s["id"]}, {"Priority", -4}}, token);
  ASSERT_EQ(u.status, 200) << u;
  EXPECT_EQ(u.data()["strategy"]["priority"], -4);
  EXPECT_EQ(u.data()["strategy"]["commandRegex"], "^nginx");
  auto intents = h.call("GET", "/api/v1/intents/self", "", token).data()["intents"];
  ASSERT_EQ(intents.size(), 1u);
  EXPECT_EQ(intents[0]["priority"], -4);
  EXPECT_EQ(intents[0]["commandRegex"], "^nginx");
}

TEST(CoordinatorApi, StrategyValidationSays422WithEveryField) {
  CoordinatorHarness h;
  const auto token = h.admin_token();
  auto r = h.call("POST", "/api/v1/strategies",
                  json{{"labelSelectors", {{{"key", "-bad key"}, {"value", "ok"}}}},
                       {"k8sNamespace", {"Not_A_Namespace"}},
                       {"commandRegex", "(unclosed"},
                       {"priority", 21},
                       {"executionTime", 100}},
                  token);
  ASSERT_EQ(r.status, 422) << r;
  const std::string e = r.error();
  EXPECT_NE(e.find("labelSelectors[0].key"), std::string::npos) << e;
  EXPECT_NE(e.find("k8sNamespace[0]"), std::string::npos) << e;
  EXPECT_NE(e.find("commandRegex: invalid regular expression (RE2 syntax)"), std::string::npos) << e;
  EXPECT_NE(e.find("priority: must be between -20 and 20, got 21"), std::string::npos) << e;
  EXPECT_NE(e.find("executionTime: must be 0 (scheduler default) or between 500000 and 100000000"),
            std::string::npos)
      << e;

  auto none = h.call("POST", "/api/v1/strategies", json{{"priority", 1}}, token);
  EXPECT_EQ(none.status, 422) << none;
  EXPECT_NE(none.error().find("at least one label selector or namespace"), std::string::npos);

  auto lookahead = h.call("POST", "/api/v1/strategies",
                          json{{"k8sNamespace", {"web"}}, {"commandRegex", "(?=x)"}}, token);
  EXPECT_EQ(lookahead.status, 422) << lookahead;  // RE2, like Go: no lookaround

  auto types = h.call("POST", "/api/v1/strategies",
                      json{{"k8sNamespace", {"web"}}, {"priority", "high"}}, token);
  EXPECT_EQ(types.status, 400) << types;
  EXPECT_EQ(types.error(), "priority must be an integer");
  auto not_json = h.call("POST", "/api/v1/strategies", std::string("{nope"), token);
  EXPECT_EQ(not_json.status, 400) << not_json;
  auto array = h.call("POST", "/api/v1/strategies", std::string("[]"), token);
  EXPECT_EQ(array.status, 400) << array;

  auto edges = h.call("POST", "/api/v1/strategies",
                      json{{"k8sNamespace", {"web"}}, {"priority", -20}, {"executionTime", 500000}},
                      token);
  EXPECT_EQ(edges.status, 201) << edges;
  auto top = h.call("POST", "/api/v1/strategies",
                    json{{"k8sNamespace", {"web"}}, {"priority", 20}, {"executionTime", 100000000}},
                    token);
  EXPECT_EQ(top.status, 201) << top;
}

TEST(CoordinatorApi, BadJsonValuesAre400sNamingTheFieldNot500s) {
  CoordinatorHarness h;
  const auto token = h.admin_token();
  auto no_ids = [](const Reply& r) { return r.raw.find("json.exception") == std::string::npos; };
  auto overflow = h.call("POST", "/api/v1/strategies",
                         std::string(R"({"k8sNamespace":["web"],"priority":1e400})"), token);
  EXPECT_EQ(overflow.status, 400) << overflow;
  EXPECT_NE(overflow.error().find("priority"), std::string::npos) << overflow;
  EXPECT_TRUE(no_ids(overflow)) << overflow;
  auto label = h.call("POST", "/api/v1/strategies",
                      std::string("{\"labelSelectors\":[{\"key\":\"app\",\"value\":\"\xff\"}]}"),
                      token);
  EXPECT_EQ(label.status, 400) << label;
  EXPECT_NE(label.error().find("UTF-8"), std::string::npos) << label;
  EXPECT_TRUE(no_ids(label)) << label;
  auto user = h.call("POST", "/api/v1/users",
                     std::string("{\"username\":\"a\xff" "b\",\"password\":\"long enough pass 1\"}"),
                     token);
  EXPECT_EQ(user.status, 400) << user;
  EXPECT_TRUE(no_ids(user)) << user;
  auto role = h.call("POST", "/api/v1/roles",
                     std::string("{\"name\":\"r\",\"description\":\"\xfe\"}"), token);
  EXPECT_EQ(role.status, 400) << role;
  auto login = h.call("POST", "/api/v1/auth/login",
                      std::string(R"({"username":5,"password":"x"})"));
  EXPECT_EQ(login.status, 400) << login;
  EXPECT_EQ(login.error(), "username must be a string");
  // 2^63 does not fit int64: named as sent, not wrapped to its negative.
  auto huge = h.call("POST", "/api/v1/strategies",
                     std::string(R"({"k8sNamespace":["web"],"executionTime":9223372036854775808})"),
                     token);
  EXPECT_EQ(huge.status, 422) << huge;
  EXPECT_NE(huge.error().find("executionTime"), std::string::npos) << huge;
  EXPECT_NE(huge.error().find("9223372036854775808"), std::string::npos) << huge;
  EXPECT_EQ(huge.error().find("-9223372036854775808"), std::string::npos) << huge;
  EXPECT_EQ(h.call("GET", "/health").status, 200);
}

TEST(CoordinatorApi, UpdateAndDeleteOfAnotherUsersStrategyIsNotFound) {
  CoordinatorHarness h;
  h.create_role("planner", json::array({{{"permissionKey", "schedule_strategy.create"}, {"self", true}},
                                        {{"permissionKey", "schedule_strategy.update"}, {"self", true}},
                                        {{"permissionKey", "schedule_strategy.delete"}, {"self", true}},
                                        {{"permissionKey", "schedule_strategy.read"}, {"self", true}}}));
  auto alice = h.ready_user("alice", {"planner"});
  auto bob = h.ready_user("bob", {"planner"});
  auto r = h.call("POST", "/api/v1/strategies", kPrometheusStrategy, alice.token);
  ASSERT_EQ(r.status, 201) << r;
  const std::string id = r.data()["strategy"]["id"];
  auto u = h.call("PUT", "/api/v1/strategies", json{{"strategyId", id}, {"priority", 1}}, bob.token);
  EXPECT_EQ(u.status, 404) << u;
  EXPECT_EQ(u.error(), "strategy not found or you don't have permission to update it");
  auto d = h.call("DELETE", "/api/v1/strategies", json{{"strategyId", id}}, bob.token);
  EXPECT_EQ(d.status, 404) << d;
  EXPECT_EQ(h.call("GET", "/api/v1/strategies/self", "", bob.token).data()["strategies"].size(), 0u);
  // The admin's unscoped grant may clean up anyone's strategy.
  auto admin = h.call("DELETE", "/api/v1/strategies", json{{"strategyId", id}}, h.admin_token());
  EXPECT_EQ(admin.status, 200) << admin;
  auto missing = h.call("PUT", "/api/v1/strategies", json{{"priority", 1}}, alice.token);
  EXPECT_EQ(missing.status, 400) << missing;
  EXPECT_EQ(missing.error(), "Strategy ID is required");
}

TEST(CoordinatorApi, DeleteIntentsIsAllOrNothing) {
  CoordinatorHarness h;
  const auto token = h.admin_token();
  ASSERT_EQ(h.call("POST", "/api/v1/strategies", kPrometheusStrategy, token).status, 201);
  auto intents = h.call("GET", "/api/v1/intents/self", "", token).data()["intents"];
  ASSERT_EQ(intents.size(), 2u);
  const std::string a = intents[0]["id"], b = intents[1]["id"];
  auto none = h.call("DELETE", "/api/v1/intents", json{{"intentIds", json::array()}}, token);
  EXPECT_EQ(none.status, 400) << none;
  EXPECT_EQ(none.error(), "At least one intent ID is required");
  auto partial = h.call("DELETE", "/api/v1/intents",
                        json{{"intentIds", {a, "000000000000000000000000"}}}, token);
  EXPECT_EQ(partial.status, 404) << partial;
  EXPECT_EQ(h.call("GET", "/api/v1/intents/self", "", token).data()["intents"].size(), 2u);
  auto ok = h.call("DELETE", "/api/v1/intents", json{{"intentIds", {a}}}, token);
  EXPECT_EQ(ok.status, 200) << ok;
  auto left = h.call("GET", "/api/v1/intents/self", "", token).data()["intents"];
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0]["id"], b);
  auto filtered = h.call("GET", "/api/v1/intents/self?nodeId=nowhere", "", token);
  EXPECT_EQ(filtered.data()["intents"].size(), 0u);
}

TEST(CoordinatorApi, RefreshRotatesAndReuseRevokesEverySession) {
  CoordinatorHarness h;
  auto login = h.login(kAdminUser, kAdminPassword);
  ASSERT_EQ(login.status, 200);
  const std::string r1 = login.data()["refreshToken"];
  auto second = h.call("POST", "/api/v1/auth/refresh", json{{"refreshToken", r1}});
  ASSERT_EQ(second.status, 200) << second;
  const std::string r2 = second.data()["refreshToken"];
  const std::string a2 = second.data()["accessToken"];
  EXPECT_NE(r1, r2);
  EXPECT_EQ(h.call("GET", "/api/v1/users/self", "", a2).status, 200);

  // r1 again: refused, and the whole family dies (r2 and the access tokens too).
  auto reuse = h.call("POST", "/api/v1/auth/refresh", json{{"refreshToken", r1}});
  EXPECT_EQ(reuse.status, 401) << reuse;
  EXPECT_NE(reuse.error().find("already used"), std::string::npos) << reuse;
  EXPECT_EQ(h.call("POST", "/api/v1/auth/refresh", json{{"refreshToken", r2}}).status, 401);
  auto revoked = h.call("GET", "/api/v1/users/self", "", a2);
  EXPECT_EQ(revoked.status, 401) << revoked;
  EXPECT_EQ(revoked.error(), "token revoked");

  EXPECT_EQ(h.call("POST", "/api/v1/auth/refresh", json::object()).status, 401);
  auto junk = h.call("POST", "/api/v1/auth/refresh", json{{"refreshToken", "junk"}});
  EXPECT_EQ(junk.status, 401);
  EXPECT_EQ(junk.error(), "invalid refresh token");
}

TEST(CoordinatorApi, LogoutSpendsTheRefreshTokenAndLogoutAllRevokesAccessTokens) {
  CoordinatorHarness h;
  auto l1 = h.login(kAdminUser, kAdminPassword);
  auto l2 = h.login(kAdminUser, kAdminPassword);
  ASSERT_EQ(l1.status, 200);
  ASSERT_EQ(l2.status, 200);
  auto out = h.call("POST", "/api/v1/auth/logout", json{{"refreshToken", l1.data()["refreshToken"]}});
  EXPECT_EQ(out.status, 200) << out;
  auto twice = h.call("POST", "/api/v1/auth/logout", json{{"refreshToken", l1.data()["refreshToken"]}});
  EXPECT_EQ(twice.status, 200) << twice;  // idempotent
  EXPECT_EQ(h.call("POST", "/api/v1/auth/logout", json{{"refreshToken", "unknown"}}).status, 401);
  // Access tokens live on until expiry or logout-all.
  const std::string a1 = l1.data()["accessToken"], a2 = l2.data()["accessToken"];
  EXPECT_EQ(h.call("GET", "/api/v1/auth/validate", "", a1).status, 200);
  auto all = h.call("POST", "/api/v1/auth/logout-all", "", a2);
  EXPECT_EQ(all.status, 200) << all;
  EXPECT_EQ(h.call("GET", "/api/v1/auth/validate", "", a1).status, 401);
  EXPECT_EQ(h.call("GET", "/api/v1/auth/validate", "", a2).status, 401);
  EXPECT_EQ(h.call("POST", "/api/v1/auth/refresh", json{{"refreshToken", l2.data()["refreshToken"]}}).status, 401);
  EXPECT_EQ(h.login(kAdminUser, kAdminPassword).status, 200);  // signing in again works
}

TEST(CoordinatorApi, RefreshWithALoggedOutTokenIsTreatedAsReplay) {
  CoordinatorHarness h;
  auto l1 = h.login(kAdminUser, kAdminPassword);
  auto l2 = h.login(kAdminUser, kAdminPassword);
  ASSERT_EQ(h.call("POST", "/api/v1/auth/logout", json{{"refreshToken", l1.data()["refreshToken"]}}).status, 200);
  EXPECT_EQ(h.call("POST", "/api/v1/auth/refresh", json{{"refreshToken", l1.data()["refreshToken"]}}).status, 401);
  // Whoever presents a spent token may have stolen it: every session of the user ends.
  EXPECT_EQ(h.call("GET", "/api/v1/auth/validate", "", l2.data()["accessToken"].get<std::string>()).status, 401);
}

TEST(CoordinatorApi, LoginRateLimitPerIpAnswers429WithRetryAfter) {
  CoordinatorHarness h({{"GTHULHU_AUTH_LOGIN_ATTEMPTS_PER_IP", "3"},
                        {"GTHULHU_AUTH_LOGIN_IP_WINDOW", "1h"}});
  for (int i = 0; i < 3; ++i) {
    auto r = h.login(kAdminUser, "wrong password " + std::to_string(i));
    EXPECT_EQ(r.status, 401) << r;
    EXPECT_EQ(r.error(), "invalid username or password");
  }
  auto limited = h.login(kAdminUser, kAdminPassword);  // even the right password
  ASSERT_EQ(limited.status, 429) << limited;
  ASSERT_TRUE(limited.headers.count("retry-after"));
  const int retry = std::stoi(limited.headers["retry-after"]);
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 3600);
}

TEST(CoordinatorApi, LoginFailuresDelayOnlyTheirOwnUserAndAddress) {
  CoordinatorHarness h({{"GTHULHU_AUTH_LOGIN_FAILURES_PER_USER", "2"},
                        {"GTHULHU_AUTH_LOGIN_USER_WINDOW", "1h"},
                        {"GTHULHU_AUTH_LOGIN_FAILURE_DELAY", "1h"}});
  auto admin = h.admin_token();
  ASSERT_FALSE(admin.empty());
  auto victim = h.ready_user("victim@example.com", {});
  EXPECT_EQ(h.login("victim@example.com", victim.password).status, 200);  // success: not counted
  EXPECT_EQ(h.login("victim@example.com", "wrong one 1").status, 401);
  EXPECT_EQ(h.login("victim@example.com", "wrong one 2").status, 401);
  // Past the free failures each further one delays this (user, address) pair.
  EXPECT_EQ(h.login("victim@example.com", "wrong one 3").status, 401);
  auto limited = h.login("victim@example.com", victim.password);
  EXPECT_EQ(limited.status, 429) << limited;
  ASSERT_TRUE(limited.headers.count("retry-after"));
  EXPECT_GE(std::stoi(limited.headers["retry-after"]), 1);
  EXPECT_EQ(h.login(kAdminUser, kAdminPassword).status, 200);  // other users unaffected
  // The same user from an address with no failures is not delayed.
  EXPECT_EQ(h.login_from("127.0.0.2", "victim@example.com", victim.password).status, 200);
  // Unknown users are delayed the same way (no hint that they do not exist).
  EXPECT_EQ(h.login("ghost@example.com", "whatever pass 1").status, 401);
  EXPECT_EQ(h.login("ghost@example.com", "whatever pass 2").status, 401);
  EXPECT_EQ(h.login("ghost@example.com", "whatever pass 3").status, 401);
  EXPECT_EQ(h.login("ghost@example.com", "whatever pass 4").status, 429);
}

// The attack of issue 12: a stranger sends wrong passwords for the administrator,
// forever. The administrator, from their own address, still signs in at once, while
// the stranger's guesses are slowed down exponentially.
TEST(CoordinatorApi, StrangersCannotLockTheAdministratorOut) {
  CoordinatorHarness h({{"GTHULHU_AUTH_LOGIN_FAILURES_PER_USER", "5"},
                        {"GTHULHU_AUTH_LOGIN_USER_WINDOW", "1h"},
                        {"GTHULHU_AUTH_LOGIN_FAILURE_DELAY", "1h"},
                        {"GTHULHU_AUTH_LOGIN_FAILURE_MAX_DELAY", "2h"}});
  const std::string attacker = "127.0.0.66";
  int refused = 0, checked = 0;
  std::vector<int> retry_after;
  for (int i = 0; i < 12; ++i) {
    auto r = h.login_from(attacker, kAdminUser, "guess number " + std::to_string(i));
    if (r.status == 429) {
      ++refused;
      retry_after.push_back(std::stoi(r.headers["retry-after"]));
    } else {
      EXPECT_EQ(r.status, 401) << r;
      ++checked;
    }
  }
  // 5 free failures, the 6th sets a delay: everything after is refused unchecked.
  EXPECT_EQ(checked, 6);
  EXPECT_EQ(refused, 6);
  // Even the right password from the attacker's address waits out the delay.
  EXPECT_EQ(h.login_from(attacker, kAdminUser, kAdminPassword).status, 429);
  // The real administrator from another address: signed in, repeatedly.
  for (int i = 0; i < 3; ++i) {
    auto ok = h.login_from("127.0.0.7", kAdminUser, kAdminPassword);
    EXPECT_EQ(ok.status, 200) << ok;
  }
  EXPECT_EQ(h.login(kAdminUser, kAdminPassword).status, 200);
}

TEST(CoordinatorApi, UnknownUserAndWrongPasswordLookTheSame) {
  CoordinatorHarness h;
  auto unknown = h.login("nobody@example.com", "some password 1");
  auto wrong = h.login(kAdminUser, "some password 1");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.body, wrong.body);
  auto empty = h.call("POST", "/api/v1/auth/login", json{{"username", kAdminUser}});
  EXPECT_EQ(empty.status, 422);
  EXPECT_EQ(empty.error(), "Username and password are required");
  EXPECT_EQ(h.call("POST", "/api/v1/auth/login", std::string("not json")).status, 400);
}

TEST(CoordinatorApi, NewUserMustChangePasswordFirst) {
  CoordinatorHarness h;
  const auto admin = h.admin_token();
  auto created = h.call("POST", "/api/v1/users",
                        json{{"username", "carol@example.com"}, {"password", "first password 1"}},
                        admin);
  ASSERT_EQ(created.status, 201) << created;
  EXPECT_EQ(created.data()["status"], 3);
  auto dup = h.call("POST", "/api/v1/users",
                    json{{"username", "carol@example.com"}, {"password", "first password 1"}}, admin);
  EXPECT_EQ(dup.status, 409) << dup;
  auto weak = h.call("POST", "/api/v1/users", json{{"username", "dan"}, {"password", "short"}}, admin);
  EXPECT_EQ(weak.status, 422) << weak;
  EXPECT_NE(weak.error().find("at least 12 characters"), std::string::npos) << weak;

  auto login = h.login("carol@example.com", "first password 1");
  ASSERT_EQ(login.status, 200) << login;
  EXPECT_TRUE(login.data()["needChangePassword"].get<bool>());
  const std::string first = login.data()["accessToken"];
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/api/v1/users/self"}, {"GET", "/api/v1/auth/validate"},
           {"GET", "/api/v1/strategies/self"}}) {
    auto r = h.call(method, path, "", first);
    EXPECT_EQ(r.status, 403) << path << " " << r;
    EXPECT_EQ(r.error(), "password change required");
  }
  auto wrong_old = h.call("PUT", "/api/v1/users/self/password",
                          json{{"oldPassword", "not it at all"}, {"newPassword", "second password 2"}}, first);
  EXPECT_EQ(wrong_old.status, 401) << wrong_old;
  auto same = h.call("PUT", "/api/v1/users/self/password",
                     json{{"oldPassword", "first password 1"}, {"newPassword", "first password 1"}}, first);
  EXPECT_EQ(same.status, 422) << same;
  auto too_weak = h.call("PUT", "/api/v1/users/self/password",
                         json{{"oldPassword", "first password 1"}, {"newPassword", "aaaaaaaaaaaaaaaa"}}, first);
  EXPECT_EQ(too_weak.status, 422) << too_weak;
  auto changed = h.call("PUT", "/api/v1/users/self/password",
                        json{{"oldPassword", "first password 1"}, {"newPassword", "second password 2"}}, first);
  ASSERT_EQ(changed.status, 200) << changed;
  EXPECT_FALSE(changed.data()["needChangePassword"].get<bool>());
  const std::string fresh = changed.data()["accessToken"];
  EXPECT_EQ(h.call("GET", "/api/v1/users/self", "", first).status, 401);  // old token revoked
  auto self = h.call("GET", "/api/v1/users/self", "", fresh);
  ASSERT_EQ(self.status, 200) << self;
  EXPECT_EQ(self.data()["status"], 1);
  EXPECT_EQ(self.data()["username"], "carol@example.com");
  EXPECT_EQ(h.login("carol@example.com", "first password 1").status, 401);
  EXPECT_EQ(h.login("carol@example.com", "second password 2").status, 200);

  // An admin reset: status back to 3, every token of carol revoked.
  auto reset = h.call("PUT", "/api/v1/users/password",
                      json{{"userID", self.data()["id"]}, {"newPassword", "third password 3"}}, admin);
  ASSERT_EQ(reset.status, 200) << reset;
  EXPECT_EQ(h.call("GET", "/api/v1/users/self", "", fresh).status, 401);
  auto after = h.login("carol@example.com", "third password 3");
  ASSERT_EQ(after.status, 200);
  EXPECT_TRUE(after.data()["needChangePassword"].get<bool>());
  auto bad_id = h.call("PUT", "/api/v1/users/password",
                       json{{"userID", "xyz"}, {"newPassword", "third password 3"}}, admin);
  EXPECT_EQ(bad_id.status, 422);
  EXPECT_EQ(bad_id.error(), "invalid user ID");
  auto no_user = h.call("PUT", "/api/v1/users/password",
                        json{{"userID", "000000000000000000000000"}, {"newPassword", "third password 3"}},
                        admin);
  EXPECT_EQ(no_user.status, 404);
}

// Issue 12: one PUT emptied the admin role and every administrator got 403 for good.
TEST(CoordinatorApi, NoChangeLeavesNobodyToManageUsersAndRoles) {
  CoordinatorHarness h;
  const auto admin = h.admin_token();
  auto roles = h.call("GET", "/api/v1/roles", "", admin);
  ASSERT_EQ(roles.status, 200) << roles;
  std::string admin_role;
  for (const auto& r : roles.data()["roles"]) {
    if (r["name"] == "admin") admin_role = r["id"];
  }
  ASSERT_FALSE(admin_role.empty());
  for (const char* key : {"rolePolicy", "rolePolicies"}) {
    auto emptied = h.call("PUT", "/api/v1/roles", json{{"id", admin_role}, {key, json::array()}}, admin);
    EXPECT_EQ(emptied.status, 409) << emptied;
    EXPECT_NE(emptied.error().find("admin role must keep the permissions that manage users and roles"),
              std::string::npos)
        << emptied;
    EXPECT_NE(emptied.error().find("role.update"), std::string::npos) << emptied;
  }
  auto scoped = h.call("PUT", "/api/v1/roles",
                       json{{"id", admin_role},
                            {"rolePolicies", {{{"permissionKey", "role.update"}, {"self", true}}}}},
                       admin);
  EXPECT_EQ(scoped.status, 409) << scoped;
  auto renamed = h.call("PUT", "/api/v1/roles", json{{"id", admin_role}, {"name", "boss"}}, admin);
  EXPECT_EQ(renamed.status, 409) << renamed;
  auto deleted = h.call("DELETE", "/api/v1/roles", json{{"id", admin_role}}, admin);
  EXPECT_EQ(deleted.status, 409) << deleted;
  EXPECT_EQ(deleted.error(), "the built-in admin role cannot be deleted");
  // Dropping unrelated permissions from it is fine; the admin still manages.
  json keep = json::array();
  for (const char* k : {"user.create", "user.read", "user.permission.update", "user.password.reset",
                        "role.create", "role.read", "role.update", "role.delete", "permission.read"}) {
    keep.push_back({{"permissionKey", k}});
  }
  auto trimmed = h.call("PUT", "/api/v1/roles", json{{"id", admin_role}, {"rolePolicies", keep}}, admin);
  EXPECT_EQ(trimmed.status, 200) << trimmed;
  EXPECT_EQ(h.call("GET", "/api/v1/roles", "", admin).status, 200);
  EXPECT_EQ(h.call("GET", "/api/v1/users", "", admin).status, 200);

  // Another role that manages: its holder is the only manager once admin is dropped, so
  // that role cannot be emptied while the admin is inactive.
  const auto mgr_role = h.create_role("manager", keep);
  auto mgr = h.ready_user("mgr@example.com", {"manager"});
  auto self = h.call("GET", "/api/v1/users/self", "", admin);
  ASSERT_EQ(self.status, 200) << self;
  auto deactivate = h.call("PUT", "/api/v1/users/permissions",
                           json{{"userID", self.data()["id"]}, {"status", 2}}, mgr.token);
  // The last active *admin-role* holder: refused by the older rule, which still holds.
  EXPECT_EQ(deactivate.status, 409) << deactivate;
  auto strip = h.call("PUT", "/api/v1/users/permissions",
                      json{{"userID", mgr.id}, {"roles", json::array()}}, admin);
  EXPECT_EQ(strip.status, 200) << strip;  // the admin still manages
}

TEST(CoordinatorApi, RoleCrudIncludingDelete) {
  CoordinatorHarness h;
  const auto admin = h.admin_token();
  auto created = h.call("POST", "/api/v1/roles",
                        json{{"name", "viewer"},
                             {"description", "reads strategies"},
                             {"rolePolicies", {{{"permissionKey", "schedule_strategy.read"}, {"self", true}}}}},
                        admin);
  ASSERT_EQ(created.status, 201) << created;
  const std::string id = created.data()["id"];
  EXPECT_EQ(created.data()["rolePolicies"][0]["permissionKey"], "schedule_strategy.read");
  EXPECT_EQ(created.data()["rolePolicy"], created.data()["rolePolicies"]);

  EXPECT_EQ(h.call("POST", "/api/v1/roles", json{{"name", "viewer"}}, admin).status, 409);
  auto unknown = h.call("POST", "/api/v1/roles",
                        json{{"name", "x"}, {"rolePolicies", {{{"permissionKey", "root.everything"}}}}},
                        admin);
  EXPECT_EQ(unknown.status, 422) << unknown;
  EXPECT_EQ(unknown.error(), "unknown permission key: root.everything");
  EXPECT_EQ(h.call("POST", "/api/v1/roles", json{{"name", "bad name!"}}, admin).status, 422);

  auto list = h.call("GET", "/api/v1/roles", "", admin);
  ASSERT_EQ(list.status, 200);
  std::set<std::string> names;
  for (const auto& r : list.data()["roles"]) names.insert(r["name"]);
  EXPECT_EQ(names, (std::set<std::string>{"admin", "viewer"}));

  // Update with the upstream's singular "rolePolicy".
  auto updated = h.call("PUT", "/api/v1/roles",
                        json{{"id", id},
                             {"description", "reads strategies and intents"},
                             {"rolePolicy", {{{"permissionKey", "schedule_strategy.read"}},
                                             {{"permissionKey", "schedule_intent.read"}}}}},
                        admin);
  ASSERT_EQ(updated.status, 200) << updated;
  EXPECT_EQ(updated.data()["description"], "reads strategies and intents");
  EXPECT_EQ(updated.data()["rolePolicies"].size(), 2u);
  EXPECT_EQ(h.call("PUT", "/api/v1/roles", json{{"id", "000000000000000000000000"}, {"description", "x"}}, admin).status, 404);
  EXPECT_EQ(h.call("PUT", "/api/v1/roles", json{{"id", id}, {"name", "admin"}}, admin).status, 409);

  // In use: neither deleted nor renamed.
  auto user = h.ready_user("eve@example.com", {"viewer"});
  auto in_use = h.call("DELETE", "/api/v1/roles", json{{"id", id}}, admin);
  EXPECT_EQ(in_use.status, 409) << in_use;
  EXPECT_NE(in_use.error().find("assigned to 1 user"), std::string::npos);
  EXPECT_EQ(h.call("PUT", "/api/v1/roles", json{{"id", id}, {"name", "reader"}}, admin).status, 409);
  // The user can use it.
  EXPECT_EQ(h.call("GET", "/api/v1/strategies/self", "", user.token).status, 200);
  EXPECT_EQ(h.call("GET", "/api/v1/roles", "", user.token).status, 403);

  auto unassign = h.call("PUT", "/api/v1/users/permissions",
                         json{{"userID", user.id}, {"roles", json::array()}}, admin);
  ASSERT_EQ(unassign.status, 200) << unassign;
  EXPECT_EQ(h.call("GET", "/api/v1/strategies/self", "", user.token).status, 403);
  auto renamed = h.call("PUT", "/api/v1/roles", json{{"id", id}, {"name", "reader"}}, admin);
  EXPECT_EQ(renamed.status, 200) << renamed;
  auto del = h.call("DELETE", "/api/v1/roles?id=" + id, "", admin);
  EXPECT_EQ(del.status, 200) << del;
  EXPECT_EQ(h.call("DELETE", "/api/v1/roles", json{{"id", id}}, admin).status, 404);
  EXPECT_EQ(h.call("DELETE", "/api/v1/roles", json::object(), admin).status, 400);
  EXPECT_EQ(h.call("GET", "/api/v1/roles", "", admin).data()["roles"].size(), 1u);

  auto perms = h.call("GET", "/api/v1/permissions", "", admin);
  ASSERT_EQ(perms.status, 200);
  std::set<std::string> keys;
  for (const auto& p : perms.data()["permissions"]) keys.insert(p["key"]);
  for (const char* k : {"user.create", "user.read", "user.permission.update", "user.password.reset",
                        "role.create", "role.read", "role.update", "role.delete", "permission.read",
                        "schedule_strategy.create", "schedule_strategy.read", "schedule_strategy.update",
                        "schedule_strategy.delete", "schedule_intent.read", "schedule_intent.delete",
                        "pod_pid_mapping.read"}) {
    EXPECT_TRUE(keys.count(k)) << k;
  }
}

TEST(CoordinatorApi, RoleChangesApplyToTheNextRequest) {
  CoordinatorHarness h;
  const auto admin = h.admin_token();
  const auto id = h.create_role("reader", json::array({{{"permissionKey", "schedule_strategy.read"}}}));
  auto user = h.ready_user("ivy@example.com", {"reader"});
  EXPECT_EQ(h.call("GET", "/api/v1/strategies/self", nullptr, user.token).status, 200);
  ASSERT_EQ(h.call("PUT", "/api/v1/roles",
                   json{{"id", id}, {"rolePolicies", {{{"permissionKey", "schedule_intent.read"}}}}}, admin)
                .status,
            200);
  EXPECT_EQ(h.call("GET", "/api/v1/strategies/self", nullptr, user.token).status, 403);
  EXPECT_EQ(h.call("GET", "/api/v1/intents/self", nullptr, user.token).status, 200);
}

TEST(CoordinatorApi, UserPermissionsUpdateAndSelfScoping) {
  CoordinatorHarness h;
  const auto admin = h.admin_token();
  h.create_role("selfish", json::array({{{"permissionKey", "user.read"}, {"self", true}},
                                        {{"permissionKey", "user.password.reset"}, {"self", true}},
                                        {{"permissionKey", "user.permission.update"}, {"self", true}}}));
  h.create_role("other", json::array({{{"permissionKey", "role.read"}}}));
  auto frank = h.ready_user("frank@example.com", {"selfish"});
  auto grace = h.ready_user("grace@example.com", {});

  auto users = h.call("GET", "/api/v1/users", "", frank.token);
  ASSERT_EQ(users.status, 200) << users;
  ASSERT_EQ(users.data()["users"].size(), 1u);
  EXPECT_EQ(users.data()["users"][0]["username"], "frank@example.com");
  EXPECT_EQ(h.call("GET", "/api/v1/users", "", admin).data()["users"].size(), 3u);

  auto reset_other = h.call("PUT", "/api/v1/users/password",
                            json{{"userID", grace.id}, {"newPassword", "another password 9"}}, frank.token);
  EXPECT_EQ(reset_other.status, 403) << reset_other;
  EXPECT_EQ(reset_other.error(), "forbidden");
  auto escalate = h.call("PUT", "/api/v1/users/permissions",
                         json{{"userID", frank.id}, {"roles", {"selfish", "admin"}}}, frank.token);
  EXPECT_EQ(escalate.status, 403) << escalate;
  auto other = h.call("PUT", "/api/v1/users/permissions",
                      json{{"userID", grace.id}, {"roles", {"other"}}}, frank.token);
  EXPECT_EQ(other.status, 403) << other;

  auto missing_role = h.call("PUT", "/api/v1/users/permissions",
                             json{{"userID", grace.id}, {"roles", {"nope"}}}, admin);
  EXPECT_EQ(missing_role.status, 404);
  EXPECT_EQ(missing_role.error(), "some roles not found: nope");
  auto bad_status = h.call("PUT", "/api/v1/users/permissions", json{{"userID", grace.id}, {"status", 7}}, admin);
  EXPECT_EQ(bad_status.status, 422);
  auto grant = h.call("PUT", "/api/v1/users/permissions", json{{"userID", grace.id}, {"roles", {"other"}}}, admin);
  ASSERT_EQ(grant.status, 200) << grant;
  EXPECT_EQ(grant.data()["roles"], json::array({"other"}));
  EXPECT_EQ(h.call("GET", "/api/v1/roles", "", grace.token).status, 200);

  auto deactivate = h.call("PUT", "/api/v1/users/permissions", json{{"userID", grace.id}, {"status", 2}}, admin);
  ASSERT_EQ(deactivate.status, 200);
  auto inactive = h.call("GET", "/api/v1/roles", "", grace.token);
  EXPECT_EQ(inactive.status, 401);
  EXPECT_EQ(inactive.error(), "user is inactive");
  EXPECT_EQ(h.login("grace@example.com", grace.password).status, 401);

  // The last active administrator cannot be demoted or deactivated.
  auto self = h.call("GET", "/api/v1/users/self", "", admin);
  auto demote = h.call("PUT", "/api/v1/users/permissions",
                       json{{"userID", self.data()["id"]}, {"roles", json::array()}}, admin);
  EXPECT_EQ(demote.status, 409) << demote;
}

// While the store is still being migrated (here: a MongoDB nobody listens for), routes
// that need it answer 503 + Retry-After in words, never a store error or a 500.
TEST(CoordinatorApi, StoreRoutesAnswer503UntilTheStoreIsReady) {
  const std::string nobody = "mongodb://127.0.0.1:" + std::to_string(free_loopback_port());
  CoordinatorHarness h({{"GTHULHU_STORE_BACKEND", "mongodb"},
                        {"GTHULHU_MONGODB_URI", nobody},
                        {"GTHULHU_MONGODB_SERVER_SELECTION_TIMEOUT", "200ms"}},
                       /*wait_for_ready=*/false);
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"POST", "/api/v1/auth/login"}, {"GET", "/api/v1/strategies/self"},
           {"GET", "/api/v1/nodes"}, {"GET", "/api/v1/users"}}) {
    auto r = method == "POST" ? h.login(kAdminUser, kAdminPassword) : h.call(method, path);
    EXPECT_EQ(r.status, 503) << method << " " << path << ": " << r;
    EXPECT_NE(r.error().find("starting"), std::string::npos) << r;
    EXPECT_EQ(r.headers["retry-after"], "1") << r;
  }
  auto health = h.call("GET", "/health");
  EXPECT_EQ(health.status, 503) << health;
  EXPECT_EQ(health.body["store"]["starting"], true) << health;
  EXPECT_EQ(h.call("GET", "/version").status, 200);
}

TEST(CoordinatorApi, HealthVersionAndNodes) {
  CoordinatorHarness h;
  auto health = h.call("GET", "/health");
  ASSERT_EQ(health.status, 200) << health;
  EXPECT_EQ(health.body["status"], "healthy");
  EXPECT_EQ(health.body["store"]["backend"], "sqlite");
  auto version = h.call("GET", "/version");
  EXPECT_EQ(version.status, 200);
  EXPECT_EQ(version.body["version"], GTHULHU_VERSION);
  auto nodes = h.call("GET", "/api/v1/nodes", "", h.admin_token());
  ASSERT_EQ(nodes.status, 200);
  EXPECT_EQ(nodes.data()["nodes"].size(), 2u);
  auto metrics = h.call("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.raw.find("http_requests_total"), std::string::npos);
}

TEST(CoordinatorApi, AdminIsBootstrappedOnceAndNeverOverwritten) {
  TempDir keep;
  const auto db = (keep.path() / "persist.db").string();
  {
    CoordinatorHarness h(config::Environment{{"GTHULHU_SQLITE_PATH", db}});
    auto token = h.admin_token();
    auto self = h.call("GET", "/api/v1/users/self", "", token);
    ASSERT_EQ(self.status, 200);
    EXPECT_EQ(self.data()["roles"], json::array({"admin"}));
    EXPECT_EQ(self.data()["status"], 1);
    auto changed = h.call("PUT", "/api/v1/users/self/password",
                          json{{"oldPassword", kAdminPassword}, {"newPassword", "admin changed it 1"}},
                          token);
    ASSERT_EQ(changed.status, 200) << changed;
    // Trim the admin role to what manages users and roles (it may not lose those): a
    // restart must not put the other permissions back.
    auto roles = h.call("GET", "/api/v1/roles", "", changed.data()["accessToken"].get<std::string>());
    std::string admin_role_id = roles.data()["roles"][0]["id"];
    json keep = json::array();
    for (const char* k : {"user.create", "user.read", "user.permission.update", "user.password.reset",
                          "role.create", "role.read", "role.update", "role.delete", "permission.read"}) {
      keep.push_back({{"permissionKey", k}});
    }
    auto trimmed = h.call("PUT", "/api/v1/roles", json{{"id", admin_role_id}, {"rolePolicies", keep}},
                          changed.data()["accessToken"].get<std::string>());
    ASSERT_EQ(trimmed.status, 200) << trimmed;
  }
  {
    // Second start with the original password in the config: the stored one stays.
    CoordinatorHarness h(config::Environment{{"GTHULHU_SQLITE_PATH", db}});
    EXPECT_EQ(h.login(kAdminUser, kAdminPassword).status, 401);
    auto token = h.token_of(kAdminUser, "admin changed it 1");
    auto roles = h.call("GET", "/api/v1/roles", "", token);
    ASSERT_EQ(roles.status, 200);
    EXPECT_EQ(roles.data()["roles"][0]["rolePolicies"].size(), 9u);
  }
}

TEST(CoordinatorApi, FirstStartWithoutAdminPasswordIsAFatalError) {
  EXPECT_THROW(CoordinatorHarness h(config::Environment{{"GTHULHU_ADMIN_PASSWORD", ""}}), std::runtime_error);
  EXPECT_THROW(CoordinatorHarness h(config::Environment{{"GTHULHU_ADMIN_PASSWORD", "short"}}), std::runtime_error);
}

TEST(CoordinatorApi, ConcurrentRequestsAreServed) {
  CoordinatorHarness h(config::Environment{{"GTHULHU_SERVER_THREADS", "4"}});
  const auto token = h.admin_token();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      http::Client c;
      for (int i = 0; i < 25; ++i) {
        json body = kPrometheusStrategy;
        body["priority"] = (t * 25 + i) % 41 - 20;
        auto r = c.request("POST", h.base() + "/api/v1/strategies", body.dump(),
                           {"Authorization: Bearer " + token, "Content-Type: application/json"});
        if (r.ok && r.response.status == 201) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 100);
  EXPECT_EQ(h.call("GET", "/api/v1/strategies/self", "", token).data()["strategies"].size(), 100u);
  EXPECT_EQ(h.call("GET", "/api/v1/intents/self", "", token).data()["intents"].size(), 200u);
}

}  // namespace
}  // namespace gthulhu::test
