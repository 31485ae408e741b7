#include "coordinator/dispatch/node_channel.h"

#include <string_view>

#include <spdlog/spdlog.h>

#include "common/wire/intent_request.h"
#include "coordinator/dispatch/backoff.h"

namespace gthulhu::coordinator {

namespace {

using Clock = std::chrono::steady_clock;

UnixMillis now_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Difference {
  std::vector<wire::Intent> upserts;
  std::vector<std::string> removals;
  bool empty() const { return upserts.empty() && removals.empty(); }
};

Difference difference(const IntentMap& from, const IntentMap& to) {
  Difference d;
  for (const auto& [id, intent] : to) {
    auto it = from.find(id);
    if (it == from.end() || !(it->second == intent)) d.upserts.push_back(intent);
  }
  for (const auto& [id, intent] : from) {
    (void)intent;
    if (!to.count(id)) d.removals.push_back(id);
  }
  return d;
}

std::vector<std::string> ids_of(const std::vector<wire::Intent>& intents) {
  std::vector<std::string> ids;
  ids.reserve(intents.size());
  for (const auto& i : intents) ids.push_back(i.id);
  return ids;
}

}  // namespace

const char* to_string(NodeReachability r) {
  switch (r) {
    case NodeReachability::kUnknown: return "Unknown";
    case NodeReachability::kReady: return "Ready";
    case NodeReachability::kDegraded: return "Degraded";
    case NodeReachability::kUnreachable: return "Unreachable";
  }
  return "?";
}

NodeChannel::NodeChannel(std::string node, ResultSink& sink, AgentTransport transport, ChannelTiming timing)
    : node_(std::move(node)), sink_(sink), transport_(std::move(transport)), timing_(timing) {
  status_.node = node_;
  status_.reason = "no agent known for this node";
}

NodeChannel::~NodeChannel() { stop(); }

void NodeChannel::start() {
  worker_ = std::thread([this] { work(); });
  results_ = std::thread([this] { follow_results(); });
}

void NodeChannel::request_stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cancel_ = true;
  cv_.notify_all();
}

void NodeChannel::stop() {
  request_stop();
  if (worker_.joinable()) worker_.join();
  if (results_.joinable()) results_.join();
}

void NodeChannel::set_desired(std::shared_ptr<const IntentMap> desired) {
  {
    std::lock_guard lock(mu_);
    if (*desired_ == *desired) return;
    desired_ = std::move(desired);
    status_.desired_intents = desired_->size();
    dirty_ = true;
  }
  cv_.notify_all();
}

void NodeChannel::set_endpoint(std::optional<AgentEndpoint> endpoint) {
  {
    std::lock_guard lock(mu_);
    if (client_ && endpoint && client_->endpoint() == *endpoint) return;
    if (!client_ && !endpoint) return;
    client_ = endpoint ? std::make_shared<AgentClient>(*endpoint, transport_, &cancel_) : nullptr;
    ++endpoint_epoch_;
    acked_known_ = false;  // a new agent (or a new address) may hold anything
    status_.agent_url = endpoint ? endpoint->url : "";
    status_.status = NodeReachability::kUnknown;
    status_.reason = endpoint ? "not contacted yet" : "no agent known for this node";
    dirty_ = true;
    kicked_ = true;
  }
  cv_.notify_all();
}

std::shared_ptr<AgentClient> NodeChannel::client() const {
  std::lock_guard lock(mu_);
  return client_;
}

NodeStatus NodeChannel::status() const {
  std::lock_guard lock(mu_);
  NodeStatus s = status_;
  s.acked_generation = acked_generation_;
  const bool pending = !acked_known_ || *acked_ != *desired_;
  s.desired_generation = acked_generation_ + (pending ? 1 : 0);
  s.desired_intents = desired_->size();
  return s;
}

bool NodeChannel::wait_until(Clock::time_point deadline, const std::function<bool()>& wake) {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return stopping_ || wake(); });
  return !stopping_;
}

void NodeChannel::work() {
  Backoff backoff(timing_.retry_initial, timing_.retry_max);
  auto next_probe = Clock::now();
  std::optional<Clock::time_point> retry_at;
  while (true) {
    const auto deadline = retry_at ? std::min(*retry_at, next_probe) : next_probe;
    // During a backoff only a new endpoint cuts the wait short; otherwise any change.
    if (!wait_until(deadline, [&] { return kicked_ || (!retry_at && dirty_); })) break;
    auto c = client();
    {
      std::lock_guard lock(mu_);
      kicked_ = false;
    }
    const auto now = Clock::now();
    if (!c) {
      retry_at.reset();
      next_probe = now + timing_.probe_interval;
      std::lock_guard lock(mu_);
      dirty_ = false;
      continue;
    }
    const bool probe_due = now >= next_probe;
    if (probe_due) next_probe = now + timing_.probe_interval;
    if (sync_once(*c, probe_due) == Step::kRetry) {
      retry_at = Clock::now() + backoff.next();
    } else {
      backoff.reset();
      retry_at.reset();
    }
  }
}

NodeChannel::Step NodeChannel::sync_once(AgentClient& client, bool probe_due) {
  if (probe_due && probe(client) == Step::kRetry) return Step::kRetry;
  bool known;
  {
    std::lock_guard lock(mu_);
    known = acked_known_;
  }
  if (!known && learn_agent_set(client) == Step::kRetry) return Step::kRetry;
  {
    std::lock_guard lock(mu_);
    dirty_ = false;
  }
  return push(client);
}

