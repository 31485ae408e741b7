// The coordinator's JSON request bodies (strategies, users, roles, logins, refresh and
// intent deletes) through its real router, on a real SQLite store in a temp dir, as
// the bootstrapped administrator. Input: first byte picks the route, the rest is the
// body. Also checks the RBAC invariant: the administrator can always manage roles.
#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdio>
#include <memory>

#include "common/config/config.h"
#include "coordinator/app.h"
#include "fuzz/fuzz_support.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

using namespace gthulhu;

namespace {

constexpr const char* kAdmin = "admin@example.com";
constexpr const char* kPassword = "correct horse battery staple";

struct Coordinator {
  test::TempDir dir;
  config::Config cfg;
  std::unique_ptr<coordinator::App> app;
  std::string bearer;

  Coordinator() {
    const auto inv = dir.write("inventory.json", R"({"pods":[
      {"uid":"0a0a0a0a-0000-0000-0000-000000000005","name":"nginx-0","namespace":"web",
       "labels":{"app":"nginx"},"nodeName":"node-b","phase":"Running"}]})");
    config::Environment env = {
        {"GTHULHU_SERVER_LISTEN", "127.0.0.1:0"},
        {"GTHULHU_SERVER_ACCESS_LOG", "false"},
        {"GTHULHU_AUTH_PRIVATE_KEY", test::rsa_key_pair().private_key_pem},
        {"GTHULHU_SQLITE_PATH", (dir.path() / "coordinator.db").string()},
        {"GTHULHU_AUTH_ARGON2_MEMORY_KIB", "64"},
        {"GTHULHU_AUTH_ARGON2_ITERATIONS", "1"},
        {"GTHULHU_ADMIN_PASSWORD", kPassword},
        {"GTHULHU_PODS_INVENTORY_FILE", inv.string()},
        {"GTHULHU_AUTH_LOGIN_ATTEMPTS_PER_IP", "1000000"},
    };
    cfg = config::Config::load(coordinator::App::schema(), std::nullopt, env);
    app = std::make_unique<coordinator::App>(cfg);
    app->start();
    if (!app->wait_ready(std::chrono::seconds(30))) std::abort();
    http::Request login;
    login.method = "POST";
    login.path = "/api/v1/auth/login";
    login.peer_address = "127.0.0.1";
    login.body = nlohmann::json{{"username", kAdmin}, {"password", kPassword}}.dump();
    auto r = fuzz::call_route(app->router(), login);
    bearer = "Bearer " + nlohmann::json::parse(r.body)["data"]["accessToken"].get<std::string>();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Coordinator* c = [] {
    spdlog::set_level(spdlog::level::off);
    fuzz::report_at_exit();
    return new Coordinator;
  }();
  if (size == 0) return 0;
  static const std::pair<const char*, const char*> kRoutes[] = {
      {"POST", "/api/v1/strategies"},  {"PUT", "/api/v1/strategies"},
      {"POST", "/api/v1/users"},       {"PUT", "/api/v1/users/permissions"},
      {"POST", "/api/v1/roles"},       {"PUT", "/api/v1/roles"},
      {"POST", "/api/v1/auth/login"},  {"POST", "/api/v1/auth/refresh"},
      {"DELETE", "/api/v1/intents"}};
  constexpr size_t kCount = sizeof kRoutes / sizeof kRoutes[0];
  const auto& [method, path] = kRoutes[data[0] % kCount];
  http::Request req;
  req.method = method;
  req.path = path;
  req.body.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  req.peer_address = "127.0.0.1";
  req.request_id = "fuzz";
  req.headers["authorization"] = c->bearer;
  req.headers["content-type"] = "application/json";
  fuzz::call_route(c->app->router(), req);
  // Whatever was sent, the administrator still reads roles (issue 12, item 7).
  http::Request check;
  check.method = "GET";
  check.path = "/api/v1/roles";
  check.peer_address = "127.0.0.1";
  check.headers["authorization"] = c->bearer;
  auto roles = fuzz::call_route(c->app->router(), check);
  if (roles.status != 200) {
    std::fprintf(stderr, "fuzz: the administrator lost role.read: %d %s\n", roles.status,
                 roles.body.c_str());
    std::abort();
  }
  return 0;
}
