// The coordinator's building blocks without a server: validation, planning, pod
// inventory, rate limiting, passwords and tokens.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "coordinator/auth/password_hasher.h"
#include "coordinator/auth/password_policy.h"
#include "coordinator/auth/rate_limiter.h"
#include "coordinator/auth/token_service.h"
#include "coordinator/domain/validation.h"
#include "coordinator/planner/planner.h"
#include "coordinator/pods/static_pod_source.h"
#include "coordinator/rbac/permissions.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace gthulhu::coordinator {
namespace {

using namespace std::chrono_literals;

TEST(Validation, LabelKeysFollowKubernetesQualifiedNames) {
  for (const char* ok : {"app", "app.kubernetes.io/name", "a", "A_b-c.d", "example.com/x", "x9"}) {
    EXPECT_EQ(check_label_key(ok), "") << ok;
  }
  for (const char* bad : {"", "-app", "app-", "a b", "Example.com/x", "/name", "example.com/",
                          "a/b/c", "ключ"}) {
    EXPECT_NE(check_label_key(bad), "") << bad;
  }
  EXPECT_NE(check_label_key(std::string(64, 'a')), "");
  EXPECT_EQ(check_label_key(std::string(63, 'a')), "");
  EXPECT_NE(check_label_key(std::string(254, 'a') + "/x"), "");
}

TEST(Validation, LabelValues) {
  EXPECT_EQ(check_label_value(""), "");
  EXPECT_EQ(check_label_value("v1.2_3-x"), "");
  EXPECT_NE(check_label_value("-x"), "");
  EXPECT_NE(check_label_value("a b"), "");
  EXPECT_NE(check_label_value(std::string(64, 'v')), "");
}

TEST(Validation, NamespacesAreDns1123Labels) {
  EXPECT_EQ(check_namespace("kube-system"), "");
  EXPECT_EQ(check_namespace("a"), "");
  EXPECT_NE(check_namespace(""), "");
  EXPECT_NE(check_namespace("Default"), "");
  EXPECT_NE(check_namespace("a.b"), "");
  EXPECT_NE(check_namespace("-a"), "");
  EXPECT_NE(check_namespace(std::string(64, 'a')), "");
}

TEST(Validation, CommandRegexIsRe2) {
  EXPECT_EQ(check_command_regex(""), "");
  EXPECT_EQ(check_command_regex("^nginx( |$)"), "");
  EXPECT_EQ(check_command_regex(R"((?i)java\d+)"), "");
  EXPECT_NE(check_command_regex("("), "");
  EXPECT_NE(check_command_regex("(?=lookahead)"), "");  // Go/RE2 has no lookaround
  EXPECT_NE(check_command_regex(R"((a)\1)"), "");       // nor backreferences
  EXPECT_NE(check_command_regex(std::string(1025, 'a')), "");
}

TEST(Validation, StrategyRangesAndMessages) {
  Strategy s;
  s.k8s_namespaces = {"web"};
  EXPECT_TRUE(validate_strategy(s).empty());
  s.priority = -20;
  s.execution_time = 500000;
  EXPECT_TRUE(validate_strategy(s).empty());
  s.priority = 20;
  s.execution_time = 100000000;
  EXPECT_TRUE(validate_strategy(s).empty());
  s.priority = -21;
  s.execution_time = 499999;
  auto errors = validate_strategy(s);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].field, "priority");
  EXPECT_EQ(errors[1].field, "executionTime");
  EXPECT_EQ(join(errors),
            "priority: must be between -20 and 20, got -21; executionTime: must be 0 (scheduler "
            "default) or between 500000 and 100000000 ns, got 499999");
  s.priority = 0;
  s.execution_time = 100000001;
  EXPECT_EQ(validate_strategy(s).size(), 1u);
  s.execution_time = -1;
  EXPECT_EQ(validate_strategy(s).size(), 1u);

  // One key twice is allowed (ANDed: two values match no pod), as the document says.
  Strategy dup;
  dup.label_selectors = {{"app", "a"}, {"app", "b"}};
  EXPECT_TRUE(validate_strategy(dup).empty());
  EXPECT_EQ(validate_strategy(Strategy{}).size(), 1u);  // selects nothing at all
}

