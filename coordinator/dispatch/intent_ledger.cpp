#include "coordinator/dispatch/intent_ledger.h"

#include <spdlog/spdlog.h>

namespace gthulhu::coordinator {

wire::Intent to_wire(const Intent& i) {
  wire::Intent w;
  w.id = i.id;
  w.pod_uid = i.pod_id;
  w.pod_name = i.pod_name;
  w.node_id = i.node_id;
  w.k8s_namespace = i.k8s_namespace;
  w.command_regex = i.command_regex;
  w.priority = i.priority;
  w.execution_time_ns = static_cast<uint64_t>(i.execution_time);
  w.pod_labels = i.pod_labels;
  return w;
}

namespace {

// Same content for the agent (and the same strategy): the stored row can stay.
bool same_content(const Intent& a, const Intent& b) {
  return a.strategy_id == b.strategy_id && to_wire(a) == to_wire(b);
}

std::pair<IntentState, std::string> state_of(const wire::IntentResult& r) {
  switch (r.state) {
    case wire::ResultState::kApplied: return {IntentState::kApplied, r.reason};
    case wire::ResultState::kWaiting: return {IntentState::kWaiting, r.reason};
    case wire::ResultState::kInvalid: return {IntentState::kFailed, r.reason};
  }
  return {IntentState::kUnknown, r.reason};
}

}  // namespace

IntentLedger::IntentLedger(Store& store, Clock clock) : store_(store), clock_(std::move(clock)) {}

IntentLedger::~IntentLedger() { stop(); }

Status IntentLedger::load() {
  auto all = store_.list_intents({});
  if (!all.ok()) return all.error();
  {
    std::lock_guard lock(mu_);
    intents_.clear();
    ids_by_strategy_.clear();
    std::set<std::string> nodes;
    for (const auto& [node, ids] : ids_by_node_) nodes.insert(node);
    ids_by_node_.clear();
    for (auto& i : *all) {
      nodes.insert(i.node_id);
      index_locked(i);
    }
    rebuild_nodes_locked(nodes);
  }
  std::lock_guard lock(writes_mu_);
  if (!writer_.joinable()) {
    writer_stopping_ = false;
    writer_ = std::thread([this] { write_states(); });
  }
  return Status::Ok();
}

void IntentLedger::stop() {
  {
    std::lock_guard lock(writes_mu_);
    writer_stopping_ = true;
  }
  writes_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void IntentLedger::index_locked(const Intent& intent) {
  intents_[intent.id] = intent;
  ids_by_strategy_[intent.strategy_id].insert(intent.id);
  ids_by_node_[intent.node_id].insert(intent.id);
}

void IntentLedger::unindex_locked(const std::string& id) {
  auto it = intents_.find(id);
  if (it == intents_.end()) return;
  auto drop = [&](std::map<std::string, std::set<std::string>>& index, const std::string& key) {
    auto k = index.find(key);
    if (k == index.end()) return;
    k->second.erase(id);
    if (k->second.empty()) index.erase(k);
  };
  drop(ids_by_strategy_, it->second.strategy_id);
  drop(ids_by_node_, it->second.node_id);
  intents_.erase(it);
}

void IntentLedger::rebuild_nodes_locked(const std::set<std::string>& nodes) {
  for (const auto& node : nodes) {
    auto map = std::make_shared<IntentMap>();
    if (auto ids = ids_by_node_.find(node); ids != ids_by_node_.end()) {
      for (const auto& id : ids->second) (*map)[id] = to_wire(intents_.at(id));
    }
    desired_[node] = std::move(map);
  }
}

Result<std::set<std::string>> IntentLedger::replace_strategy(const std::string& strategy_id,
                                                             std::vector<Intent> planned) {
  std::lock_guard lock(mu_);
  const UnixMillis now = clock_();
  bool changed = false;
  std::set<std::string> nodes;
  std::set<std::string> planned_ids;
  for (auto& p : planned) {
    planned_ids.insert(p.id);
    auto old = intents_.find(p.id);
    if (old != intents_.end() && same_content(old->second, p)) {
      p = old->second;  // keeps state, reason, times and creator
      continue;
    }
    changed = true;
    nodes.insert(p.node_id);
    if (old != intents_.end()) {
      nodes.insert(old->second.node_id);
      p.created_at = old->second.created_at;
    }
    p.state = IntentState::kInitialized;
    p.state_reason.clear();
    p.updated_at = now;
  }
  if (auto ids = ids_by_strategy_.find(strategy_id); ids != ids_by_strategy_.end()) {
    for (const auto& id : ids->second) {
      if (!planned_ids.count(id)) {
        changed = true;
        nodes.insert(intents_.at(id).node_id);
      }
    }
  }
  if (!changed) return nodes;
  if (auto st = store_.replace_strategy_intents(strategy_id, planned); !st.ok()) return st.error();
  if (auto ids = ids_by_strategy_.find(strategy_id); ids != ids_by_strategy_.end()) {
    const std::set<std::string> old_ids = ids->second;
    for (const auto& id : old_ids) unindex_locked(id);
  }
  for (const auto& p : planned) index_locked(p);
  rebuild_nodes_locked(nodes);
  return nodes;
}

std::set<std::string> IntentLedger::forget_strategy(const std::string& strategy_id) {
  std::lock_guard lock(mu_);
  std::set<std::string> nodes;
  auto ids = ids_by_strategy_.find(strategy_id);
  if (ids == ids_by_strategy_.end()) return nodes;
  const std::set<std::string> old_ids = ids->second;
  for (const auto& id : old_ids) {
    nodes.insert(intents_.at(id).node_id);
    unindex_locked(id);
  }
  rebuild_nodes_locked(nodes);
  return nodes;
}

Result<std::set<std::string>> IntentLedger::reload_strategies(const std::set<std::string>& strategy_ids) {
  std::set<std::string> nodes;
  for (const auto& sid : strategy_ids) {
    IntentFilter f;
    f.strategy_id = sid;
    auto stored = store_.list_intents(f);
    if (!stored.ok()) return stored.error();
    std::lock_guard lock(mu_);
    if (auto ids = ids_by_strategy_.find(sid); ids != ids_by_strategy_.end()) {
      const std::set<std::string> old_ids = ids->second;
      for (const auto& id : old_ids) {
        nodes.insert(intents_.at(id).node_id);
        unindex_locked(id);
      }
    }
    for (const auto& i : *stored) {
      nodes.insert(i.node_id);
      index_locked(i);
    }
    rebuild_nodes_locked(nodes);
  }
  return nodes;
}

std::shared_ptr<const IntentMap> IntentLedger::desired(const std::string& node) const {
  std::lock_guard lock(mu_);
  auto it = desired_.find(node);
  return it == desired_.end() ? std::make_shared<const IntentMap>() : it->second;
}

std::vector<std::string> IntentLedger::nodes() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [node, ids] : ids_by_node_) {
    if (!node.empty() && !ids.empty()) out.push_back(node);
  }
  return out;
}

