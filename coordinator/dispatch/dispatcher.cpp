#include "coordinator/dispatch/dispatcher.h"

namespace gthulhu::coordinator {

Dispatcher::Dispatcher(AgentDirectory& agents, IntentLedger& ledger, AgentTransport transport,
                       ChannelTiming timing)
    : agents_(agents), ledger_(ledger), transport_(std::move(transport)), timing_(timing) {}

Dispatcher::~Dispatcher() { stop(); }

bool Dispatcher::running() const {
  std::lock_guard lock(mu_);
  return running_;
}

void Dispatcher::start() {
  {
    std::lock_guard lock(mu_);
    if (running_) return;
    running_ = true;
  }
  agents_changed();
  std::set<std::string> nodes;
  for (const auto& n : ledger_.nodes()) nodes.insert(n);
  nodes_changed(nodes);
}

void Dispatcher::stop() {
  std::map<std::string, std::unique_ptr<NodeChannel>> channels;
  {
    std::lock_guard lock(mu_);
    running_ = false;
    channels = std::move(channels_);
    channels_.clear();
    endpoints_.clear();
  }
  // Ask them all first: each stop waits for its in-flight calls to abort.
  for (auto& [node, c] : channels) {
    (void)node;
    c->request_stop();
  }
  for (auto& [node, c] : channels) {
    (void)node;
    c->stop();
  }
}

NodeChannel& Dispatcher::channel_locked(const std::string& node) {
  auto it = channels_.find(node);
  if (it != channels_.end()) return *it->second;
  auto c = std::make_unique<NodeChannel>(node, ledger_, transport_, timing_);
  if (auto e = endpoints_.find(node); e != endpoints_.end()) c->set_endpoint(e->second);
  c->set_desired(ledger_.desired(node));
  c->start();
  return *channels_.emplace(node, std::move(c)).first->second;
}

void Dispatcher::nodes_changed(const std::set<std::string>& nodes) {
  std::lock_guard lock(mu_);
  if (!running_) return;
  for (const auto& node : nodes) {
    if (node.empty()) continue;
    auto desired = ledger_.desired(node);
    // A node without agent and without intents needs no channel.
    if (desired->empty() && !endpoints_.count(node) && !channels_.count(node)) continue;
    channel_locked(node).set_desired(std::move(desired));
  }
}

void Dispatcher::agents_changed() {
  std::lock_guard lock(mu_);
  if (!running_) return;
  std::map<std::string, AgentEndpoint> next;
  for (auto& e : agents_.agents()) {
    std::string node = e.node;
    next.emplace(std::move(node), std::move(e));
  }
  endpoints_ = std::move(next);
  for (const auto& [node, e] : endpoints_) channel_locked(node).set_endpoint(e);
  for (auto& [node, c] : channels_) {
    if (!endpoints_.count(node)) c->set_endpoint(std::nullopt);
  }
}

std::vector<NodeStatus> Dispatcher::statuses() const {
  std::lock_guard lock(mu_);  // channels live while it is held
  std::vector<NodeStatus> out;
  out.reserve(channels_.size());
  for (const auto& [node, c] : channels_) {
    (void)node;
    NodeStatus s = c->status();
    s.intents_by_state = ledger_.counts(s.node);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace gthulhu::coordinator
