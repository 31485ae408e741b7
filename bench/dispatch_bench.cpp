// The control loop's figures (issue: "strategy change -> 100 agents applied"):
//   * strategy change -> every agent Applied: per-node and whole-fleet latency over
//     rounds, 100 real gthulhu-agent processes as SIMULATED nodes (agent.simulate: the
//     agent's own REST API, intent store and policy engine, no BPF) on loopback, mTLS
//     with certificates from scripts/gen-certs.sh, one pod each;
//   * pod event -> intent applied on its agent (a pod added to the inventory);
//   * bytes on the wire for a one-pod change on a node with 1,000 intents: the delta
//     sent versus the full set the agent would otherwise get.
// The coordinator runs in this process (SQLite store) so its node view can be read
// without adding REST round trips to the figures; changes go through its REST API.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "common/http/client.h"
#include "common/wire/intent_request.h"
#include "coordinator/app.h"
#include "coordinator/dispatch/control_loop.h"
#include "coordinator/dispatch/intent_ledger.h"
#include "coordinator/pods/static_pod_source.h"
#include "tests/support/child_process.h"
#include "tests/support/loopback.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace gthulhu;

constexpr const char* kPassword = "correct horse battery staple";

std::string uid(int group, int n) {
  char b[40];
  std::snprintf(b, sizeof b, "%08x-0000-4000-8000-%012x", 0xbe000000u + static_cast<unsigned>(group), n);
  return b;
}
std::string cgroup_of(const std::string& u) {
  std::string s = u;
  std::replace(s.begin(), s.end(), '-', '_');
  return "kubepods.slice/kubepods-pod" + s + ".slice";
}
double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

struct Fleet {
  test::TempDir dir;
  std::vector<std::unique_ptr<test::ServiceProcess>> agents;
  std::string table;
  void add_agent(const std::string& node, const std::vector<std::string>& pods, const fs::path& key) {
    const fs::path root = dir.path() / node;
    json procs = json::array();
    int pid = 100;
    for (const auto& p : pods) {
      fs::create_directories(root / "cgroup" / cgroup_of(p));
      procs.push_back({{"pid", pid++}, {"comm", "worker"}, {"cgroup", cgroup_of(p)}});
    }
    std::ofstream(root / "processes.json") << json{{"processes", procs}}.dump();
    const uint16_t port = test::free_loopback_port();
    const std::string certs = (dir.path() / "certs").string();
    auto a = std::make_unique<test::ServiceProcess>(
        GTHULHU_AGENT_BINARY,
        std::map<std::string, std::string>{{"GTHULHU_AGENT_NODE_NAME", node},
                                           {"GTHULHU_AGENT_STATE_DIR", (root / "state").string()},
                                           {"GTHULHU_AGENT_CGROUP_ROOT", (root / "cgroup").string()},
                                           {"GTHULHU_AGENT_SIMULATE", "true"},
                                           {"GTHULHU_AGENT_SIM_PROCESSES", (root / "processes.json").string()},
                                           {"GTHULHU_AGENT_RESYNC_INTERVAL", "1s"},
                                           {"GTHULHU_AUTH_PRIVATE_KEY", key.string()},
                                           {"GTHULHU_SERVER_LISTEN", "127.0.0.1:" + std::to_string(port)},
                                           {"GTHULHU_SERVER_ACCESS_LOG", "false"},
                                           {"GTHULHU_TLS_CERT", certs + "/agents/" + node + ".crt"},
                                           {"GTHULHU_TLS_KEY", certs + "/agents/" + node + ".key"},
                                           {"GTHULHU_TLS_CLIENT_CA", certs + "/ca.crt"},
                                           {"GTHULHU_LOG_LEVEL", "error"}},
        root.string() + ".log");
    a->start();
    agents.push_back(std::move(a));
    table += (table.empty() ? "" : ",") + node + "=https://" + node + ":" + std::to_string(port) + "@127.0.0.1:" +
             std::to_string(port);
  }
};

struct Rest {
  std::string base, token;
  http::Client c;
  json call(const std::string& method, const std::string& path, const json& body) {
    auto r = c.request(method, base + path, body.dump(),
                       {"Authorization: Bearer " + token, "Content-Type: application/json"});
    if (!r.ok) throw std::runtime_error(method + " " + path + ": " + r.error);
    return json::parse(r.response.body);
  }
};

