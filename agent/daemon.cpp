#include "agent/daemon.h"

#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "agent/agent_metrics.h"
#include "common/http/json_api.h"

namespace gthulhu::agent {

namespace fs = std::filesystem;

AgentDaemon::AgentDaemon(AgentSettings settings, NodeBackend& backend)
    : settings_(std::move(settings)), backend_(backend) {}

AgentDaemon::~AgentDaemon() { stop(); }

std::vector<IntentResult> AgentDaemon::reconcile() {
  std::lock_guard lock(reconcile_mu_);
  return engine_->reconcile(intents_->snapshot());
}

IntentUpdate AgentDaemon::update_intents(const IntentChange& change) {
  std::lock_guard lock(reconcile_mu_);
  IntentUpdate out;
  out.applied = change(*intents_);
  if (out.applied.outcome == ApplyOutcome::kApplied) {
    out.results = engine_->reconcile(intents_->snapshot());
  } else {
    out.results = engine_->results();
  }
  return out;
}

void AgentDaemon::start(StartupPhases& phases) {
  phases_ = &phases;
  std::error_code ec;
  fs::create_directories(settings_.state_dir, ec);
  if (ec) throw std::runtime_error("cannot create state_dir " + settings_.state_dir + ": " + ec.message());
  intents_ = std::make_unique<IntentStore>(fs::path(settings_.state_dir) / "intents.json");

  std::string cgroup_root = settings_.cgroup_root;
  if (cgroup_root.empty()) {
    auto found = CgroupTree::find_cgroup2_mount();
    if (!found) throw std::runtime_error("no cgroup2 filesystem is mounted: set agent.cgroup_root");
    cgroup_root = found->string();
  }
  tree_ = std::make_unique<CgroupTree>(cgroup_root);
  const size_t cgroups = tree_->scan();
  engine_ = std::make_unique<PolicyEngine>(backend_.policy_maps(), *tree_, backend_.processes(), settings_.node_name);
  const auto restored = reconcile();
  spdlog::info("agent: node {}, cgroup2 at {} ({} cgroups, {} pods), {} intents restored at generation {}",
               settings_.node_name, cgroup_root, cgroups, tree_->pod_uids().size(), restored.size(),
               intents_->generation());
  phases.mark(StartupPhases::Phase::kFirstReconcile);

  tokens_ = std::make_unique<TokenService>(settings_.tokens);
  auto registry_metrics =
      make_agent_collector(backend_.scheduler(), backend_.tracker(), *engine_, metric_set_, settings_.node_name,
                           AgentTimings{&exec_latency_, phases_});
  auto http_registry = std::make_shared<prometheus::Registry>();
  context_.reset(new AgentContext{settings_.node_name, *intents_, *engine_, *tree_, backend_.processes(), *tokens_,
                                  metric_set_, backend_.scheduler(), backend_.tracker(),
                                  {registry_metrics, http_registry},
                                  [this](const IntentChange& c) { return update_intents(c); }, phases_});
  auto server_options = settings_.server;
  server_options.metrics = http_registry;
  server_ = std::make_unique<http::Server>(server_options, make_agent_router(*context_));
  server_->start();
  phases.mark(StartupPhases::Phase::kServing);
  spdlog::info("agent: startup: {} (serving on port {}; token key {})", phases.summary(), server_->port(),
               tokens_->key_ready() ? "ready" : "still being generated, off the serving path");
  start_probe_listener(http_registry);
  stopping_ = false;
  events_ = std::thread([this] { event_loop(); });
}

// After the main listener: a probe that answers means the API is being served.
void AgentDaemon::start_probe_listener(std::shared_ptr<prometheus::Registry> http_registry) {
  if (!settings_.probe) return;
  auto options = *settings_.probe;
  options.metrics = std::move(http_registry);
  probe_server_ = std::make_unique<http::Server>(options, make_probe_router(*context_));
  probe_server_->start();
  spdlog::info("agent: probe listener (plain HTTP, /health and /metrics only) on port {}", probe_server_->port());
}

void AgentDaemon::stop() {
  stopping_ = true;
  if (events_.joinable()) events_.join();
  if (engine_) engine_->release_waiters();
  if (probe_server_) probe_server_->stop();
  if (server_) server_->stop();
}

void AgentDaemon::handle(const NodeEvent& e) {
  switch (e.type) {
    case NodeEvent::Type::kCgroupMkdir:
      if (auto uid = tree_->on_mkdir(e.cgroup_id, e.parent_cgroup_id, e.name)) {
        engine_->on_pod_cgroup(e.cgroup_id, *uid);
      }
      break;
    case NodeEvent::Type::kCgroupRmdir: {
      const auto pod_uid = tree_->pod_of_cgroup(e.cgroup_id);
      tree_->on_rmdir(e.cgroup_id);
      if (pod_uid) engine_->on_pod_cgroup_removed(*pod_uid);
      break;
    }
    case NodeEvent::Type::kExec:
      // Only matches count: a non-matching exec writes nothing the metric is about.
      if (engine_->on_exec(e.tgid, e.cgroup_id, e.name) && e.timestamp_ns != 0)
        exec_latency_.observe_since(e.timestamp_ns);
      break;
    case NodeEvent::Type::kExit:
      engine_->on_exit(e.tgid, e.cgroup_id);
      break;
    case NodeEvent::Type::kSchedulerExit:
      spdlog::error("agent: the scheduler was unloaded by the kernel: {}", e.name);
      break;
  }
}

void AgentDaemon::event_loop() {
  auto next_resync = std::chrono::steady_clock::now() + settings_.resync_interval;
  uint64_t lost_seen = backend_.tracker().stats().events_lost;
  while (!stopping_) {
    int n = backend_.poll(std::chrono::milliseconds(200), [this](const NodeEvent& e) {
      try {
        handle(e);
      } catch (const std::exception& ex) {
        spdlog::error("agent: event handling failed: {}", ex.what());
      }
    });
    if (n < 0 && n != -EINTR) {
      spdlog::error("agent: polling kernel events failed (errno {}); retrying", -n);
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    // Results that the events changed reach long-polling coordinators now.
    engine_->refresh_if_stale();
    // Lost events mean the index may be stale: rebuild it now rather than at the
    // next periodic resync.
    const uint64_t lost = backend_.tracker().stats().events_lost;
    const auto now = std::chrono::steady_clock::now();
    if (lost != lost_seen || now >= next_resync) {
      if (lost != lost_seen) spdlog::warn("agent: {} tracker events lost: rescanning cgroups", lost - lost_seen);
      lost_seen = lost;
      next_resync = now + settings_.resync_interval;
      tree_->scan();
      reconcile();
    }
  }
}

}  // namespace gthulhu::agent
