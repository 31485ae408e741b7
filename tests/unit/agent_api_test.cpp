// The agent's REST API on loopback with in-memory maps, process table and views:
// tokens (no credential -> 401, public key is not a credential, secret and mTLS work),
// the delta protocol over HTTP (apply, replay, gap -> 409 -> snapshot), the upstream
// strategies shape and pods/pids.
#include "agent/api.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <sys/stat.h>

#include "common/http/client.h"
#include "common/http/json_api.h"
#include "common/http/server.h"
#include "tests/support/agent_fakes.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

using namespace gthulhu::agent;
using gthulhu::http::Client;
using gthulhu::http::ClientOptions;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kPod = "0a1b2c3d-4e5f-6789-abcd-ef0123456789";
const std::string kPodU = "0a1b2c3d_4e5f_6789_abcd_ef0123456789";

using MemoryMaps = gthulhu::test::MemoryPolicyMaps;
using gthulhu::test::TableProcesses;


struct OffScheduler : SchedulerView {
  // Tests may set what the kernel lacks (as the BPF backend reports from its BTF).
  std::vector<std::string> missing;
  // Tests of the pod statistics turn it on and give per-policy counters.
  bool on = false;
  std::map<uint32_t, gthulhu_policy_stats> per_policy;
  SchedulerStatus status() const override {
    if (on) return {true, "enabled", "", std::nullopt, missing};
    return {false, "unsupported", "this kernel has no sched_ext (CONFIG_SCHED_CLASS_EXT)", std::nullopt,
            missing};
  }
  std::optional<gthulhu_sched_stats> stats() const override { return std::nullopt; }
  std::map<uint32_t, gthulhu_policy_stats> policy_stats() const override { return per_policy; }
};

struct RunningTracker : TrackerView {
  TrackerStatus status() const override { return {true, ""}; }
  gthulhu_tracker_stats stats() const override { return {}; }
};

uint64_t inode(const fs::path& p) {
  struct stat st{};
  stat(p.c_str(), &st);
  return st.st_ino;
}

struct AgentApi : ::testing::Test {
  gthulhu::test::TempDir dir;
  uint64_t ctr_id = 0;
  std::unique_ptr<CgroupTree> tree;
  MemoryMaps maps;
  TableProcesses procs;
  std::unique_ptr<PolicyEngine> engine;
  IntentStore store;
  MetricSetStore metric_set;
  OffScheduler sched;
  RunningTracker tracker;
  std::unique_ptr<TokenService> tokens;
  std::unique_ptr<AgentContext> ctx;
  std::unique_ptr<gthulhu::http::Server> server;
  std::mutex reconcile_mu;

  void start(bool mtls = false) {
    auto ctr = dir.path() / "kubepods" / "burstable" / ("pod" + kPod) / std::string(64, 'c');
    fs::create_directories(ctr);
    ctr_id = inode(ctr);
    procs.procs = {{100, 1, ctr_id, "nginx"}, {101, 100, ctr_id, "nginx"}, {7, 1, ctr_id, "pause"}};
    tree = std::make_unique<CgroupTree>(dir.path());
    tree->scan();
    engine = std::make_unique<PolicyEngine>(maps, *tree, procs, "node-1");
    TokenOptions to;
    to.private_key_pem = gthulhu::test::rsa_key_pair().private_key_pem;
    to.client_secret = "s3cret-value";
    tokens = std::make_unique<TokenService>(to);
    ctx.reset(new AgentContext{"node-1", store, *engine, *tree, procs, *tokens, metric_set, sched, tracker,
                               {std::make_shared<prometheus::Registry>()}, nullptr});
    ctx->update_intents = [this](const IntentChange& change) {
      std::lock_guard lock(reconcile_mu);
      IntentUpdate u;
      u.applied = change(store);
      u.results = u.applied.outcome == ApplyOutcome::kApplied ? engine->reconcile(store.snapshot())
                                                               : engine->results();
      return u;
    };
    gthulhu::http::ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.access_log = false;
    if (mtls) {
      const auto& pki = gthulhu::test::test_pki();
      o.tls = gthulhu::http::TlsOptions{pki.server.cert_pem, pki.server.key_pem, pki.ca.cert_pem};
    }
    server = std::make_unique<gthulhu::http::Server>(o, make_agent_router(*ctx));
    server->start();
  }
  std::string url(const std::string& path, bool tls = false) const {
    return std::string(tls ? "https://localhost:" : "http://127.0.0.1:") + std::to_string(server->port()) + path;
  }
  std::string token() {
    Client c;
    auto r = c.post_json(url("/api/v1/auth/token"), R"({"client_id":"coordinator","secret":"s3cret-value"})");
    EXPECT_EQ(r.response.status, 200) << r.response.body;
    return json::parse(r.response.body)["data"]["token"];
  }
  gthulhu::http::ClientResult call(const std::string& method, const std::string& path, const json& body = nullptr) {
    Client c;
    std::vector<std::string> h = {"Authorization: Bearer " + token(), "Content-Type: application/json"};
    return c.request(method, url(path), body.is_null() ? "" : body.dump(), h);
  }
};

}  // namespace

