#include "coordinator/dispatch/control_loop.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "coordinator/dispatch/backoff.h"
#include "coordinator/planner/planner.h"

namespace gthulhu::coordinator {

using SteadyClock = std::chrono::steady_clock;

ControlLoop::ControlLoop(Store& store, PodSource& pods, AgentDirectory& agents, LeaderElector& elector,
                         DispatchSettings settings, Clock clock)
    : store_(store),
      pods_(pods),
      agents_(agents),
      elector_(elector),
      settings_(std::move(settings)),
      clock_(std::move(clock)),
      ledger_(store, clock_),
      dispatcher_(agents, ledger_, settings_.transport, settings_.timing) {
  auto signals = signals_;
  pods_.subscribe([signals] { signals->raise(&Signals::pods_dirty); });
  agents_.subscribe([signals] { signals->raise(&Signals::agents_dirty); });
}

ControlLoop::~ControlLoop() { stop(); }

void ControlLoop::start() {
  if (loop_.joinable()) return;
  loop_ = std::thread([this] { run(); });
  auto signals = signals_;
  elector_.start([signals](bool leading) {
    {
      std::lock_guard lock(signals->mu);
      signals->want_lead = leading;
    }
    signals->cv.notify_all();
  });
}

bool ControlLoop::wait_leading(std::chrono::milliseconds timeout) {
  std::unique_lock lock(signals_->mu);
  return signals_->cv.wait_for(lock, timeout, [&] { return leading_.load() || signals_->stopping; }) &&
         leading_.load();
}

void ControlLoop::stop() {
  elector_.stop();
  signals_->raise(&Signals::stopping);
  if (loop_.joinable()) loop_.join();
}

void ControlLoop::run() {
  Backoff backoff(std::chrono::milliseconds(250), std::chrono::milliseconds(5000));
  auto next_poll = SteadyClock::now();
  while (true) {
    bool want_lead, pods_dirty, agents_dirty;
    {
      std::unique_lock lock(signals_->mu);
      signals_->cv.wait_until(lock, next_poll, [&] {
        return signals_->stopping || signals_->want_lead != leading_.load() || signals_->pods_dirty ||
               signals_->agents_dirty;
      });
      if (signals_->stopping) break;
      want_lead = signals_->want_lead;
      pods_dirty = std::exchange(signals_->pods_dirty, false);
      agents_dirty = std::exchange(signals_->agents_dirty, false);
    }
    if (want_lead && !leading_) {
      if (!take_lead()) {
        next_poll = SteadyClock::now() + backoff.next();
        continue;
      }
      backoff.reset();
      pods_dirty = true;
    } else if (!want_lead && leading_) {
      step_down();
    }
    const auto now = SteadyClock::now();
    if (!leading_) {
      next_poll = now + settings_.strategy_poll;
      continue;
    }
    if (agents_dirty) dispatcher_.agents_changed();
    std::lock_guard plan(plan_mu_);
    if (now >= next_poll) {
      next_poll = now + settings_.strategy_poll;
      poll_strategies_locked();
      if (replan_failed_) pods_dirty = true;
    }
    if (pods_dirty && pods_.synced()) replan_all_locked();
  }
  step_down();
}

bool ControlLoop::take_lead() {
  std::lock_guard plan(plan_mu_);
  if (auto st = ledger_.load(); !st.ok()) {
    spdlog::warn("control loop: cannot load intents ({}); retrying", st.error().message);
    return false;
  }
  auto strategies = store_.list_strategies({});
  if (!strategies.ok()) {
    spdlog::warn("control loop: cannot load strategies ({}); retrying", strategies.error().message);
    return false;
  }
  strategies_.clear();
  for (auto& s : *strategies) {
    std::string id = s.id;
    strategies_.emplace(std::move(id), std::move(s));
  }
  dispatcher_.start();
  {
    std::lock_guard lock(signals_->mu);
    leading_ = true;
  }
  signals_->cv.notify_all();
  spdlog::info("control loop: leading ({} strategies, {} nodes with intents)", strategies_.size(),
               ledger_.nodes().size());
  return true;
}

void ControlLoop::step_down() {
  if (!leading_.exchange(false)) return;
  std::lock_guard plan(plan_mu_);
  dispatcher_.stop();
  ledger_.stop();
  strategies_.clear();
  spdlog::info("control loop: no longer leading");
}

Status ControlLoop::plan_locked(const Strategy& strategy, const std::vector<Pod>& pods) {
  auto nodes = ledger_.replace_strategy(strategy.id, plan_intents(strategy, pods, clock_()));
  if (!nodes.ok()) {
    spdlog::warn("control loop: storing the intents of strategy {} failed: {}", strategy.id,
                 nodes.error().message);
    replan_failed_ = true;
    return nodes.error();
  }
  dispatcher_.nodes_changed(*nodes);
  return Status::Ok();
}

void ControlLoop::replan_all_locked() {
  replan_failed_ = false;
  const auto pods = pods_.pods();
  for (const auto& [id, s] : strategies_) {
    (void)id;
    (void)plan_locked(s, pods);
  }
}

void ControlLoop::poll_strategies_locked() {
  auto listed = store_.list_strategies({});
  if (!listed.ok()) {
    spdlog::warn("control loop: listing strategies failed: {}", listed.error().message);
    return;
  }
  std::set<std::string> seen;
  std::vector<Pod> pods;
  bool have_pods = false;
  for (const auto& s : *listed) {
    seen.insert(s.id);
    auto known = strategies_.find(s.id);
    if (known != strategies_.end() && known->second.version == s.version) continue;
    if (!have_pods) {
      if (!pods_.synced()) return;
      pods = pods_.pods();
      have_pods = true;
    }
    spdlog::info("control loop: strategy {} changed in the store: replanning it", s.id);
    strategies_[s.id] = s;
    (void)plan_locked(s, pods);
  }
  for (auto it = strategies_.begin(); it != strategies_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    spdlog::info("control loop: strategy {} is gone from the store", it->first);
    dispatcher_.nodes_changed(ledger_.forget_strategy(it->first));
    it = strategies_.erase(it);
  }
}

Result<std::size_t> ControlLoop::strategy_saved(const Strategy& strategy) {
  if (!leading_) return plan_intents(strategy, pods_.pods(), clock_()).size();
  std::lock_guard plan(plan_mu_);
  strategies_[strategy.id] = strategy;
  if (!pods_.synced()) return ledger_.size(strategy.id);
  if (auto st = plan_locked(strategy, pods_.pods()); !st.ok()) return st.error();
  return ledger_.size(strategy.id);
}

void ControlLoop::strategy_deleted(const std::string& strategy_id) {
  if (!leading_) return;
  std::lock_guard plan(plan_mu_);
  strategies_.erase(strategy_id);
  dispatcher_.nodes_changed(ledger_.forget_strategy(strategy_id));
}

void ControlLoop::intents_deleted(const std::vector<std::string>& intent_ids) {
  if (!leading_) return;
  std::lock_guard plan(plan_mu_);
  auto nodes = ledger_.reload_strategies(ledger_.strategy_of(intent_ids));
  if (!nodes.ok()) {
    spdlog::warn("control loop: re-reading intents failed: {}", nodes.error().message);
    return;
  }
  dispatcher_.nodes_changed(*nodes);
}

std::vector<NodeStatus> ControlLoop::nodes() const {
  auto out = leading_ ? dispatcher_.statuses() : nodes_from_store();
  // Nodes that host pods but have neither an agent nor intents are shown too.
  std::set<std::string> listed;
  for (const auto& n : out) listed.insert(n.node);
  for (const auto& node : pods_.nodes()) {
    if (node.empty() || listed.count(node)) continue;
    NodeStatus s;
    s.node = node;
    s.reason = "no agent known for this node";
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const NodeStatus& a, const NodeStatus& b) { return a.node < b.node; });
  return out;
}

std::vector<NodeStatus> ControlLoop::nodes_from_store() const {
  std::map<std::string, NodeStatus> by_node;
  auto intents = store_.list_intents({});
  if (intents.ok()) {
    for (const auto& i : *intents) {
      auto& s = by_node[i.node_id];
      s.node = i.node_id;
      ++s.desired_intents;
      ++s.intents_by_state[i.state];
    }
  }
  for (const auto& a : agents_.agents()) {
    auto& s = by_node[a.node];
    s.node = a.node;
    s.agent_url = a.url;
  }
  std::vector<NodeStatus> out;
  for (auto& [node, s] : by_node) {
    if (node.empty()) continue;
    s.reason = "this replica is not the leader: agent contact is the leader's";
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace gthulhu::coordinator
