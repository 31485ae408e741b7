// Agent costs against the node's process count (issue 13, target 1): a real agent
// daemon (agent/sim/: its REST API, intent store and policy engine; the process table
// comes from a file, so 10,000 processes need no fork) with 4 pods of 5 processes, 2
// intents per pod (one pod-wide, one commandRegex), and 0, 1,000 and 10,000 extra
// node processes outside every pod. For each: GET /api/v1/pods/pids, GET
// /api/v1/scheduling/strategies and a reconcile (POST /api/v1/intents with a changed
// set), median of N calls over loopback mTLS. Target: the 10,000 figure within 1.3x of
// the 0 figure. The BPF backend's own lookup (cgroup.procs + proc_table by pid) is
// measured against real processes by tracker_bench.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/figures.h"
#include "common/http/client.h"
#include "tests/support/sim_agent.h"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using gthulhu::test::SimAgent;
using gthulhu::test::SimProcess;

const std::vector<std::string> kPods = {
    "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002",
    "cccccccc-0000-4000-8000-000000000003", "dddddddd-0000-4000-8000-000000000004"};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Timings {
  double pods_pids_ms, strategies_ms, reconcile_ms;
};

class Caller {
 public:
  explicit Caller(const SimAgent& a) : base_("https://" + a.node() + ":" + std::to_string(a.port())) {
    gthulhu::http::ClientOptions o;
    o.ca_pem = gthulhu::test::test_pki().ca.cert_pem;
    o.client_cert_pem = gthulhu::test::test_pki().client.cert_pem;
    o.client_key_pem = gthulhu::test::test_pki().client.key_pem;
    o.connect_to = "127.0.0.1:" + std::to_string(a.port());
    client_ = std::make_unique<gthulhu::http::Client>(o);
    auto t = client_->post_json(base_ + "/api/v1/auth/token", "{}");
    if (!t.ok || t.response.status != 200) throw std::runtime_error("token: " + t.error);
    auth_ = "Authorization: Bearer " + json::parse(t.response.body)["data"]["token"].get<std::string>();
  }
  // Milliseconds for one call; throws unless 200.
  double time(const std::string& method, const std::string& path, const std::string& body = {}) {
    const auto t0 = Clock::now();
    auto r = client_->request(method, base_ + path, body, {auth_, "Content-Type: application/json"});
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!r.ok || r.response.status != 200)
      throw std::runtime_error(method + " " + path + ": " + r.error + " " + r.response.body);
    last_body_ = r.response.body;
    return ms;
  }
  const std::string& last_body() const { return last_body_; }

 private:
  std::string base_;
  std::string auth_;
  std::unique_ptr<gthulhu::http::Client> client_;
  std::string last_body_;
};

std::string intents_body(uint64_t generation) {
  json list = json::array();
  for (size_t i = 0; i < kPods.size(); ++i) {
    // The priority changes with the generation, so every POST is a real reconcile.
    list.push_back({{"id", "wide-" + std::to_string(i)}, {"podID", kPods[i]},
                    {"priority", static_cast<int>(generation % 10)}});
    list.push_back({{"id", "re-" + std::to_string(i)}, {"podID", kPods[i]}, {"priority", 15},
                    {"commandRegex", "^worker"}});
  }
  return json{{"generation", generation}, {"intents", list}}.dump();
}

Timings measure(SimAgent& agent, size_t extra, int calls, uint64_t* generation) {
  std::vector<SimProcess> procs;
  uint32_t pid = 1000;
  for (const auto& uid : kPods) {
    procs.push_back({pid++, "pause", uid});
    for (int i = 0; i < 2; ++i) procs.push_back({pid++, "worker", uid});
    for (int i = 0; i < 2; ++i) procs.push_back({pid++, "sidecar", uid});
  }
  for (size_t i = 0; i < extra; ++i) procs.push_back({pid++, "node-daemon", ""});
  agent.set_processes(procs);
  Caller c(agent);
  // The agent re-reads the file on its next poll: wait until it has, with a deadline.
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  for (;;) {
    c.time("POST", "/api/v1/intents", intents_body(++*generation));
    c.time("GET", "/api/v1/pods/pids");
    size_t seen = 0;
    const json body = json::parse(c.last_body());
    for (const auto& p : body["data"]["pods"]) seen += p["processes"].size();
    if (seen == kPods.size() * 5) break;
    if (Clock::now() > deadline)
      throw std::runtime_error("the agent did not load the process table (" + std::to_string(seen) +
                               " pod processes seen, want " + std::to_string(kPods.size() * 5) + ")");
  }
  std::vector<double> pids, strategies, reconcile;
  for (int i = 0; i < calls; ++i) {
    pids.push_back(c.time("GET", "/api/v1/pods/pids"));
    strategies.push_back(c.time("GET", "/api/v1/scheduling/strategies"));
    reconcile.push_back(c.time("POST", "/api/v1/intents", intents_body(++*generation)));
  }
  return {median(pids), median(strategies), median(reconcile)};
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int calls = quick ? 50 : 200;
  try {
    SimAgent agent("scale-node", kPods);
    agent.start();
    uint64_t generation = 0;
    std::printf("agent scale (simulated node: real daemon, process table from a file; median of %d calls, loopback mTLS)\n",
                calls);
    std::printf("  %-16s %14s %14s %14s\n", "extra processes", "pods/pids ms", "strategies ms", "reconcile ms");
    Timings base{};
    for (size_t extra : {size_t{0}, size_t{1000}, size_t{10000}}) {
      const Timings t = measure(agent, extra, calls, &generation);
      if (extra == 0) base = t;
      std::printf("  %-16zu %14.3f %14.3f %14.3f\n", extra, t.pods_pids_ms, t.strategies_ms, t.reconcile_ms);
      if (extra == 0) continue;
      const std::string n = std::to_string(extra);
      using gthulhu::bench::Figure;
      gthulhu::bench::record(Figure{"agent scale", "GET /api/v1/pods/pids, +" + n + " processes", t.pods_pids_ms,
                                    "ms", "0 extra processes", base.pods_pids_ms});
      gthulhu::bench::record(Figure{"agent scale", "GET /api/v1/scheduling/strategies, +" + n + " processes",
                                    t.strategies_ms, "ms", "0 extra processes", base.strategies_ms});
      gthulhu::bench::record(Figure{"agent scale", "reconcile (POST /api/v1/intents), +" + n + " processes",
                                    t.reconcile_ms, "ms", "0 extra processes", base.reconcile_ms});
      if (extra == 10000) {
        std::printf("  10,000 vs 0: pods/pids %.2fx, strategies %.2fx, reconcile %.2fx (target <= 1.3x)\n",
                    t.pods_pids_ms / base.pods_pids_ms, t.strategies_ms / base.strategies_ms,
                    t.reconcile_ms / base.reconcile_ms);
      }
    }
    agent.stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "agent_scale_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