std::map<IntentState, std::size_t> IntentLedger::counts(const std::string& node) const {
  std::lock_guard lock(mu_);
  std::map<IntentState, std::size_t> out;
  if (auto ids = ids_by_node_.find(node); ids != ids_by_node_.end()) {
    for (const auto& id : ids->second) ++out[intents_.at(id).state];
  }
  return out;
}

std::size_t IntentLedger::size(const std::string& strategy_id) const {
  std::lock_guard lock(mu_);
  auto it = ids_by_strategy_.find(strategy_id);
  return it == ids_by_strategy_.end() ? 0 : it->second.size();
}

std::set<std::string> IntentLedger::strategy_of(const std::vector<std::string>& intent_ids) const {
  std::lock_guard lock(mu_);
  std::set<std::string> out;
  for (const auto& id : intent_ids) {
    if (auto it = intents_.find(id); it != intents_.end()) out.insert(it->second.strategy_id);
  }
  return out;
}

void IntentLedger::set_state_locked(Intent& intent, IntentState state, const std::string& reason) {
  if (intent.state == state && intent.state_reason == reason) return;
  intent.state = state;
  intent.state_reason = reason;
  intent.updated_at = clock_();
  {
    std::lock_guard lock(writes_mu_);
    pending_writes_[intent.id] = StateWrite{state, reason, intent.updated_at};
  }
  writes_cv_.notify_one();
}

void IntentLedger::on_sent(const std::string& node, const std::vector<std::string>& intent_ids) {
  (void)node;
  std::lock_guard lock(mu_);
  for (const auto& id : intent_ids) {
    auto it = intents_.find(id);
    // Only fresh intents become Sent: a resent one keeps what the agent said last.
    if (it != intents_.end() && it->second.state == IntentState::kInitialized) {
      set_state_locked(it->second, IntentState::kSent, "");
    }
  }
}

void IntentLedger::on_results(const std::string& node, const std::vector<wire::IntentResult>& results) {
  std::lock_guard lock(mu_);
  for (const auto& r : results) {
    auto it = intents_.find(r.id);
    // Intents the agent got from elsewhere (an upstream manager) are not ours to record.
    if (it == intents_.end() || it->second.node_id != node) continue;
    auto [state, reason] = state_of(r);
    set_state_locked(it->second, state, reason);
  }
}

void IntentLedger::write_states() {
  std::unique_lock lock(writes_mu_);
  while (true) {
    writes_cv_.wait(lock, [&] { return writer_stopping_ || !pending_writes_.empty(); });
    if (pending_writes_.empty() && writer_stopping_) return;
    auto batch = std::move(pending_writes_);
    pending_writes_.clear();
    writes_in_flight_ = batch.size();
    lock.unlock();
    // One store call (one transaction on SQLite) for the whole batch.
    std::vector<IntentStateUpdate> updates;
    updates.reserve(batch.size());
    for (const auto& [id, w] : batch) updates.push_back({id, w.state, w.reason, w.at});
    auto written = store_.update_intent_states(updates);
    const bool failed = !written.ok();
    if (failed) {
      spdlog::warn("recording {} intent states failed: {}", batch.size(), written.error().message);
      std::lock_guard relock(writes_mu_);
      for (auto& [id, w] : batch) pending_writes_.try_emplace(id, w);  // retried unless newer
    }
    lock.lock();
    writes_in_flight_ = 0;
    writes_cv_.notify_all();
    if (failed) {
      if (writer_stopping_) return;  // the next leader re-derives states from the agents
      // A store that fails keeps failing for a while: do not spin on it.
      writes_cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return writer_stopping_; });
    }
  }
}

void IntentLedger::flush() {
  std::unique_lock lock(writes_mu_);
  writes_cv_.wait(lock, [&] { return (pending_writes_.empty() && writes_in_flight_ == 0) || !writer_.joinable(); });
}

}  // namespace gthulhu::coordinator