TEST_F(AgentApi, HealthSaysSchedulerOffAndWhy) {
  start();
  Client c;
  auto r = c.get(url("/health"));
  ASSERT_EQ(r.response.status, 200);
  auto j = json::parse(r.response.body);
  EXPECT_EQ(j["status"], "degraded");
  EXPECT_FALSE(j["scheduler"]["enabled"].get<bool>());
  EXPECT_NE(j["scheduler"]["reason"].get<std::string>().find("sched_ext"), std::string::npos);
}

TEST_F(AgentApi, HealthListsCgroupCallbacksTheKernelLacks) {
  sched.missing = {"cgroup_set_bandwidth", "cgroup_set_idle"};
  start();
  Client c;
  auto r = c.get(url("/health"));
  ASSERT_EQ(r.response.status, 200);
  auto j = json::parse(r.response.body);
  EXPECT_EQ(j["scheduler"]["missingCallbacks"],
            json::array({"cgroup_set_bandwidth", "cgroup_set_idle"}));
}

TEST_F(AgentApi, TokensNeedARealCredential) {
  start();
  Client c;
  // No credential at all.
  EXPECT_EQ(c.post_json(url("/api/v1/auth/token"), "{}").response.status, 401);
  // Upstream's "credential": the agent's public key. Refused.
  json pk = {{"public_key", tokens->public_key_pem()}, {"client_id", "x"}};
  auto r = c.post_json(url("/api/v1/auth/token"), pk.dump());
  EXPECT_EQ(r.response.status, 401);
  EXPECT_NE(r.response.body.find("not a credential"), std::string::npos);
  // Wrong secret.
  EXPECT_EQ(c.post_json(url("/api/v1/auth/token"), R"({"secret":"guess"})").response.status, 401);
  // Protected routes without or with a bad token.
  EXPECT_EQ(c.get(url("/api/v1/pods/pids")).response.status, 401);
  EXPECT_EQ(c.get(url("/api/v1/pods/pids"), {"Authorization: Bearer abc.def.ghi"}).response.status, 401);
  // With the secret: served.
  EXPECT_EQ(call("GET", "/api/v1/pods/pids").response.status, 200);
}

TEST_F(AgentApi, WrongTypesAreNamed400sNot500s) {
  start();
  Client c;
  auto secret = c.post_json(url("/api/v1/auth/token"), R"({"secret":123})");
  EXPECT_EQ(secret.response.status, 400) << secret.response.body;
  EXPECT_NE(secret.response.body.find("secret must be a string"), std::string::npos)
      << secret.response.body;
  auto client_id =
      c.post_json(url("/api/v1/auth/token"), R"({"client_id":5,"secret":"s3cret-value"})");
  EXPECT_EQ(client_id.response.status, 400) << client_id.response.body;
  EXPECT_NE(client_id.response.body.find("client_id must be a string"), std::string::npos);
  auto overflow = call("POST", "/api/v1/intents", json::parse(R"({"intents":[]})"));
  EXPECT_EQ(overflow.response.status, 200) << overflow.response.body;
  Client raw;
  std::vector<std::string> h = {"Authorization: Bearer " + token(), "Content-Type: application/json"};
  auto big = raw.request("POST", url("/api/v1/intents"),
                         R"({"intents":[{"podID":")" + kPod + R"(","priority":1e400}]})", h);
  EXPECT_EQ(big.response.status, 400) << big.response.body;
  EXPECT_NE(big.response.body.find("priority"), std::string::npos) << big.response.body;
  auto utf8 = raw.request("POST", url("/api/v1/intents"),
                          "{\"intents\":[{\"podLabels\":{\"app\":\"\xff\"}}]}", h);
  EXPECT_EQ(utf8.response.status, 400) << utf8.response.body;
  auto all = call("DELETE", "/api/v1/intents", json{{"all", "yes"}});
  EXPECT_EQ(all.response.status, 400) << all.response.body;
  EXPECT_NE(all.response.body.find("all must be a boolean"), std::string::npos);
  for (const auto* body : {secret.response.body.c_str(), big.response.body.c_str(),
                           utf8.response.body.c_str()}) {
    EXPECT_EQ(std::string(body).find("json.exception"), std::string::npos) << body;
  }
}

