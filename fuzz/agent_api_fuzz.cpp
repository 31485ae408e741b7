// The agent's JSON request bodies (full intent lists, deltas, deletes, token requests,
// pushed MetricSets) through its real router, with in-memory kernel stand-ins.
// Input: first byte picks the route, the rest is the body.
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>

#include "agent/api.h"
#include "fuzz/fuzz_support.h"
#include "tests/support/agent_fakes.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

using namespace gthulhu;
using namespace gthulhu::agent;

namespace {

struct OffScheduler : SchedulerView {
  SchedulerStatus status() const override { return {false, "unsupported", "fuzz", std::nullopt, {}}; }
  std::optional<gthulhu_sched_stats> stats() const override { return std::nullopt; }
  std::map<uint32_t, gthulhu_policy_stats> policy_stats() const override { return {}; }
};
struct RunningTracker : TrackerView {
  TrackerStatus status() const override { return {true, ""}; }
  gthulhu_tracker_stats stats() const override { return {}; }
};

struct Agent {
  test::TempDir dir;
  test::MemoryPolicyMaps maps;
  test::TableProcesses procs;
  std::unique_ptr<CgroupTree> tree;
  std::unique_ptr<PolicyEngine> engine;
  IntentStore store;
  MetricSetStore metric_set;
  OffScheduler sched;
  RunningTracker tracker;
  std::unique_ptr<TokenService> tokens;
  std::unique_ptr<AgentContext> ctx;
  std::unique_ptr<http::Router> router;
  std::string bearer;

  Agent() {
    const std::string pod = "0a1b2c3d-4e5f-6789-abcd-ef0123456789";
    auto ctr = dir.path() / "kubepods" / "burstable" / ("pod" + pod) / std::string(64, 'c');
    std::filesystem::create_directories(ctr);
    tree = std::make_unique<CgroupTree>(dir.path());
    tree->scan();
    engine = std::make_unique<PolicyEngine>(maps, *tree, procs, "node-1");
    TokenOptions to;
    to.private_key_pem = test::rsa_key_pair().private_key_pem;
    to.client_secret = "fuzz-secret";
    tokens = std::make_unique<TokenService>(to);
    ctx.reset(new AgentContext{"node-1", store, *engine, *tree, procs, *tokens, metric_set, sched,
                               tracker, {std::make_shared<prometheus::Registry>()}, nullptr});
    ctx->update_intents = [this](const IntentChange& change) {
      IntentUpdate u;
      u.applied = change(store);
      u.results = u.applied.outcome == ApplyOutcome::kApplied ? engine->reconcile(store.snapshot()) : engine->results();
      return u;
    };
    router = std::make_unique<http::Router>(make_agent_router(*ctx));
    http::Request req;
    std::string error;
    bearer = "Bearer " + tokens->issue(req, {{"client_id", "fuzz"}, {"secret", "fuzz-secret"}}, &error)->token;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Agent* agent = [] {
    spdlog::set_level(spdlog::level::off);
    fuzz::report_at_exit();
    return new Agent;
  }();
  if (size == 0) return 0;
  static const std::pair<const char*, const char*> kRoutes[] = {
      {"POST", "/api/v1/intents"}, {"DELETE", "/api/v1/intents"},
      {"POST", "/api/v1/auth/token"}, {"POST", "/api/v1/metrics"}};
  const auto& [method, path] = kRoutes[data[0] % 4];
  http::Request req;
  req.method = method;
  req.path = path;
  req.body.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  req.peer_address = "127.0.0.1";
  req.request_id = "fuzz";
  req.headers["authorization"] = agent->bearer;
  req.headers["content-type"] = "application/json";
  fuzz::call_route(*agent->router, req);
  return 0;
}