// Every listed node has acknowledged a generation above `after` with `applied` intents.
bool node_done(const coordinator::NodeStatus& n, uint64_t after, size_t applied) {
  auto it = n.intents_by_state.find(coordinator::IntentState::kApplied);
  const size_t a = it == n.intents_by_state.end() ? 0 : it->second;
  return n.acked_generation > after && n.acked_generation == n.desired_generation && a == applied;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  for (int i = 1; i < argc; ++i) quick |= std::string(argv[i]) == "--quick";
  const int nodes = quick ? 20 : 100;
  const int rounds = quick ? 3 : 10;
  const int events = quick ? 10 : 50;
  const int big_intents = 1000;
  spdlog::set_level(spdlog::level::warn);

  Fleet fleet;
  std::string names;
  for (int n = 0; n < nodes; ++n) names += " n" + std::to_string(n);
  const std::string gen = std::string(GTHULHU_SOURCE_DIR) + "/scripts/gen-certs.sh " +
                          (fleet.dir.path() / "certs").string() + names + " big > /dev/null";
  if (std::system(gen.c_str()) != 0) {
    std::cerr << "gen-certs.sh failed\n";
    return 1;
  }
  const auto key = fleet.dir.write("token.key", test::rsa_key_pair().private_key_pem);

  json inventory = json::array();
  for (int n = 0; n < nodes; ++n) {
    std::vector<std::string> pods = {uid(1, n)};
    for (int e = n; e < events; e += nodes) pods.push_back(uid(2, e));  // for the pod events
    fleet.add_agent("n" + std::to_string(n), pods, key);
    inventory.push_back({{"uid", uid(1, n)}, {"name", "w-" + std::to_string(n)}, {"namespace", "bench"},
                         {"labels", {{"app", "fleet"}}}, {"nodeName", "n" + std::to_string(n)}, {"phase", "Running"}});
  }
  std::vector<std::string> big_pods;
  for (int i = 0; i < big_intents; ++i) {
    big_pods.push_back(uid(3, i));
    inventory.push_back({{"uid", uid(3, i)}, {"name", "big-" + std::to_string(i)}, {"namespace", "bench"},
                         {"labels", {{"app", "big"}, {"index", std::to_string(i)}}}, {"nodeName", "big"},
                         {"phase", "Running"}});
  }
  fleet.add_agent("big", big_pods, key);
  const auto inv_file = fleet.dir.write("inventory.json", json{{"pods", inventory}}.dump());

  config::Environment env = {{"GTHULHU_SERVER_LISTEN", "127.0.0.1:0"},
                             {"GTHULHU_SERVER_ACCESS_LOG", "false"},
                             {"GTHULHU_SERVER_THREADS", "4"},
                             {"GTHULHU_AUTH_PRIVATE_KEY", test::rsa_key_pair().private_key_pem},
                             {"GTHULHU_SQLITE_PATH", (fleet.dir.path() / "c.db").string()},
                             {"GTHULHU_AUTH_ARGON2_MEMORY_KIB", "64"},
                             {"GTHULHU_AUTH_ARGON2_ITERATIONS", "1"},
                             {"GTHULHU_ADMIN_PASSWORD", kPassword},
                             {"GTHULHU_PODS_INVENTORY_FILE", inv_file.string()},
                             {"GTHULHU_AGENTS_STATIC", fleet.table},
                             {"GTHULHU_AGENTS_CA", (fleet.dir.path() / "certs/ca.crt").string()},
                             {"GTHULHU_AGENTS_CLIENT_CERT", (fleet.dir.path() / "certs/coordinator.crt").string()},
                             {"GTHULHU_AGENTS_CLIENT_KEY", (fleet.dir.path() / "certs/coordinator.key").string()},
                             {"GTHULHU_LOG_LEVEL", "warn"}};
  auto cfg = config::Config::load(coordinator::App::schema(), std::nullopt, env);
  coordinator::App app(cfg);
  app.start();
  if (!app.wait_ready(std::chrono::seconds(60))) return 1;
  Rest rest;
  rest.base = "http://127.0.0.1:" + std::to_string(app.port());
  rest.token = rest.call("POST", "/api/v1/auth/login", {{"username", "admin@example.com"}, {"password", kPassword}})
                   ["data"]["accessToken"];

  auto statuses = [&] {
    std::map<std::string, coordinator::NodeStatus> m;
    for (auto& s : app.control().nodes()) m[s.node] = s;
    return m;
  };
  auto wait_all = [&](const std::set<std::string>& which, const std::map<std::string, uint64_t>& after,
                      size_t applied, std::map<std::string, double>* done_ms, Clock::time_point t0) {
    const auto deadline = t0 + std::chrono::seconds(60);
    while (done_ms->size() < which.size() && Clock::now() < deadline) {
      for (auto& [node, s] : statuses()) {
        if (!which.count(node) || done_ms->count(node)) continue;
        if (node_done(s, after.count(node) ? after.at(node) : 0, applied)) {
          (*done_ms)[node] = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        }
      }
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    return done_ms->size() == which.size();
  };
  std::set<std::string> fleet_nodes;
  for (int n = 0; n < nodes; ++n) fleet_nodes.insert("n" + std::to_string(n));

  // Warm-up: the strategy's first push also opens every connection and token.
  auto created = rest.call("POST", "/api/v1/strategies",
                           {{"labelSelectors", {{{"key", "app"}, {"value", "fleet"}}}}, {"priority", 1}});
  const std::string sid = created["data"]["strategy"]["id"];
  {
    std::map<std::string, double> done;
    if (!wait_all(fleet_nodes, {}, 1, &done, Clock::now())) {
      std::cerr << "the fleet never applied the first strategy (" << done.size() << "/" << nodes << ")\n";
      return 1;
    }
  }
  std::vector<double> per_node, whole, put_ms;
  for (int r = 0; r < rounds; ++r) {
    std::map<std::string, uint64_t> before;
    for (auto& [node, s] : statuses()) before[node] = s.acked_generation;
    const auto t0 = Clock::now();
    rest.call("PUT", "/api/v1/strategies", {{"strategyId", sid}, {"priority", 2 + r % 10}});
    put_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    std::map<std::string, double> done;
    if (!wait_all(fleet_nodes, before, 1, &done, t0)) {
      std::cerr << "round " << r << ": only " << done.size() << " nodes applied\n";
      return 1;
    }
    double last = 0;
    for (auto& [node, ms] : done) {
      per_node.push_back(ms);
      last = std::max(last, ms);
    }
    whole.push_back(last);
  }

  // Pod events: a new pod on one node -> its intent applied there.
  std::vector<double> pod_event;
  auto* pods = app.static_pods();
  for (int e = 0; e < events; ++e) {
    const std::string node = "n" + std::to_string(e % nodes);
    auto current = pods->pods();
    const auto s = statuses()[node];
    auto it = s.intents_by_state.find(coordinator::IntentState::kApplied);
    const size_t applied = (it == s.intents_by_state.end() ? 0 : it->second) + 1;
    current.push_back({uid(2, e), "event-" + std::to_string(e), "bench", {{"app", "fleet"}}, node, "Running", ""});
    const auto t0 = Clock::now();
    pods->set(current);
    std::map<std::string, double> done;
    if (!wait_all({node}, {{node, s.acked_generation}}, applied, &done, t0)) {
      std::cerr << "pod event " << e << " never applied\n";
      return 1;
    }
    pod_event.push_back(done[node]);
  }

  // Bytes: one pod's labels change on a node holding 1,000 intents.
  rest.call("POST", "/api/v1/strategies", {{"labelSelectors", {{{"key", "app"}, {"value", "big"}}}}, {"priority", 3}});
  {
    std::map<std::string, double> done;
    if (!wait_all({"big"}, {}, big_intents, &done, Clock::now())) return 1;
  }
  const auto big_before = statuses()["big"];
  auto current = pods->pods();
  for (auto& p : current) {
    if (p.uid == uid(3, 7)) p.labels["tier"] = "changed";
  }
  pods->set(current);
  {
    std::map<std::string, double> done;
    if (!wait_all({"big"}, {{"big", big_before.acked_generation}}, big_intents, &done, Clock::now())) return 1;
  }
  const auto big_after = statuses()["big"];
  std::vector<wire::Intent> all;
  auto stored = app.store().list_intents({std::nullopt, std::nullopt, std::string("big")});
  for (const auto& i : *stored) all.push_back(coordinator::to_wire(i));
  const size_t full_bytes = wire::full_request_json(big_after.acked_generation, all).dump().size();

  json report = {{"agents", nodes},
                 {"rounds", rounds},
                 {"strategyChangePerNodeMs", {{"p50", pct(per_node, 0.5)}, {"p99", pct(per_node, 0.99)}}},
                 {"strategyChangeAllNodesMs", {{"p50", pct(whole, 0.5)}, {"p99", pct(whole, 0.99)}, {"max", pct(whole, 1)}}},
                 {"podEventToAppliedMs", {{"p50", pct(pod_event, 0.5)}, {"p99", pct(pod_event, 0.99)}}},
                 {"onePodChangeAt1000Intents",
                  {{"deltaBytes", big_after.last_push_bytes},
                   {"deltaKind", big_after.last_push_kind},
                   {"fullSetBytes", full_bytes},
                   {"ratio", static_cast<double>(full_bytes) / static_cast<double>(std::max<size_t>(1, big_after.last_push_bytes))}}}};
  std::printf("control loop, %d simulated agents (real gthulhu-agent processes, agent.simulate) over mTLS on loopback:\n",
              nodes);
  std::printf("  strategy change -> agent applied, per node : p50 %.1f ms  p99 %.1f ms (%zu samples)\n",
              pct(per_node, 0.5), pct(per_node, 0.99), per_node.size());
  std::printf("  strategy change -> all %d applied          : p50 %.1f ms  p99 %.1f ms (target p99 < 100 ms)\n", nodes,
              pct(whole, 0.5), pct(whole, 0.99));
  std::printf("  of which the REST PUT itself (plan + store) : p50 %.1f ms\n", pct(put_ms, 0.5));
  std::printf("  pod event -> intent applied on its agent    : p50 %.1f ms  p99 %.1f ms (%d events)\n",
              pct(pod_event, 0.5), pct(pod_event, 0.99), events);
  std::printf("  one-pod change at %d intents: %s %zu bytes vs full set %zu bytes = %.0fx smaller (target >= 50x)\n",
              big_intents, big_after.last_push_kind.c_str(), big_after.last_push_bytes, full_bytes,
              static_cast<double>(full_bytes) / static_cast<double>(std::max<size_t>(1, big_after.last_push_bytes)));
  std::printf("JSON %s\n", report.dump().c_str());
  app.stop();
  return 0;
}
