// The agent's probe listener ([probe] listen) on the real gthulhu-agent binary, as a
// simulated node (no root or BPF needed): plain HTTP, no token, GET /health and
// GET /metrics only, the main listener's bounds; and the main listener still refuses
// every request without the client certificate.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/http/client.h"
#include "tests/support/loopback.h"
#include "tests/support/product_processes.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace gthulhu::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kPod = "2c2c2c2c-0000-0000-0000-000000000001";

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class AgentProbe : public ::testing::Test {
 protected:
  void SetUp() override {
    pki = make_pki(GTHULHU_SOURCE_DIR, dir.path() / "certs", {"node-a"});
    node = {"node-a", free_loopback_port(), {kPod}, "prometheus", free_loopback_port()};
    agent = sim_agent_process(GTHULHU_AGENT_BINARY, dir.path() / "node-a", node, pki,
                              dir.write("token.key", rsa_key_pair().private_key_pem));
    agent->start();
    ASSERT_TRUE(eventually([&] { return probe("GET", "/health").ok; })) << agent->log_tail();
  }

  http::ClientResult probe(const std::string& method, const std::string& path, const std::string& body = {}) {
    http::Client c;
    return c.request(method, "http://127.0.0.1:" + std::to_string(node.probe_port) + path, body);
  }
  // The main listener over TLS, with or without the coordinator's client certificate.
  http::ClientResult main_port(const std::string& path, bool with_client_certificate) {
    http::ClientOptions o;
    o.ca_pem = read_file(pki.ca());
    if (with_client_certificate) {
      o.client_cert_pem = read_file(pki.client_cert());
      o.client_key_pem = read_file(pki.client_key());
    }
    o.connect_to = "127.0.0.1";
    http::Client c(o);
    return c.get("https://node-a:" + std::to_string(node.port) + path);
  }

  TempDir dir;
  Pki pki;
  SimNode node;
  std::unique_ptr<ServiceProcess> agent;
};

TEST_F(AgentProbe, ServesHealthAndMetricsWithoutTlsOrToken) {
  auto health = probe("GET", "/health");
  ASSERT_TRUE(health.ok) << health.error;
  EXPECT_EQ(health.response.status, 200) << health.response.body;
  const json h = json::parse(health.response.body, nullptr, false);
  ASSERT_TRUE(h.is_object()) << health.response.body;
  EXPECT_EQ(h["service"], "gthulhu-agent");
  EXPECT_EQ(h["node"], "node-a");
  EXPECT_TRUE(h["tracker"]["running"].get<bool>()) << h.dump();
  EXPECT_TRUE(h["status"] == "healthy" || h["status"] == "degraded") << h.dump();

  auto metrics = probe("GET", "/metrics");
  ASSERT_TRUE(metrics.ok) << metrics.error;
  EXPECT_EQ(metrics.response.status, 200);
  EXPECT_EQ(metrics.response.headers["content-type"].rfind("text/plain", 0), 0u)
      << metrics.response.headers["content-type"];
  // The agent's own families, and the probe listener's requests under its own name.
  EXPECT_NE(metrics.response.body.find("gthulhu_intents{"), std::string::npos) << metrics.response.body;
  EXPECT_NE(metrics.response.body.find("gthulhu_tracker_running"), std::string::npos);
  EXPECT_NE(metrics.response.body.find(R"(server="agent-probe")"), std::string::npos) << metrics.response.body;
}

TEST_F(AgentProbe, NothingElseIsReachableOnTheProbePort) {
  // Every API route of the main listener, the token endpoint and /version: 404 in the
  // JSON envelope, whatever the method.
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"GET", "/api/v1/intents"},           {"POST", "/api/v1/intents"},
      {"DELETE", "/api/v1/intents"},        {"GET", "/api/v1/intents/results"},
      {"POST", "/api/v1/auth/token"},       {"GET", "/api/v1/scheduling/strategies"},
      {"POST", "/api/v1/metrics"},          {"GET", "/api/v1/pods/pids"},
      {"GET", "/api/v1/pods/stats?podId=" + std::string(kPod)},
      {"GET", "/version"},                  {"GET", "/"},
      {"GET", "/healthz"}};
  for (const auto& [method, path] : refused) {
    SCOPED_TRACE(method + " " + path);
    auto r = probe(method, path, method == "POST" ? R"({"client_id":"x","secret":"y"})" : "");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.response.status, 404) << r.response.body;
    const json b = json::parse(r.response.body, nullptr, false);
    ASSERT_TRUE(b.is_object()) << r.response.body;
    EXPECT_EQ(b["success"], false);
    EXPECT_TRUE(b["error"].is_string());
  }
  // Another method on the two routes: 405 naming the one allowed.
  auto post_health = probe("POST", "/health", "{}");
  ASSERT_TRUE(post_health.ok) << post_health.error;
  EXPECT_EQ(post_health.response.status, 405);
  EXPECT_EQ(post_health.response.headers["allow"], "GET");
}

TEST_F(AgentProbe, HasTheMainListenersBounds) {
  // server.max_url_bytes (8 KiB by default) bounds the probe listener too.
  auto long_url = probe("GET", "/health?x=" + std::string(9000, 'a'));
  ASSERT_TRUE(long_url.ok) << long_url.error;
  EXPECT_EQ(long_url.response.status, 414) << long_url.response.body;
  // server.max_body_bytes (1 MiB).
  auto big_body = probe("POST", "/health", std::string((1 << 20) + 1, 'a'));
  ASSERT_TRUE(big_body.ok) << big_body.error;
  EXPECT_EQ(big_body.response.status, 413) << big_body.response.body;
}

TEST_F(AgentProbe, MainListenerStillRequiresTheClientCertificate) {
  auto without = main_port("/health", false);
  ASSERT_TRUE(without.ok) << without.error;
  EXPECT_EQ(without.response.status, 403) << without.response.body;
  auto metrics_without = main_port("/metrics", false);
  ASSERT_TRUE(metrics_without.ok) << metrics_without.error;
  EXPECT_EQ(metrics_without.response.status, 403) << metrics_without.response.body;
  auto with = main_port("/health", true);
  ASSERT_TRUE(with.ok) << with.error;
  EXPECT_EQ(with.response.status, 200) << with.response.body;
  // Plain HTTP to the main port gets no answer from the API.
  http::Client plain;
  auto r = plain.get("http://127.0.0.1:" + std::to_string(node.port) + "/health");
  EXPECT_FALSE(r.ok && r.response.status == 200) << r.response.body;
}

}  // namespace
}  // namespace gthulhu::test
