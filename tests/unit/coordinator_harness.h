#pragma once
// A real coordinator on 127.0.0.1:0 (SQLite store in a temp dir, low Argon2 cost, a
// static pod inventory) and a client speaking to it, for the coordinator API tests.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/config/config.h"
#include "common/http/client.h"
#include "coordinator/app.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace gthulhu::test {

using json = nlohmann::json;

inline constexpr const char* kAdminUser = "admin@example.com";
inline constexpr const char* kAdminPassword = "correct horse battery staple";

// Two scheduled prometheus pods on two nodes, one finished and one unscheduled
// prometheus pod (no intents for those), and an nginx pod in namespace web.
inline const char* kDefaultInventory = R"({"pods": [
  {"uid": "0a0a0a0a-0000-0000-0000-000000000001", "name": "prometheus-0", "namespace": "default",
   "labels": {"app.kubernetes.io/name": "prometheus"}, "nodeName": "node-a", "phase": "Running"},
  {"uid": "0a0a0a0a-0000-0000-0000-000000000002", "name": "prometheus-1", "namespace": "default",
   "labels": {"app.kubernetes.io/name": "prometheus"}, "nodeName": "node-b", "phase": "Running"},
  {"uid": "0a0a0a0a-0000-0000-0000-000000000003", "name": "prometheus-old", "namespace": "default",
   "labels": {"app.kubernetes.io/name": "prometheus"}, "nodeName": "node-a", "phase": "Succeeded"},
  {"uid": "0a0a0a0a-0000-0000-0000-000000000004", "name": "prometheus-pending", "namespace": "default",
   "labels": {"app.kubernetes.io/name": "prometheus"}, "phase": "Pending"},
  {"uid": "0a0a0a0a-0000-0000-0000-000000000005", "name": "nginx-0", "namespace": "web",
   "labels": {"app": "nginx", "tier": "front"}, "nodeName": "node-b", "phase": "Running"}
]})";

struct Reply {
  long status = 0;
  json body;  // null when not JSON
  std::map<std::string, std::string> headers;
  std::string raw;
  std::string error() const { return body.is_object() ? body.value("error", "") : ""; }
  const json& data() const { return body.at("data"); }
};

inline std::ostream& operator<<(std::ostream& os, const Reply& r) {
  return os << r.status << " " << r.raw;
}

class CoordinatorHarness {
 public:
  // `extra` overrides the test configuration (a GTHULHU_PODS_INVENTORY_FILE of the
  // test's own replaces kDefaultInventory).
  // `wait_for_ready` false: return once the server listens (the store may still be starting).
  explicit CoordinatorHarness(config::Environment extra = {}, bool wait_for_ready = true) {
    spdlog::set_level(spdlog::level::warn);
    const auto inv = dir_.write("inventory.json", kDefaultInventory);
    config::Environment env = {
        {"GTHULHU_SERVER_LISTEN", "127.0.0.1:0"},
        {"GTHULHU_SERVER_ACCESS_LOG", "false"},
        {"GTHULHU_AUTH_PRIVATE_KEY", rsa_key_pair().private_key_pem},
        {"GTHULHU_SQLITE_PATH", (dir_.path() / "coordinator.db").string()},
        {"GTHULHU_AUTH_ARGON2_MEMORY_KIB", "64"},
        {"GTHULHU_AUTH_ARGON2_ITERATIONS", "1"},
        {"GTHULHU_ADMIN_PASSWORD", kAdminPassword},
        {"GTHULHU_PODS_INVENTORY_FILE", inv.string()},
        {"GTHULHU_AUTH_LOGIN_ATTEMPTS_PER_IP", "100000"},
        {"GTHULHU_AUTH_LOGIN_FAILURES_PER_USER", "100000"},
    };
    for (const auto& [k, v] : extra) env[k] = v;
    config_ = config::Config::load(coordinator::App::schema(), std::nullopt, env);
    app_ = std::make_unique<coordinator::App>(config_);
    app_->start();
    if (wait_for_ready && !app_->wait_ready(std::chrono::seconds(20))) {
      throw std::runtime_error("coordinator did not become ready: " +
                               app_->fatal_error().value_or("timeout"));
    }
    base_ = "http://127.0.0.1:" + std::to_string(app_->port());
  }
  ~CoordinatorHarness() { app_->stop(); }