TEST(Validation, UsernamesAndRoleNames) {
  EXPECT_EQ(check_username("admin@example.com"), "");
  EXPECT_NE(check_username(""), "");
  EXPECT_NE(check_username(" x"), "");
  EXPECT_NE(check_username("a\nb"), "");
  EXPECT_NE(check_username(std::string(129, 'u')), "");
  EXPECT_EQ(check_role_name("team-a_viewer.v2"), "");
  EXPECT_NE(check_role_name("team a"), "");
  EXPECT_NE(check_role_name(""), "");
}

std::vector<Pod> pods() {
  return {
      {"u1", "web-0", "web", {{"app", "nginx"}, {"tier", "front"}}, "node-a", "Running", ""},
      {"u2", "web-1", "web", {{"app", "nginx"}}, "node-b", "Pending", ""},  // scheduled, starting
      {"u3", "web-2", "web", {{"app", "nginx"}}, "", "Pending", ""},        // unscheduled
      {"u4", "web-3", "web", {{"app", "nginx"}}, "node-a", "Succeeded", ""},
      {"u5", "web-4", "web", {{"app", "nginx"}}, "node-a", "Failed", ""},
      {"u6", "api-0", "api", {{"app", "nginx"}, {"tier", "back"}}, "node-c", "Running", ""},
  };
}

TEST(Planner, OnlyScheduledUnfinishedMatchingPods) {
  Strategy s;
  s.id = new_id();
  s.creator_id = "c";
  s.label_selectors = {{"app", "nginx"}};
  s.priority = 4;
  s.execution_time = 1000000;
  s.command_regex = "^nginx";
  auto intents = plan_intents(s, pods(), 1234);
  ASSERT_EQ(intents.size(), 3u);
  EXPECT_EQ(intents[0].pod_id, "u1");
  EXPECT_EQ(intents[1].pod_id, "u2");
  EXPECT_EQ(intents[2].pod_id, "u6");
  const auto& i = intents[0];
  EXPECT_EQ(i.strategy_id, s.id);
  EXPECT_EQ(i.node_id, "node-a");
  EXPECT_EQ(i.pod_name, "web-0");
  EXPECT_EQ(i.k8s_namespace, "web");
  EXPECT_EQ(i.priority, 4);
  EXPECT_EQ(i.execution_time, 1000000);
  EXPECT_EQ(i.command_regex, "^nginx");
  EXPECT_EQ(i.pod_labels.at("tier"), "front");
  EXPECT_EQ(i.state, IntentState::kInitialized);
  EXPECT_EQ(i.creator_id, "c");
  EXPECT_EQ(i.created_at, 1234);
  EXPECT_TRUE(is_valid_id(i.id));
  EXPECT_NE(intents[0].id, intents[1].id);
}

TEST(Planner, NamespacesAndKeyExistence) {
  Strategy s;
  s.k8s_namespaces = {"api"};
  EXPECT_EQ(plan_intents(s, pods(), 0).size(), 1u);
  s.k8s_namespaces = {"web", "api"};
  s.label_selectors = {{"tier", ""}};  // the key must exist, any value
  auto intents = plan_intents(s, pods(), 0);
  ASSERT_EQ(intents.size(), 2u);
  EXPECT_EQ(intents[0].pod_id, "u1");
  EXPECT_EQ(intents[1].pod_id, "u6");
  s.label_selectors = {{"tier", "front"}, {"app", "nginx"}};  // AND
  EXPECT_EQ(plan_intents(s, pods(), 0).size(), 1u);
  s.label_selectors = {{"app", "apache"}};
  EXPECT_TRUE(plan_intents(s, pods(), 0).empty());
}

TEST(StaticPodSource, ReadsTheInventoryFile) {
  test::TempDir dir;
  auto path = dir.write("pods.json", R"({"pods":[
    {"uid":"b","name":"z","namespace":"ns2","labels":{"a":"1"},"nodeName":"n2"},
    {"uid":"a","name":"y","namespace":"ns1","nodeName":"n1","phase":"Succeeded"}],
    "nodes":["n3"]})");
  auto src = StaticPodSource::from_file(path);
  auto ps = src->pods();
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[0].namespace_, "ns1");  // sorted
  EXPECT_EQ(ps[1].phase, "Running");   // default phase
  EXPECT_EQ(ps[1].labels.at("a"), "1");
  EXPECT_EQ(src->nodes(), (std::vector<std::string>{"n1", "n2", "n3"}));
  EXPECT_TRUE(src->synced());
  auto bare = StaticPodSource::from_json(R"([{"uid":"x","name":"n","namespace":"d"}])", "inline");
  EXPECT_EQ(bare->pods().size(), 1u);
}

