// Both real servers (the gthulhu-coordinator and gthulhu-agent binaries) against a
// hostile or careless client: bad JSON values, invalid UTF-8, wrong types, an
// over-long URL and headers, clients that trickle their head or body, and a flood of
// connections from one loopback address beside a well-behaved client on another.
// Every answer is checked (JSON envelope, status, no library exception ids), and each
// server must still be healthy afterwards. The coordinator needs nothing special; the
// agent needs root and BPF (the tracker), and is skipped with the reason otherwise.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "agent/bpf/tracker_bpf.h"
#include "common/http/client.h"
#include "tests/integration/host_sandbox.h"
#include "tests/support/loopback.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace gthulhu::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kAdmin = "admin@example.com";
constexpr const char* kAdminPassword = "correct horse battery staple";
constexpr const char* kAgentSecret = "hostile-test-secret-0123456789";

// Limits both servers run with here: short deadlines keep the test quick.
const std::vector<std::pair<std::string, std::string>> kServerEnv = {
    {"GTHULHU_SERVER_REQUEST_HEAD_TIMEOUT", "2s"},
    {"GTHULHU_SERVER_REQUEST_BODY_TIMEOUT", "2s"},
    {"GTHULHU_SERVER_CONNECTION_TIMEOUT", "30s"},
    {"GTHULHU_SERVER_MAX_CONNECTIONS_PER_IP", "8"},
    {"GTHULHU_SERVER_ACCESS_LOG", "false"},
    {"GTHULHU_LOG_LEVEL", "error"},
};

// A server binary as a child process, stopped with SIGTERM by the destructor.
class ServerProcess {
 public:
  ServerProcess(const char* binary, std::vector<std::pair<std::string, std::string>> env)
      : port_(free_loopback_port()) {
    env.emplace_back("GTHULHU_SERVER_LISTEN", "127.0.0.1:" + std::to_string(port_));
    for (const auto& kv : kServerEnv) env.push_back(kv);
    pid_ = fork();
    if (pid_ == 0) {
      for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
      execl(binary, binary, nullptr);
      _exit(98);
    }
  }
  ~ServerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  bool alive() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }
  uint16_t port() const { return port_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  bool healthy() const {
    http::Client c;
    auto r = c.get(url("/health"));
    return r.ok && (r.response.status == 200 || r.response.status == 503) &&
           json::accept(r.response.body);
  }

 private:
  uint16_t port_;
  pid_t pid_ = -1;
};

struct BadRequest {
  std::string what;
  std::string method, path, body;
  std::vector<int> statuses;  // acceptable answers
  std::string must_mention;   // in the error text ("" = anything)
};

