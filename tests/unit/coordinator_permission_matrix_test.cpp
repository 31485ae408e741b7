// Every protected endpoint of the coordinator x every way a caller can be refused:
//   no token | malformed | wrong algorithm (HS256 keyed with our public key, "none") |
//   a token signed by another key | expired | revoked (logout-all) |
//   password change pending | lacking the permission | allowed.
// "Allowed" uses a user whose only role grants exactly the endpoint's permission key;
// "lacking" a user whose role grants every key but that one.
#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <set>

#include "common/auth/base64url.h"
#include "common/auth/jwt.h"
#include "coordinator/api/pod_metrics_provider.h"
#include "coordinator/auth/token_service.h"
#include "coordinator/rbac/permissions.h"
#include "tests/unit/coordinator_harness.h"

namespace gthulhu::test {
namespace {

using BodyFactory = std::function<json(CoordinatorHarness&, const CoordinatorHarness::Account&)>;

struct Endpoint {
  std::string method;
  std::string path;
  std::string permission;  // "" = any signed-in user
  int success;
  BodyFactory body = [](CoordinatorHarness&, const CoordinatorHarness::Account&) { return json(nullptr); };
  std::string query{};  // appended to the path when calling
};

std::ostream& operator<<(std::ostream& os, const Endpoint& e) { return os << e.method << " " << e.path; }

const json kStrategy = {{"labelSelectors", {{{"key", "app.kubernetes.io/name"}, {"value", "prometheus"}}}},
                        {"priority", 5}};

int counter() {
  static int n = 0;
  return ++n;
}

std::string admin_strategy(CoordinatorHarness& h) {
  auto r = h.call("POST", "/api/v1/strategies", kStrategy, h.admin_token_cached());
  EXPECT_EQ(r.status, 201) << r;
  return r.data()["strategy"]["id"];
}

std::string scratch_role(CoordinatorHarness& h) {
  return h.create_role("scratch-" + std::to_string(counter()), json::array());
}

std::string victim(CoordinatorHarness& h) {
  auto r = h.call("POST", "/api/v1/users",
                  json{{"username", "victim-" + std::to_string(counter())}, {"password", "victim password 1"}},
                  h.admin_token_cached());
  EXPECT_EQ(r.status, 201) << r;
  return r.data()["id"];
}

// Answers for every pod, so the pod metrics endpoint has something to grant.
struct AnyPodMetrics : coordinator::PodMetricsProvider {
  std::optional<json> pod_metrics(const std::string& uid) override {
    return json{{"podId", uid}, {"node", "node-a"}, {"cpuTimeNs", 1}, {"runs", 1}};
  }
};

std::vector<Endpoint> endpoints() {
  using A = CoordinatorHarness::Account;
  return {
      {"POST", "/api/v1/auth/logout-all", "", 200},
      {"GET", "/api/v1/auth/validate", "", 200},
      {"POST", "/api/v1/users", "user.create", 201,
       [](CoordinatorHarness&, const A&) {
         return json{{"username", "new-" + std::to_string(counter())}, {"password", "brand new password"}};
       }},
      {"GET", "/api/v1/users", "user.read", 200},
      {"PUT", "/api/v1/users/password", "user.password.reset", 200,
       [](CoordinatorHarness& h, const A&) {
         return json{{"userID", victim(h)}, {"newPassword", "reset password 12"}};
       }},
      {"PUT", "/api/v1/users/permissions", "user.permission.update", 200,
       [](CoordinatorHarness& h, const A&) { return json{{"userID", victim(h)}, {"roles", json::array()}}; }},
      {"PUT", "/api/v1/users/self/password", "user.password.change", 200,
       [](CoordinatorHarness&, const A& a) {
         return json{{"oldPassword", a.password}, {"newPassword", "yet another password"}};
       }},
      {"GET", "/api/v1/users/self", "", 200},
      {"POST", "/api/v1/roles", "role.create", 201,
       [](CoordinatorHarness&, const A&) { return json{{"name", "made-" + std::to_string(counter())}}; }},
      {"GET", "/api/v1/roles", "role.read", 200},
      {"PUT", "/api/v1/roles", "role.update", 200,
       [](CoordinatorHarness& h, const A&) { return json{{"id", scratch_role(h)}, {"description", "edited"}}; }},
      {"DELETE", "/api/v1/roles", "role.delete", 200,
       [](CoordinatorHarness& h, const A&) { return json{{"id", scratch_role(h)}}; }},
      {"GET", "/api/v1/permissions", "permission.read", 200},
      {"POST", "/api/v1/strategies", "schedule_strategy.create", 201,
       [](CoordinatorHarness&, const A&) { return kStrategy; }},
      {"PUT", "/api/v1/strategies", "schedule_strategy.update", 200,
       [](CoordinatorHarness& h, const A&) { return json{{"strategyId", admin_strategy(h)}, {"priority", 7}}; }},
      {"GET", "/api/v1/strategies/self", "schedule_strategy.read", 200},
      {"DELETE", "/api/v1/strategies", "schedule_strategy.delete", 200,
       [](CoordinatorHarness& h, const A&) { return json{{"strategyId", admin_strategy(h)}}; }},
      {"GET", "/api/v1/intents/self", "schedule_intent.read", 200},
      {"DELETE", "/api/v1/intents", "schedule_intent.delete", 200,
       [](CoordinatorHarness& h, const A&) {
         const auto sid = admin_strategy(h);
         auto intents = h.call("GET", "/api/v1/intents/self?strategyId=" + sid, nullptr, h.admin_token_cached());
         EXPECT_FALSE(intents.data()["intents"].empty());
         return json{{"intentIds", {intents.data()["intents"][0]["id"]}}};
       }},
      {"GET", "/api/v1/nodes", "pod_pid_mapping.read", 200},
      {"POST", "/api/v1/strategies/preview", "schedule_strategy.create", 200,
       [](CoordinatorHarness&, const A&) { return kStrategy; }},
      {"GET", "/api/v1/pods/metrics", "pod_pid_mapping.read", 200,
       [](CoordinatorHarness& h, const A&) {
         static AnyPodMetrics provider;
         h.app().set_pod_metrics_provider(&provider);
         return json(nullptr);
       },
       "?podId=0a0a0a0a-0000-0000-0000-000000000001"},
      {"GET", "/api/v1/users/self/permissions", "", 200},
  };
}

// Routes that need no token.
const std::set<std::pair<std::string, std::string>> kPublic = {
    {"GET", "/health"},           {"GET", "/version"},           {"GET", "/metrics"},
    {"GET", "/swagger/"},         {"GET", "/swagger/doc.json"},  {"POST", "/api/v1/auth/login"},
    {"POST", "/api/v1/auth/refresh"}, {"POST", "/api/v1/auth/logout"},
    // The web UI (coordinator/web/ui_routes.cpp).
    {"GET", "/"}, {"GET", "/assets/*"}, {"GET", "/favicon.svg"}, {"GET", "/login"},
    {"GET", "/change-password"}, {"GET", "/strategies/*"}, {"GET", "/intents/*"},
    {"GET", "/nodes/*"}, {"GET", "/pods/*"}, {"GET", "/admin/*"}};

std::string b64(const std::string& s) { return auth::base64url_encode(s); }

std::string hs256_token(const json& payload, const std::string& key) {
  const std::string signing_input = b64(R"({"alg":"HS256","typ":"JWT"})") + "." + b64(payload.dump());
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac, &len);
  return signing_input + "." + b64(std::string(reinterpret_cast<char*>(mac), len));
}

std::string none_token(const json& payload) {
  return b64(R"({"alg":"none","typ":"JWT"})") + "." + b64(payload.dump()) + ".";
}

class PermissionMatrix : public ::testing::TestWithParam<Endpoint> {
 protected:
  static void SetUpTestSuite() {
    h_ = new CoordinatorHarness();
    auto& h = *h_;
    auto self = h.call("GET", "/api/v1/users/self", nullptr, h.admin_token_cached());
    admin_id_ = new std::string(self.data()["id"].get<std::string>());

    const auto now = std::chrono::system_clock::now();
    json payload = {{"uid", *admin_id_},          {"sub", *admin_id_},
                    {"needChangePassword", false}, {"tokenVersion", 0},
                    {"tokenType", "access"},       {"iss", "gthulhu-coordinator"},
                    {"iat", std::chrono::system_clock::to_time_t(now)},
                    {"exp", std::chrono::system_clock::to_time_t(now + std::chrono::minutes(10))}};
    hs256_ = new std::string(hs256_token(payload, h.app().tokens().public_key_pem()));
    none_ = new std::string(none_token(payload));
    json claims = {{"uid", *admin_id_}, {"sub", *admin_id_}, {"needChangePassword", false},
                   {"tokenVersion", 0}, {"tokenType", "access"}};
    auth::JwtSigner foreign(other_rsa_key_pair().private_key_pem, "gthulhu-coordinator");
    foreign_ = new std::string(foreign.sign(claims, std::chrono::minutes(10)));
    auth::JwtSigner past(rsa_key_pair().private_key_pem, "gthulhu-coordinator",
                         [] { return std::chrono::system_clock::now() - std::chrono::hours(2); });
    expired_ = new std::string(past.sign(claims, std::chrono::minutes(15)));
    auth::JwtSigner refresh_typed(rsa_key_pair().private_key_pem, "gthulhu-coordinator");
    json refresh_claims = claims;
    refresh_claims["tokenType"] = "refresh";
    wrong_type_ = new std::string(refresh_typed.sign(refresh_claims, std::chrono::minutes(10)));

    auto revoked = h.ready_user("revoked@example.com", {"admin"});
    EXPECT_EQ(h.call("POST", "/api/v1/auth/logout-all", nullptr, revoked.token).status, 200);
    revoked_ = new std::string(revoked.token);

    EXPECT_EQ(h.call("POST", "/api/v1/users",
                     json{{"username", "pending@example.com"}, {"password", "pending password 1"}, {"roles", {"admin"}}},
                     h.admin_token_cached()).status, 201);
    pending_ = new std::string(h.token_of("pending@example.com", "pending password 1"));
  }
  static void TearDownTestSuite() {
    delete h_;
    for (auto* s : {admin_id_, hs256_, none_, foreign_, expired_, wrong_type_, revoked_, pending_}) delete s;
  }