TEST(StaticPodSource, BadInventoriesSayWhatAndWhere) {
  auto expect_error = [](const std::string& text, const std::string& needle) {
    try {
      StaticPodSource::from_json(text, "inv.json");
      ADD_FAILURE() << "accepted " << text;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error("{", "inv.json: not valid JSON");
  expect_error(R"({"pods":[{"name":"n","namespace":"d"}]})", "pods[0]: \"uid\" is required");
  expect_error(R"({"pods":[{"uid":"x","name":"n","namespace":"d","labels":{"a":1}}]})",
               "label values must be strings");
  expect_error(R"({"pods":[{"uid":"x","name":"n","namespace":"d"},{"uid":"x","name":"m","namespace":"d"}]})",
               "duplicate uid");
  EXPECT_THROW(StaticPodSource::from_file("/nonexistent/pods.json"), std::runtime_error);
}

TEST(RateLimiter, BurstThenRetryAfterThenRefill) {
  auto now = std::chrono::steady_clock::time_point{} + 1h;
  RateLimiter limiter(3, 60s, 100, [&] { return now; });
  EXPECT_TRUE(limiter.consume("ip").allowed);
  EXPECT_TRUE(limiter.consume("ip").allowed);
  EXPECT_TRUE(limiter.consume("ip").allowed);
  auto refused = limiter.consume("ip");
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 20s);  // one attempt earned back every 60/3 s
  EXPECT_FALSE(limiter.check("ip").allowed);
  EXPECT_TRUE(limiter.consume("other").allowed);  // keys are independent
  now += 10s;
  EXPECT_EQ(limiter.check("ip").retry_after, 10s);
  now += 10s;
  EXPECT_TRUE(limiter.check("ip").allowed);
  EXPECT_TRUE(limiter.consume("ip").allowed);
  EXPECT_FALSE(limiter.consume("ip").allowed);
  limiter.reset("ip");
  EXPECT_TRUE(limiter.consume("ip").allowed);
}

TEST(RateLimiter, KeyCountIsBounded) {
  auto now = std::chrono::steady_clock::time_point{} + 1h;
  RateLimiter limiter(2, 60s, 3, [&] { return now; });
  EXPECT_TRUE(limiter.consume("a").allowed);
  EXPECT_TRUE(limiter.consume("b").allowed);
  EXPECT_TRUE(limiter.consume("c").allowed);
  EXPECT_FALSE(limiter.consume("d").allowed);  // full of busy keys: refuse, don't grow
  EXPECT_EQ(limiter.size(), 3u);
  now += 60s;                                  // everyone refilled: pruned on demand
  EXPECT_TRUE(limiter.consume("d").allowed);
  EXPECT_EQ(limiter.size(), 1u);
}

TEST(PasswordPolicy, MinimumRules) {
  PasswordPolicy p;
  EXPECT_EQ(p.check("correct horse battery", "alice"), "");
  EXPECT_NE(p.check("short", "alice"), "");
  EXPECT_NE(p.check("aaaaaaaaaaaaaaaa", "alice"), "");
  EXPECT_NE(p.check("Alice@Example.com", "alice@example.com"), "");
  EXPECT_NE(p.check("password1234", "alice"), "");
  EXPECT_NE(p.check(std::string(257, 'x') + "y", "alice"), "");
  EXPECT_EQ(p.check("ääääääääääääb", "alice"), "");  // 13 characters, 25 bytes
  EXPECT_NE(p.check("äääääb", "alice"), "");         // 6 characters, 11 bytes
}

TEST(PasswordHasher, Argon2idPhcVerifyAndRehash) {
  PasswordHasher h({64, 1, 1, 2});
  const auto phc = h.hash("secret password");
  EXPECT_EQ(phc.rfind("$argon2id$v=19$m=64,t=1,p=1$", 0), 0u) << phc;
  EXPECT_TRUE(h.verify("secret password", phc));
  EXPECT_FALSE(h.verify("secret passworD", phc));
  EXPECT_FALSE(h.verify("secret password", "not a hash"));
  EXPECT_FALSE(h.verify("secret password", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA"));
  EXPECT_NE(h.hash("secret password"), phc);  // fresh salt every time
  EXPECT_FALSE(h.needs_rehash(phc));
  PasswordHasher stronger({128, 2, 1, 2});
  EXPECT_TRUE(stronger.needs_rehash(phc));
  EXPECT_TRUE(stronger.verify("secret password", phc));  // old parameters still verify
  EXPECT_THROW(PasswordHasher({4, 1, 1, 1}), std::invalid_argument);
  EXPECT_THROW(PasswordHasher({64, 0, 1, 1}), std::invalid_argument);
}

// At or above the OWASP Password Storage Cheat Sheet's minimum for Argon2id:
// m = 19 MiB, t = 2, p = 1 (README, "Coordinator").
TEST(PasswordHasher, DefaultsAreAtLeastTheOwaspMinimum) {
  Argon2Params defaults;
  EXPECT_GE(defaults.memory_kib, 19u * 1024);
  EXPECT_GE(defaults.iterations, 2u);
  EXPECT_GE(defaults.parallelism, 1u);
}

TEST(TokenService, AccessTokenClaimsAndRefreshTokens) {
  TokenService tokens(test::rsa_key_pair().private_key_pem, "gthulhu-coordinator", 15min, 24h);
  User u;
  u.id = new_id();
  u.token_version = 7;
  u.status = UserStatus::kWaitChangePassword;
  auto t = tokens.issue_access(u);
  auto v = tokens.verify_access(t);
  ASSERT_TRUE(v.ok) << v.error;
  EXPECT_EQ(v.claims.uid, u.id);
  EXPECT_EQ(v.claims.token_version, 7);
  EXPECT_TRUE(v.claims.need_change_password);
  EXPECT_FALSE(tokens.verify_access(t + "x").ok);

  TokenService other(test::other_rsa_key_pair().private_key_pem, "gthulhu-coordinator", 15min, 24h);
  EXPECT_FALSE(other.verify_access(t).ok);
  TokenService other_issuer(test::rsa_key_pair().private_key_pem, "someone-else", 15min, 24h);
  EXPECT_FALSE(other_issuer.verify_access(t).ok);

  const auto r1 = TokenService::new_refresh_token(u.id);
  const auto r2 = TokenService::new_refresh_token(u.id);
  EXPECT_NE(r1, r2);
  EXPECT_EQ(TokenService::user_of_refresh_token(r1), u.id);
  EXPECT_EQ(TokenService::user_of_refresh_token("junk"), "");
  EXPECT_EQ(TokenService::hash_refresh_token(r1).size(), 64u);
  EXPECT_EQ(TokenService::hash_refresh_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(TokenService, RememberedTokensStillExpire) {
  auto now = std::chrono::system_clock::now();
  TokenService tokens(test::rsa_key_pair().private_key_pem, "gthulhu-coordinator", 15min, 24h,
                      [&] { return now; });
  User u;
  u.id = new_id();
  const auto t = tokens.issue_access(u);
  EXPECT_TRUE(tokens.verify_access(t).ok);
  EXPECT_TRUE(tokens.verify_access(t).ok);  // remembered
  now += 16min;
  EXPECT_FALSE(tokens.verify_access(t).ok);
  EXPECT_FALSE(tokens.verify_access(t).ok);
}

TEST(Permissions, UpstreamKeysAndAdminTemplate) {
  const auto& all = permission_catalogue();
  EXPECT_EQ(all.size(), 28u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(),
                             [](const auto& a, const auto& b) { return a.key < b.key; }));
  EXPECT_TRUE(is_known_permission("schedule_strategy.create"));
  EXPECT_FALSE(is_known_permission("user.password.change"));  // always granted, as upstream
  auto admin = admin_role_template();
  EXPECT_EQ(admin.name, "admin");
  EXPECT_EQ(admin.policies.size(), all.size());
  for (const auto& p : admin.policies) EXPECT_FALSE(p.self);
}

TEST(Ids, ShapedLikeObjectIds) {
  auto a = new_id(), b = new_id();
  EXPECT_TRUE(is_valid_id(a));
  EXPECT_NE(a, b);
  EXPECT_FALSE(is_valid_id("ABCDEF000000000000000000"));
  EXPECT_FALSE(is_valid_id("abc"));
}

}  // namespace
}  // namespace gthulhu::coordinator