// Sends each bad request and checks its answer: an allowed status, the JSON error
// envelope, and no JSON library exception id.
void replay(const ServerProcess& s, const std::string& auth, const std::vector<BadRequest>& bad) {
  http::Client c;
  for (const auto& b : bad) {
    auto r = c.request(b.method, s.url(b.path), b.body,
                       {"Content-Type: application/json", "Authorization: " + auth});
    ASSERT_TRUE(r.ok) << b.what << ": " << r.error;
    EXPECT_NE(std::find(b.statuses.begin(), b.statuses.end(), r.response.status), b.statuses.end())
        << b.what << ": " << r.response.status << " " << r.response.body;
    auto j = json::parse(r.response.body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << b.what << ": not JSON: " << r.response.body;
    EXPECT_EQ(j.value("success", true), false) << b.what;
    const std::string error = j.value("error", "");
    EXPECT_EQ(error.find("json.exception"), std::string::npos) << b.what << ": " << error;
    if (!b.must_mention.empty()) {
      EXPECT_NE(error.find(b.must_mention), std::string::npos) << b.what << ": " << error;
    }
  }
}

// The attacks that do not depend on the API: limits, slow clients, floods.
void transport_attacks(const ServerProcess& s) {
  http::Client c;
  // Over-long URL and headers: JSON 414 / 431.
  auto url = c.get(s.url("/health?q=" + std::string(9000, 'a')));
  ASSERT_TRUE(url.ok) << url.error;
  EXPECT_EQ(url.response.status, 414) << url.response.body;
  EXPECT_TRUE(json::accept(url.response.body)) << url.response.body;
  auto hdr = c.get(s.url("/health"), {"X-Junk: " + std::string(70000, 'j')});
  ASSERT_TRUE(hdr.ok) << hdr.error;
  EXPECT_EQ(hdr.response.status, 431) << hdr.response.body;
  EXPECT_TRUE(json::accept(hdr.response.body)) << hdr.response.body;

  // Trickling clients, head and body: closed at their deadline (2 s) although bytes
  // keep coming, while a prompt client is served meanwhile.
  const auto t0 = std::chrono::steady_clock::now();
  std::thread head([&] {
    RawConnection slow(s.port(), "127.0.0.21");
    EXPECT_TRUE(slow.trickle_until_closed("GET /health HTTP/1.1\r\nX-Slow: ", 200ms, 15s));
  });
  std::thread body([&] {
    RawConnection slow(s.port(), "127.0.0.22");
    slow.send_all("POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  "Content-Length: 5000\r\n\r\n");
    EXPECT_TRUE(slow.trickle_until_closed("{", 200ms, 15s, ' '));
  });
  EXPECT_TRUE(s.healthy());
  head.join();
  body.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 12s);

  // A flood from one address. Its first 8 connections are held open by the server
  // (each has had one keep-alive answer, so the server has surely accepted it); every
  // further one from that address is then answered 503 + Retry-After in JSON (or
  // closed, past twice the limit), never served, while another address is served.
  std::vector<std::unique_ptr<RawConnection>> flood;
  for (int i = 0; i < 8; ++i) {
    flood.push_back(std::make_unique<RawConnection>(s.port(), "127.0.0.66"));
    flood.back()->send_all("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto first = flood.back()->read_response(5s);
    EXPECT_EQ(first.rfind("HTTP/1.1 200", 0), 0u) << first;
  }
  std::vector<std::unique_ptr<RawConnection>> extra;
  for (int i = 0; i < 12; ++i) {
    extra.push_back(std::make_unique<RawConnection>(s.port(), "127.0.0.66"));
    extra.back()->send_all("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  }
  http::ClientOptions other;
  other.local_address = "127.0.0.7";
  http::Client good(other);
  auto served = good.get(s.url("/health"));
  EXPECT_TRUE(served.ok && served.response.status != 503) << served.error << served.response.status;
  int answered_503 = 0, closed = 0;
  for (auto& f : extra) {
    const auto answer = f->read_until_close(5s);
    if (answer.rfind("HTTP/1.1 503", 0) == 0) {
      ++answered_503;
      EXPECT_NE(answer.find("Retry-After:"), std::string::npos) << answer;
      EXPECT_NE(answer.find(R"("success":false)"), std::string::npos) << answer;
    } else {
      EXPECT_TRUE(answer.empty()) << "served beyond the limit: " << answer;
      ++closed;
    }
  }
  EXPECT_GE(answered_503, 1) << "closed without an answer: " << closed;
  extra.clear();
  flood.clear();
  EXPECT_TRUE(s.healthy());
}

TEST(HostileClient, Coordinator) {
  TempDir dir;
  const auto inv = dir.write("inventory.json", R"({"pods":[{"uid":"0a0a0a0a-0000-0000-0000-000000000005",
    "name":"nginx-0","namespace":"web","labels":{"app":"nginx"},"nodeName":"node-b","phase":"Running"}]})");
  const auto key = dir.write("key.pem", rsa_key_pair().private_key_pem);
  ServerProcess s(GTHULHU_COORDINATOR_BINARY,
                  {{"GTHULHU_AUTH_PRIVATE_KEY", key.string()},
                   {"GTHULHU_SQLITE_PATH", (dir.path() / "c.db").string()},
                   {"GTHULHU_AUTH_ARGON2_MEMORY_KIB", "64"},
                   {"GTHULHU_AUTH_ARGON2_ITERATIONS", "1"},
                   {"GTHULHU_ADMIN_PASSWORD", kAdminPassword},
                   {"GTHULHU_PODS_INVENTORY_FILE", inv.string()}});
  // Ready = its store is migrated and the admin exists: a login succeeds.
  http::Client c;
  http::ClientResult login;
  ASSERT_TRUE(eventually([&] {
    login = c.post_json(s.url("/api/v1/auth/login"),
                        json{{"username", kAdmin}, {"password", kAdminPassword}}.dump());
    return login.ok && login.response.status == 200;
  }, 30s)) << "coordinator did not start: " << login.response.body;
  const std::string auth =
      "Bearer " + json::parse(login.response.body)["data"]["accessToken"].get<std::string>();
  replay(s, auth,
         {{"number overflow", "POST", "/api/v1/strategies",
           R"({"k8sNamespace":["web"],"priority":1e400})", {400}, "priority"},
          {"invalid UTF-8 label", "POST", "/api/v1/strategies",
           "{\"labelSelectors\":[{\"key\":\"app\",\"value\":\"\xff\"}]}", {400}, "UTF-8"},
          {"invalid UTF-8 username", "POST", "/api/v1/users",
           "{\"username\":\"a\xff\",\"password\":\"long enough pass 1\"}", {400}, ""},
          {"invalid UTF-8 description", "POST", "/api/v1/roles",
           "{\"name\":\"r\",\"description\":\"\xfe\"}", {400}, ""},
          {"wrong type", "POST", "/api/v1/strategies", R"({"k8sNamespace":["web"],"priority":"high"})",
           {400}, "priority"},
          {"2^63", "POST", "/api/v1/strategies",
           R"({"k8sNamespace":["web"],"executionTime":9223372036854775808})", {422},
           "9223372036854775808"},
          {"login wrong type", "POST", "/api/v1/auth/login", R"({"username":5,"password":"x"})", {400},
           "username"},
          {"not an object", "POST", "/api/v1/roles", "[1,2,3]", {400}, ""},
          {"deep nesting", "POST", "/api/v1/strategies", std::string(200, '[') + std::string(200, ']'),
           {400}, "nesting"},
          {"empty admin role", "PUT", "/api/v1/roles", R"({"id":"000000000000000000000000","rolePolicy":[]})",
           {404}, ""}});
  transport_attacks(s);
  EXPECT_TRUE(s.alive());
  // Still fully working: a login and an authenticated read.
  auto again = c.post_json(s.url("/api/v1/auth/login"),
                           json{{"username", kAdmin}, {"password", kAdminPassword}}.dump());
  EXPECT_EQ(again.response.status, 200) << again.response.body;
}

TEST(HostileClient, Agent) {
  if (geteuid() != 0) GTEST_SKIP() << "the agent needs root (BPF tracker, cgroups)";
  if (auto why = agent::TrackerBpf::unsupported_reason(); !why.empty()) GTEST_SKIP() << why;
  auto mount = cgroup2_mount();
  if (!mount) GTEST_SKIP() << "no cgroup2 filesystem mounted";
  if (auto err = ensure_bpffs(); !err.empty()) GTEST_SKIP() << err;
  CgroupTree tree(*mount);
  PinDir pins;
  TempDir state;
  ServerProcess s(GTHULHU_AGENT_BINARY, {{"GTHULHU_AGENT_PIN_ROOT", pins.path()},
                                         {"GTHULHU_AGENT_STATE_DIR", state.path().string()},
                                         {"GTHULHU_AGENT_CGROUP_ROOT", tree.root()},
                                         {"GTHULHU_AGENT_NODE_NAME", "hostile-node"},
                                         {"GTHULHU_AUTH_CLIENT_SECRET", kAgentSecret}});
  ASSERT_TRUE(eventually([&] { return s.healthy(); }, 30s)) << "agent did not start";
  http::Client c;
  auto token = c.post_json(s.url("/api/v1/auth/token"),
                           json{{"client_id", "hostile"}, {"secret", kAgentSecret}}.dump());
  ASSERT_EQ(token.response.status, 200) << token.response.body;
  const std::string auth =
      "Bearer " + json::parse(token.response.body)["data"]["token"].get<std::string>();
  const std::string pod = "0a1b2c3d-4e5f-6789-abcd-ef0123456789";
  replay(s, auth,
         {{"secret of the wrong type", "POST", "/api/v1/auth/token", R"({"secret":123})", {400},
           "secret must be a string"},
          {"client_id of the wrong type", "POST", "/api/v1/auth/token",
           std::string(R"({"client_id":5,"secret":")") + kAgentSecret + "\"}", {400}, "client_id"},
          {"number overflow", "POST", "/api/v1/intents",
           R"({"intents":[{"podID":")" + pod + R"(","priority":1e400}]})", {400}, "priority"},
          {"invalid UTF-8 label", "POST", "/api/v1/intents",
           "{\"intents\":[{\"podID\":\"" + pod + "\",\"podLabels\":{\"app\":\"\xff\"}}]}", {400}, "UTF-8"},
          {"all of the wrong type", "DELETE", "/api/v1/intents", R"({"all":"yes"})", {400}, "all"},
          {"metric set of the wrong type", "POST", "/api/v1/metrics", R"({"nr_queued":"many"})", {400}, ""},
          {"not JSON", "POST", "/api/v1/intents", "{nope", {400}, ""}});
  transport_attacks(s);
  EXPECT_TRUE(s.alive());
  EXPECT_EQ(c.post_json(s.url("/api/v1/auth/token"),
                        json{{"client_id", "hostile"}, {"secret", kAgentSecret}}.dump())
                .response.status,
            200);
}

}  // namespace
}  // namespace gthulhu::test
