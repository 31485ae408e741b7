#pragma once
// The coordinator's link to one node's agent. It owns two threads: a worker that
// brings the agent to the desired intent set, and a long poll that follows the
// agent's per-intent results. A slow or dead agent only ever blocks its own channel.
//
// The worker, whenever the desired set changed, a retry is due or a probe is due:
//   1. learns the agent's set once (GET /api/v1/intents): after a coordinator restart
//      it resumes from what the agent has instead of resending everything;
//   2. sends only the difference as a delta on top of the acknowledged generation;
//      a 409 (the agent is elsewhere: restarted without its state, or another leader
//      wrote) is answered with the full set at a generation above the agent's;
//   3. probes /health every probe interval: the agent's status, and its generation as
//      a cheap resync (a generation that is not the acknowledged one makes the worker
//      re-read the agent's set).
// Failures retry with exponential backoff and jitter; the node shows Unreachable.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <functional>
#include <thread>

#include "coordinator/dispatch/agent_client.h"
#include "coordinator/dispatch/node_status.h"
#include "coordinator/dispatch/result_sink.h"

namespace gthulhu::coordinator {

using IntentMap = std::map<std::string, wire::Intent>;  // by intent id

struct ChannelTiming {
  std::chrono::milliseconds retry_initial{200};
  std::chrono::milliseconds retry_max{10000};
  std::chrono::milliseconds probe_interval{10000};
};

class NodeChannel {
 public:
  NodeChannel(std::string node, ResultSink& sink, AgentTransport transport, ChannelTiming timing);
  ~NodeChannel();
  NodeChannel(const NodeChannel&) = delete;
  NodeChannel& operator=(const NodeChannel&) = delete;

  void start();
  // Asks both threads to end and aborts their calls in flight; stop() also waits.
  void request_stop();
  void stop();

  // The set this node's agent should hold; wakes the worker when it differs.
  void set_desired(std::shared_ptr<const IntentMap> desired);
  // The agent's address (nullopt: none known; the channel idles as Unknown).
  void set_endpoint(std::optional<AgentEndpoint> endpoint);

  NodeStatus status() const;
  const std::string& node() const { return node_; }

 private:
  enum class Step { kDone, kRetry };
  void work();
  void follow_results();
  Step sync_once(AgentClient& client, bool probe_due);
  Step learn_agent_set(AgentClient& client);
  Step push(AgentClient& client);
  Step probe(AgentClient& client);
  AgentCall<wire::ApplyResponse> send(AgentClient& client, const nlohmann::json& body, const char* kind);
  void acknowledged(uint64_t generation, std::shared_ptr<const IntentMap> desired,
                    const std::vector<wire::IntentResult>& results);
  void failed(const AgentCallError& error, const char* what);
  std::shared_ptr<AgentClient> client() const;
  bool wait_until(std::chrono::steady_clock::time_point deadline, const std::function<bool()>& wake);

  const std::string node_;
  ResultSink& sink_;
  const AgentTransport transport_;
  const ChannelTiming timing_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<bool> cancel_{false};  // aborts HTTP calls in flight on stop()
  bool dirty_ = true;
  bool kicked_ = false;  // a new endpoint: skip the rest of a backoff
  std::shared_ptr<const IntentMap> desired_ = std::make_shared<IntentMap>();
  std::shared_ptr<AgentClient> client_;
  uint64_t endpoint_epoch_ = 0;  // bumps with each new endpoint: state learnt before is void

  // The agent as last acknowledged (worker thread; status() reads under mu_).
  bool acked_known_ = false;
  uint64_t acked_generation_ = 0;
  std::shared_ptr<const IntentMap> acked_ = std::make_shared<IntentMap>();
  NodeStatus status_;

  std::thread worker_;
  std::thread results_;
};

}  // namespace gthulhu::coordinator