  coordinator::App& app() { return *app_; }
  const TempDir& dir() const { return dir_; }
  const std::string& base() const { return base_; }

  // A JSON body is sent dumped; a JSON string is sent as raw text (so "" sends nothing
  // and std::string("{nope") sends malformed JSON); null sends nothing.
  Reply call(const std::string& method, const std::string& path, const json& body = nullptr,
             const std::string& token = {}) {
    std::string text;
    if (body.is_string()) {
      text = body.get<std::string>();
    } else if (!body.is_null()) {
      text = body.dump();
    }
    return send(method, path, text, token);
  }

  Reply send(const std::string& method, const std::string& path, const std::string& body,
             const std::string& token, std::vector<std::string> headers = {}) {
    return send_with(client_, method, path, body, token, std::move(headers));
  }
  // A login from another loopback source address (127.x.y.z): another client machine.
  Reply login_from(const std::string& source, const std::string& user,
                   const std::string& password) {
    http::ClientOptions o;
    o.local_address = source;
    http::Client c(o);
    return send_with(c, "POST", "/api/v1/auth/login",
                     json{{"username", user}, {"password", password}}.dump(), {});
  }
  Reply send_with(http::Client& client, const std::string& method, const std::string& path,
                  const std::string& body, const std::string& token,
                  std::vector<std::string> headers = {}) {
    if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
    if (!body.empty()) headers.push_back("Content-Type: application/json");
    auto r = client.request(method, base_ + path, body, headers);
    if (!r.ok) throw std::runtime_error("request failed: " + r.error);
    Reply out;
    out.status = r.response.status;
    out.raw = r.response.body;
    out.headers = r.response.headers;
    out.body = json::parse(out.raw, nullptr, /*allow_exceptions=*/false);
    if (out.body.is_discarded()) out.body = nullptr;
    return out;
  }
  Reply login(const std::string& user, const std::string& password) {
    return call("POST", "/api/v1/auth/login", json{{"username", user}, {"password", password}});
  }
  // The access token of a successful login (fails the test otherwise).
  std::string token_of(const std::string& user, const std::string& password) {
    auto r = login(user, password);
    EXPECT_EQ(r.status, 200) << r;
    return r.status == 200 ? r.data().at("accessToken").get<std::string>() : std::string();
  }
  std::string admin_token() { return token_of(kAdminUser, kAdminPassword); }

  // Creates a role (admin) and returns its id.
  std::string create_role(const std::string& name, const json& policies) {
    auto r = call("POST", "/api/v1/roles",
                  json{{"name", name}, {"description", name}, {"rolePolicies", policies}},
                  admin_token_cached());
    EXPECT_EQ(r.status, 201) << r;
    return r.status == 201 ? r.data().at("id").get<std::string>() : std::string();
  }

  // Creates a user with these roles, signs in, changes the initial password and
  // returns {user id, access token} of an account ready to use.
  struct Account {
    std::string id;
    std::string username;
    std::string password;
    std::string token;
    std::string refresh_token;
  };
  Account ready_user(const std::string& username, const std::vector<std::string>& roles) {
    Account a;
    a.username = username;
    const std::string initial = "initial password 1";
    a.password = "changed password 2";
    auto created = call("POST", "/api/v1/users",
                        json{{"username", username}, {"password", initial}, {"roles", roles}},
                        admin_token_cached());
    EXPECT_EQ(created.status, 201) << created;
    if (created.status != 201) return a;
    a.id = created.data().at("id").get<std::string>();
    const std::string first = token_of(username, initial);
    auto changed = call("PUT", "/api/v1/users/self/password",
                        json{{"oldPassword", initial}, {"newPassword", a.password}}, first);
    EXPECT_EQ(changed.status, 200) << changed;
    if (changed.status == 200) {
      a.token = changed.data().at("accessToken").get<std::string>();
      a.refresh_token = changed.data().at("refreshToken").get<std::string>();
    }
    return a;
  }

  const std::string& admin_token_cached() {
    if (admin_token_.empty()) admin_token_ = admin_token();
    return admin_token_;
  }

 private:
  TempDir dir_;
  config::Config config_;
  std::unique_ptr<coordinator::App> app_;
  std::string base_;
  http::Client client_;
  std::string admin_token_;
};

}  // namespace gthulhu::test