  Reply call(const std::string& token, const json& body = nullptr, std::vector<std::string> headers = {}) {
    const auto& e = GetParam();
    std::string text = body.is_null() ? std::string() : body.dump();
    return h_->send(e.method, e.path + e.query, text, token, std::move(headers));
  }

  // A ready user holding one role with exactly these permission keys.
  CoordinatorHarness::Account user_with(const std::vector<std::string>& keys, const std::string& tag) {
    json policies = json::array();
    for (const auto& k : keys) policies.push_back({{"permissionKey", k}});
    const std::string role = tag + "-" + std::to_string(counter());
    h_->create_role(role, policies);
    return h_->ready_user(role + "@example.com", {role});
  }

  static CoordinatorHarness* h_;
  static std::string *admin_id_, *hs256_, *none_, *foreign_, *expired_, *wrong_type_, *revoked_, *pending_;
};

CoordinatorHarness* PermissionMatrix::h_ = nullptr;
std::string *PermissionMatrix::admin_id_, *PermissionMatrix::hs256_, *PermissionMatrix::none_,
    *PermissionMatrix::foreign_, *PermissionMatrix::expired_, *PermissionMatrix::wrong_type_,
    *PermissionMatrix::revoked_, *PermissionMatrix::pending_;

void expect_refused(const Reply& r, int status, const std::string& message, const char* what) {
  EXPECT_EQ(r.status, status) << what << ": " << r;
  EXPECT_EQ(r.error(), message) << what << ": " << r;
  EXPECT_FALSE(r.body.value("success", true)) << what;
  if (status == 401) {
    EXPECT_TRUE(r.headers.count("www-authenticate")) << what;
  }
}

TEST_P(PermissionMatrix, EveryRefusalAndTheGrant) {
  const Endpoint& e = GetParam();
  const json filler = json::object();

  expect_refused(call(""), 401, "Missing Authorization header", "no token");
  expect_refused(call("", filler, {"Authorization: Basic YWRtaW46YWRtaW4="}), 401,
                 "Invalid Authorization header format", "basic auth");
  expect_refused(call("", filler, {"Authorization: Bearer"}), 401,
                 "Invalid Authorization header format", "empty bearer");
  expect_refused(call("not-a-jwt"), 401, "invalid or expired token", "malformed");
  expect_refused(call("a.b.c"), 401, "invalid or expired token", "malformed segments");
  expect_refused(call(*hs256_), 401, "invalid or expired token", "HS256 keyed with the public key");
  expect_refused(call(*none_), 401, "invalid or expired token", "alg none");
  expect_refused(call(*foreign_), 401, "invalid or expired token", "another key");
  expect_refused(call(*expired_), 401, "invalid or expired token", "expired");
  expect_refused(call(*wrong_type_), 401, "invalid token type", "refresh-typed JWT");
  expect_refused(call(*revoked_), 401, "token revoked", "revoked by logout-all");

  const bool always_granted = e.permission.empty() || e.permission == "user.password.change";
  if (e.permission != "user.password.change") {
    expect_refused(call(*pending_), 403, "password change required", "password change pending");
  }

  // Lacking: every catalogue key but this one.
  std::vector<std::string> all_but;
  for (const auto& p : coordinator::permission_catalogue()) {
    if (p.key != e.permission) all_but.push_back(p.key);
  }
  auto lacking = user_with(all_but, "lacking");
  auto lacking_reply = call(lacking.token, e.body(*h_, lacking));
  if (always_granted) {
    EXPECT_EQ(lacking_reply.status, e.success) << "needs no permission key: " << lacking_reply;
  } else {
    expect_refused(lacking_reply, 403, "permission denied", "lacking permission");
  }

  // Allowed: exactly this key.
  std::vector<std::string> only;
  if (!e.permission.empty()) only.push_back(e.permission);
  auto allowed = user_with(only, "allowed");
  auto reply = call(allowed.token, e.body(*h_, allowed));
  EXPECT_EQ(reply.status, e.success) << "allowed: " << reply;
  EXPECT_TRUE(reply.body.value("success", false)) << reply;
}

std::string endpoint_name(const ::testing::TestParamInfo<Endpoint>& info) {
  std::string n = info.param.method + info.param.path;
  for (auto& c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
}

INSTANTIATE_TEST_SUITE_P(Coordinator, PermissionMatrix, ::testing::ValuesIn(endpoints()), endpoint_name);

// The matrix covers every route of the server that needs a token.
TEST(PermissionMatrixCoverage, EveryProtectedRouteIsInTheMatrix) {
  CoordinatorHarness h;
  std::set<std::pair<std::string, std::string>> routes, matrix;
  for (const auto& r : h.app().router().routes()) {
    if (!kPublic.count(r)) routes.insert(r);
  }
  for (const auto& e : endpoints()) matrix.insert({e.method, e.path});
  EXPECT_EQ(routes, matrix);
  // And the public ones really are public.
  for (const auto& [method, path] : kPublic) {
    auto r = h.call(method, path, method == "POST" ? json::object() : json(nullptr));
    // No bearer token is asked for; refresh and logout answer 401 only for their own
    // credential, the refresh token, when none is sent.
    if (r.status == 401) {
      EXPECT_NE(r.error().find("refreshToken is required"), std::string::npos)
          << method << " " << path << ": " << r.error();
    }
    EXPECT_NE(r.status, 403) << method << " " << path;
  }
}

}  // namespace
}  // namespace gthulhu::test
