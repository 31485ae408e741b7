#include "agent/api.h"

#include <spdlog/spdlog.h>

#include <charconv>

#include "agent/pod_stats.h"
#include "common/http/json_api.h"
#include "common/http/json_input.h"

namespace gthulhu::agent {

using http::json;
using http::json_error;
using http::json_ok;
using http::Request;
using http::Response;

namespace {

using wire::results_to_json;

// The longest a results long poll may wait: below the coordinator's request timeout
// and the server's own connection timeout.
constexpr int kMaxResultsWaitSeconds = 30;

bool parse_unsigned(const std::string& text, uint64_t* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return !text.empty() && ec == std::errc() && ptr == end;
}

Response health(AgentContext& ctx) {
  const auto sched = ctx.scheduler.status();
  const auto tracker = ctx.tracker.status();
  json s = {{"enabled", sched.enabled}, {"state", sched.state}};
  if (!sched.reason.empty()) s["reason"] = sched.reason;
  s["missingCallbacks"] = sched.missing_callbacks;
  if (sched.last_exit) {
    s["lastExit"] = {{"kind", sched.last_exit->kind},
                     {"exitCode", sched.last_exit->exit_code},
                     {"reason", sched.last_exit->reason},
                     {"message", sched.last_exit->message}};
  }
  json t = {{"running", tracker.running}};
  if (!tracker.reason.empty()) t["reason"] = tracker.reason;
  // The agent is useful without sched_ext (tracking, REST, metrics): only a stopped
  // tracker makes it unhealthy.
  const bool healthy = tracker.running;
  json body = {{"status", healthy ? (sched.enabled ? "healthy" : "degraded") : "unhealthy"},
               {"timestamp", http::rfc3339_now()},
               {"service", "gthulhu-agent"},
               {"node", ctx.node_name},
               {"scheduler", s},
               {"tracker", t},
               {"intentGeneration", ctx.intents.generation()}};
  if (ctx.startup) {
    json phases = json::object();  // seconds since the process started, per step reached
    for (const auto& [name, s] : ctx.startup->reached()) phases[name] = s;
    body["startupSeconds"] = phases;
  }
  return http::json_raw(body, healthy ? 200 : 503);
}

Response post_intents(AgentContext& ctx, Request& req) {
  Response err;
  auto body = http::parse_json_body(req, &err);
  if (!body) return err;
  auto update = ctx.update_intents([&](IntentStore& store) { return store.apply(*body); });
  const auto& applied = update.applied;
  switch (applied.outcome) {
    case ApplyOutcome::kBadRequest:
      return json_error(400, applied.error);
    case ApplyOutcome::kGenerationMismatch: {
      json b = {{"success", false}, {"error", applied.error}, {"currentGeneration", applied.generation}};
      return http::json_raw(b, 409);
    }
    case ApplyOutcome::kReplay:
      return json_ok({{"generation", applied.generation},
                      {"replayed", true},
                      {"results", results_to_json(update.results)}});
    case ApplyOutcome::kApplied:
      break;
  }
  return json_ok({{"generation", applied.generation}, {"results", results_to_json(update.results)}});
}

Response delete_intents(AgentContext& ctx, Request& req) {
  Response err;
  auto body = http::parse_json_body(req, &err);
  if (!body) return err;
  if (!body->is_object()) return json_error(400, "body must be a JSON object");
  IntentChange change;
  if (http::optional_bool(*body, "all").value_or(false)) {
    change = [](IntentStore& store) { return store.clear(); };
  } else {
    const std::string pod = http::optional_string(*body, "podId")
                                .value_or(http::optional_string(*body, "podID").value_or(""));
    auto uid = canonical_pod_uid(pod);
    if (!uid) return json_error(400, "PodID is required when 'all' is false");
    change = [uid = *uid](IntentStore& store) { return store.remove_pod(uid); };
  }
  auto update = ctx.update_intents(change);
  return json_ok({{"generation", update.applied.generation}});
}

// Long poll: answers at once when the results version differs from `after` (or
// `after` is absent), else when it changes, else after waitSeconds with the same one.
Response get_results(AgentContext& ctx, Request& req) {
  uint64_t after = 0;
  bool has_after = false;
  int wait_seconds = 0;
  if (auto a = req.query_param("after")) {
    if (!parse_unsigned(*a, &after)) return json_error(400, "after must be a non-negative integer");
    has_after = true;
  }
  if (auto w = req.query_param("waitSeconds")) {
    uint64_t v = 0;
    if (!parse_unsigned(*w, &v) || v > kMaxResultsWaitSeconds) {
      return json_error(400, "waitSeconds must be an integer 0.." + std::to_string(kMaxResultsWaitSeconds));
    }
    wait_seconds = static_cast<int>(v);
  }
  auto report = ctx.engine.report(ctx.intents.generation());
  if (has_after && report.results_version == after && wait_seconds > 0) {
    ctx.engine.wait_for_change(after, std::chrono::seconds(wait_seconds));
    report = ctx.engine.report(ctx.intents.generation());
  }
  return json_ok(wire::results_report_json(report));
}

Response get_intents(AgentContext& ctx) {
  auto snap = ctx.intents.snapshot();
  json list = json::array();
  for (const auto& [id, s] : snap.intents) {
    json j = s.intent ? intent_to_json(*s.intent) : s.raw;
    j["id"] = id;
    list.push_back(j);
  }
  return json_ok({{"generation", snap.generation},
                  {"intents", list},
                  {"results", results_to_json(ctx.engine.results())}});
}

Response strategies(AgentContext& ctx) {
  json rows = json::array();
  for (const auto& p : ctx.engine.process_policies()) {
    json row = {{"priority", p.priority}, {"execution_time", p.execution_time_ns}, {"pid", p.pid}};
    if (!p.pod_labels.empty()) {
      json sel = json::array();
      for (const auto& [k, v] : p.pod_labels) sel.push_back({{"key", k}, {"value", v}});
      row["selectors"] = sel;
    }
    if (!p.command_regex.empty()) row["command_regex"] = p.command_regex;
    rows.push_back(row);
  }
  // The upstream scheduler decodes exactly this shape (not the data envelope).
  return http::json_raw({{"success", true},
                         {"message", "Scheduling intents retrieved successfully"},
                         {"timestamp", http::rfc3339_now()},
                         {"scheduling", rows}});
}

Response pods_pids(AgentContext& ctx) {
  json pods = json::array();
  for (const auto& uid : ctx.tree.pod_uids()) {
    auto pod = ctx.tree.pod(uid);
    if (!pod) continue;
    json procs = json::array();
    for (const auto& p : ctx.processes.processes_in(pod->cgroup_ids)) {
      json pj = {{"pid", p.tgid}, {"command", p.comm}, {"ppid", p.ppid}};
      if (auto c = pod->container_of.find(p.cgroup_id); c != pod->container_of.end()) {
        pj["container_id"] = c->second;
      }
      procs.push_back(pj);
    }
    pods.push_back({{"pod_uid", uid}, {"qos_class", to_string(pod->qos)}, {"processes", procs}});
  }
  return json_ok({{"pods", pods}, {"timestamp", http::rfc3339_now()}, {"node_name", ctx.node_name}});
}

// One pod's scheduling statistics (agent/pod_stats.h). Needs the scheduler: with it
// detached the counters stand still, which would read as "the pod does not run".
Response pods_stats(AgentContext& ctx, Request& req) {
  const auto pod = req.query_param("podId");
  if (!pod || pod->empty()) return json_error(400, "podId is required");
  auto uid = canonical_pod_uid(*pod);
  if (!uid) return json_error(400, "podId must be a pod UID (36 characters, hex and dashes)");
  const auto sched = ctx.scheduler.status();
  const bool simulated = sched.state == "simulated";
  if (!sched.enabled && !simulated) {
    return json_error(503, "no scheduler statistics on node " + ctx.node_name + ": " +
                               (sched.reason.empty() ? "the scheduler is not enabled" : sched.reason));
  }
  auto stats = collect_pod_stats(ctx.scheduler, ctx.engine, *uid);
  if (!stats) return json_error(404, "pod " + *uid + " has no policy on node " + ctx.node_name);
  auto body = pod_stats_json(*stats, ctx.node_name, simulated ? "simulated" : "scheduler");
  body["timestamp"] = http::rfc3339_now();
  return json_ok(body);
}

}  // namespace

http::Router make_agent_router(AgentContext& ctx) {
  http::Router r;
  const TokenService& tokens = ctx.tokens;
  r.get("/health", [&ctx](Request&) { return health(ctx); });
  r.get("/version", [](Request&) {
    return http::json_raw({{"message", "gthulhu-agent"},
                           {"version", GTHULHU_VERSION},
                           {"endpoints",
                            "/health, /version, /metrics, POST_/api/v1/auth/token, POST_/api/v1/intents, "
                            "GET_/api/v1/intents, GET_/api/v1/intents/results, DELETE_/api/v1/intents, GET_/api/v1/scheduling/strategies, "
                            "POST_/api/v1/metrics, GET_/api/v1/pods/pids, GET_/api/v1/pods/stats"}});
  });
  r.get("/metrics", metrics::exposition_handler(ctx.metrics));
  r.post("/api/v1/auth/token", [&tokens](Request& req) {
    nlohmann::json body = nlohmann::json::object();
    if (!req.body.empty()) {
      Response err;
      auto parsed = http::parse_json_body(req, &err);
      if (!parsed) return err;
      body = *parsed;
    }
    std::string error;
    auto t = tokens.issue(req, body, &error);
    if (!t) return json_error(401, error);
    spdlog::info("agent: issued a token to {} ({})", t->client_id, req.peer ? "client certificate" : "secret");
    return json_ok({{"token", t->token}, {"expired_at", t->expires_at}});
  });
  r.post("/api/v1/intents", tokens.require([&ctx](Request& req) { return post_intents(ctx, req); }));
  r.get("/api/v1/intents", tokens.require([&ctx](Request&) { return get_intents(ctx); }));
  r.get("/api/v1/intents/results", tokens.require([&ctx](Request& req) { return get_results(ctx, req); }));
  r.del("/api/v1/intents", tokens.require([&ctx](Request& req) { return delete_intents(ctx, req); }));
  r.get("/api/v1/scheduling/strategies", tokens.require([&ctx](Request&) { return strategies(ctx); }));
  r.post("/api/v1/metrics", tokens.require([&ctx](Request& req) {
    Response err;
    auto body = http::parse_json_body(req, &err);
    if (!body) return err;
    auto problem = ctx.metric_set.update(*body);
    if (!problem.empty()) return json_error(400, problem);
    return json_ok();
  }));
  r.get("/api/v1/pods/pids", tokens.require([&ctx](Request&) { return pods_pids(ctx); }));
  r.get("/api/v1/pods/stats", tokens.require([&ctx](Request& req) { return pods_stats(ctx, req); }));
  return r;
}

http::Router make_probe_router(AgentContext& ctx) {
  http::Router r;
  r.get("/health", [&ctx](Request&) { return health(ctx); });
  r.get("/metrics", metrics::exposition_handler(ctx.metrics));
  return r;
}

}  // namespace gthulhu::agent