TEST_F(AgentApi, MtlsClientCertificateIsACredentialAndOtherCasAreRefused) {
  start(true);
  const auto& pki = gthulhu::test::test_pki();
  ClientOptions good;
  good.ca_pem = pki.ca.cert_pem;
  good.client_cert_pem = pki.client.cert_pem;
  good.client_key_pem = pki.client.key_pem;
  Client c(good);
  auto r = c.post_json(url("/api/v1/auth/token", true), "{}");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.response.status, 200) << r.response.body;
  const std::string tok = json::parse(r.response.body)["data"]["token"];
  EXPECT_EQ(c.get(url("/api/v1/intents", true), {"Authorization: Bearer " + tok}).response.status, 200);

  ClientOptions wrong = good;
  wrong.client_cert_pem = pki.other_client.cert_pem;
  wrong.client_key_pem = pki.other_client.key_pem;
  Client w(wrong);
  auto refused = w.post_json(url("/api/v1/auth/token", true), "{}");
  EXPECT_FALSE(refused.ok && refused.response.status == 200);
}

TEST_F(AgentApi, DeltaProtocolOverHttp) {
  start();
  auto full = call("POST", "/api/v1/intents",
                   {{"generation", 5}, {"intents", {{{"id", "a"}, {"podID", kPod}, {"priority", 4}}}}});
  ASSERT_EQ(full.response.status, 200) << full.response.body;
  auto j = json::parse(full.response.body);
  EXPECT_EQ(j["data"]["generation"], 5);
  EXPECT_EQ(j["data"]["results"][0]["state"], "applied");
  EXPECT_EQ(j["data"]["results"][0]["matchedProcesses"], 3);
  EXPECT_EQ(maps.cg[ctr_id].priority, 4);

  json delta = {{"baseGeneration", 5},
                {"generation", 6},
                {"upserts", {{{"id", "b"}, {"podID", kPod}, {"priority", 9}, {"commandRegex", "^nginx"}}}},
                {"removals", {"a"}}};
  auto d = call("POST", "/api/v1/intents", delta);
  ASSERT_EQ(d.response.status, 200) << d.response.body;
  EXPECT_EQ(maps.ov[100].priority, 9);
  EXPECT_EQ(maps.ov[101].priority, 9);

  auto replay = call("POST", "/api/v1/intents", delta);
  EXPECT_EQ(replay.response.status, 200);
  EXPECT_TRUE(json::parse(replay.response.body)["data"]["replayed"].get<bool>());

  auto gap = call("POST", "/api/v1/intents", {{"baseGeneration", 9}, {"generation", 10}, {"upserts", json::array()}});
  EXPECT_EQ(gap.response.status, 409);
  EXPECT_EQ(json::parse(gap.response.body)["currentGeneration"], 6);

  auto bad = call("POST", "/api/v1/intents", {{"nonsense", true}});
  EXPECT_EQ(bad.response.status, 400);
}

TEST_F(AgentApi, StrategiesKeepTheUpstreamShape) {
  start();
  call("POST", "/api/v1/intents",
       {{"intents", {{{"podID", kPod}, {"priority", 10}, {"executionTime", 20000000},
                      {"commandRegex", "nginx"}, {"podLabels", {{"app", "web"}}}}}}});
  auto r = call("GET", "/api/v1/scheduling/strategies");
  ASSERT_EQ(r.response.status, 200);
  auto j = json::parse(r.response.body);
  EXPECT_TRUE(j["success"].get<bool>());
  EXPECT_EQ(j["message"], "Scheduling intents retrieved successfully");
  ASSERT_EQ(j["scheduling"].size(), 2u);  // both nginx processes, not pause
  const auto& row = j["scheduling"][0];
  EXPECT_EQ(row["priority"], 10);
  EXPECT_EQ(row["execution_time"], 20000000);
  EXPECT_EQ(row["command_regex"], "nginx");
  EXPECT_EQ(row["selectors"][0]["key"], "app");
}