NodeChannel::Step NodeChannel::probe(AgentClient& client) {
  auto h = client.health();
  if (!h.ok()) {
    failed(h.error, "health probe");
    return Step::kRetry;
  }
  std::lock_guard lock(mu_);
  status_.scheduler = h.value->scheduler;
  status_.last_contact = now_millis();
  if (h.value->status == "healthy") {
    status_.status = NodeReachability::kReady;
    status_.reason.clear();
  } else {
    status_.status = NodeReachability::kDegraded;
    status_.reason = h.value->reason.empty() ? "agent reports " + h.value->status : h.value->reason;
  }
  // The cheap resync: an agent at another generation than we think gets re-read.
  if (acked_known_ && h.value->intent_generation != acked_generation_) {
    spdlog::info("dispatch: node {} is at generation {}, expected {}: re-reading its intents", node_,
                 h.value->intent_generation, acked_generation_);
    acked_known_ = false;
  }
  return Step::kDone;
}

NodeChannel::Step NodeChannel::learn_agent_set(AgentClient& client) {
  auto set = client.get_intents();
  if (!set.ok()) {
    failed(set.error, "reading the agent's intents");
    return Step::kRetry;
  }
  auto held = std::make_shared<IntentMap>();
  for (auto& i : set.value->intents) {
    std::string id = i.id;
    (*held)[id] = std::move(i);
  }
  std::lock_guard lock(mu_);
  acked_generation_ = set.value->generation;
  acked_ = std::move(held);
  acked_known_ = true;
  return Step::kDone;
}

NodeChannel::Step NodeChannel::push(AgentClient& client) {
  std::shared_ptr<const IntentMap> acked;
  std::shared_ptr<const IntentMap> desired;
  uint64_t base;
  {
    std::lock_guard lock(mu_);
    acked = acked_;
    desired = desired_;
    base = acked_generation_;
  }
  const Difference diff = difference(*acked, *desired);
  if (diff.empty()) return Step::kDone;
  sink_.on_sent(node_, ids_of(diff.upserts));
  auto r = send(client, wire::delta_request_json(base, base + 1, diff.upserts, diff.removals), "delta");
  if (!r.ok() && r.error.kind == AgentCallError::Kind::kConflict) {
    // The agent is not where we thought: send everything, above its generation.
    const uint64_t gen = std::max(r.error.current_generation, base) + 1;
    spdlog::info("dispatch: node {} answered 409 ({}): sending the full set at generation {}", node_,
                 r.error.message, gen);
    std::vector<wire::Intent> all;
    all.reserve(desired->size());
    for (const auto& [id, intent] : *desired) all.push_back(intent);
    sink_.on_sent(node_, ids_of(all));
    r = send(client, wire::full_request_json(gen, all), "full");
  }
  if (!r.ok()) {
    failed(r.error, "pushing intents");
    std::lock_guard lock(mu_);
    dirty_ = true;
    return Step::kRetry;
  }
  acknowledged(r.value->generation, desired, r.value->results);
  return Step::kDone;
}

AgentCall<wire::ApplyResponse> NodeChannel::send(AgentClient& client, const nlohmann::json& body,
                                                 const char* kind) {
  const std::string text = body.dump();
  {
    std::lock_guard lock(mu_);
    status_.last_push_bytes = text.size();
    status_.last_push_kind = kind;
    status_.push_bytes += text.size();
    (std::string_view(kind) == "delta" ? status_.delta_pushes : status_.full_pushes)++;
  }
  return client.post_intents(text);
}

void NodeChannel::acknowledged(uint64_t generation, std::shared_ptr<const IntentMap> desired,
                               const std::vector<wire::IntentResult>& results) {
  {
    std::lock_guard lock(mu_);
    acked_generation_ = generation;
    acked_ = std::move(desired);
    acked_known_ = true;
    status_.last_contact = now_millis();
    if (status_.status != NodeReachability::kDegraded) {
      status_.status = NodeReachability::kReady;
      status_.reason.clear();
    }
  }
  sink_.on_results(node_, results);
}

void NodeChannel::failed(const AgentCallError& error, const char* what) {
  std::lock_guard lock(mu_);
  if (stopping_) return;
  const std::string reason = std::string(what) + ": " + error.message;
  status_.failures++;
  if (status_.status != NodeReachability::kUnreachable || status_.reason != reason) {
    spdlog::warn("dispatch: node {} ({}): {}", node_, status_.agent_url, reason);
  }
  if (error.kind == AgentCallError::Kind::kTransport) {
    status_.status = NodeReachability::kUnreachable;
    acked_known_ = false;  // it may have applied the request before the line broke
  } else {
    status_.status = NodeReachability::kDegraded;
  }
  status_.reason = reason;
}

void NodeChannel::follow_results() {
  Backoff backoff(timing_.retry_initial, timing_.retry_max);
  std::optional<uint64_t> version;
  uint64_t epoch = 0;
  while (true) {
    std::shared_ptr<AgentClient> c;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      if (epoch != endpoint_epoch_) {
        epoch = endpoint_epoch_;
        version.reset();
      }
      c = client_;
    }
    if (!c) {
      if (!wait_until(Clock::now() + timing_.probe_interval, [&] { return endpoint_epoch_ != epoch; })) return;
      continue;
    }
    auto r = c->wait_results(version);
    if (!r.ok()) {
      if (!wait_until(Clock::now() + backoff.next(), [&] { return endpoint_epoch_ != epoch; })) return;
      continue;
    }
    backoff.reset();
    if (!version || r.value->results_version != *version) {
      version = r.value->results_version;
      sink_.on_results(node_, r.value->results);
    }
  }
}

}  // namespace gthulhu::coordinator