TEST_F(AgentApi, PodStatsSumThePodsPoliciesAndSayWhyWhenThereAreNone) {
  start();
  auto off = call("GET", "/api/v1/pods/stats?podId=" + kPod);
  EXPECT_EQ(off.response.status, 503) << off.response.body;
  EXPECT_NE(off.response.body.find("no scheduler statistics on node node-1: this kernel has no sched_ext"),
            std::string::npos) << off.response.body;
  sched.on = true;
  EXPECT_EQ(call("GET", "/api/v1/pods/stats").response.status, 400);
  auto bad = call("GET", "/api/v1/pods/stats?podId=nope");
  EXPECT_EQ(bad.response.status, 400);
  EXPECT_NE(bad.response.body.find("podId must be a pod UID"), std::string::npos);
  auto none = call("GET", "/api/v1/pods/stats?podId=" + kPod);
  EXPECT_EQ(none.response.status, 404);
  EXPECT_NE(none.response.body.find("has no policy on node node-1"), std::string::npos) << none.response.body;

  // Two intents for the pod (pod-wide and per process): two policy ids, summed.
  auto r = call("POST", "/api/v1/intents",
                {{"intents", {{{"id", "a"}, {"podID", kPod}, {"priority", 4}},
                              {{"id", "b"}, {"podID", kPod}, {"priority", 9}, {"commandRegex", "^nginx"}}}}});
  ASSERT_EQ(r.response.status, 200) << r.response.body;
  for (const auto& [id, owner] : engine->policy_owners()) {
    gthulhu_policy_stats st{};
    st.cpu_time_ns = 1000 * id;
    st.run_count = 10;
    st.wait_time_ns = 5000;
    st.wait_hist[2] = 6;
    st.wait_hist[GTHULHU_WAIT_HIST_BUCKETS - 1] = 4;
    sched.per_policy[id] = st;
  }
  ASSERT_EQ(sched.per_policy.size(), 2u);
  sched.per_policy[999].run_count = 77;  // another pod's policy: not counted
  auto got = call("GET", "/api/v1/pods/stats?podId=" + kPod);
  ASSERT_EQ(got.response.status, 200) << got.response.body;
  auto d = json::parse(got.response.body)["data"];
  EXPECT_EQ(d["podId"], kPod);
  EXPECT_EQ(d["node"], "node-1");
  EXPECT_EQ(d["source"], "scheduler");
  EXPECT_EQ(d["runs"], 20);
  EXPECT_EQ(d["waitTimeNs"], 10000);
  EXPECT_EQ(d["cpuTimeNs"], 1000 * (sched.per_policy.begin()->first + std::next(sched.per_policy.begin())->first));
  EXPECT_EQ(d["intents"], json::parse(R"(["a","b"])"));
  ASSERT_EQ(d["waitHistogram"]["counts"].size(), static_cast<size_t>(GTHULHU_WAIT_HIST_BUCKETS));
  EXPECT_EQ(d["waitHistogram"]["counts"][2], 12);
  EXPECT_EQ(d["waitHistogram"]["counts"][GTHULHU_WAIT_HIST_BUCKETS - 1], 8);
  EXPECT_EQ(d["waitHistogram"]["boundsNs"][0], 1024);
  EXPECT_EQ(d["waitHistogram"]["boundsNs"].size(), static_cast<size_t>(GTHULHU_WAIT_HIST_BUCKETS - 1));
}

TEST_F(AgentApi, PodsPidsListsTrackerProcessesWithContainerIds) {
  start();
  auto r = call("GET", "/api/v1/pods/pids");
  auto j = json::parse(r.response.body);
  ASSERT_EQ(j["data"]["pods"].size(), 1u);
  EXPECT_EQ(j["data"]["pods"][0]["pod_uid"], kPod);
  EXPECT_EQ(j["data"]["pods"][0]["processes"].size(), 3u);
  EXPECT_EQ(j["data"]["pods"][0]["processes"][0]["container_id"], std::string(64, 'c'));
  EXPECT_EQ(j["data"]["node_name"], "node-1");
}

TEST_F(AgentApi, MetricSetPushIsValidated) {
  start();
  EXPECT_EQ(call("POST", "/api/v1/metrics", {{"nr_queued", 3}, {"nr_running", 2}}).response.status, 200);
  ASSERT_TRUE(metric_set.latest().has_value());
  EXPECT_EQ(metric_set.latest()->values[1], 3u);
  EXPECT_EQ(call("POST", "/api/v1/metrics", {{"nr_queued", -1}}).response.status, 400);
  EXPECT_EQ(call("POST", "/api/v1/metrics", {{"nr_queued", "x"}}).response.status, 400);
}

TEST_F(AgentApi, DeleteIntentsByPodOrAll) {
  start();
  call("POST", "/api/v1/intents", {{"intents", {{{"id", "a"}, {"podID", kPod}, {"priority", 4}}}}});
  EXPECT_FALSE(maps.cg.empty());
  EXPECT_EQ(call("DELETE", "/api/v1/intents", {{"all", false}}).response.status, 400);
  EXPECT_EQ(call("DELETE", "/api/v1/intents", {{"podId", kPod}}).response.status, 200);
  EXPECT_TRUE(maps.cg.empty());
}

TEST(AgentTokens, WithoutAConfiguredKeyAnEphemeralOneSignsAndVerifies) {
  TokenOptions o;
  o.client_secret = "0123456789abcdef-secret";
  TokenService tokens(o);
  gthulhu::http::Request req;
  std::string error;
  auto t = tokens.issue(req, {{"secret", "0123456789abcdef-secret"}, {"client_id", "c"}}, &error);
  ASSERT_TRUE(t) << error;
  req.headers["authorization"] = "Bearer " + t->token;
  EXPECT_EQ(tokens.authenticate(req, &error).value_or(""), "c") << error;
}
