#pragma once
// One NodeChannel per node that has an agent or desired intents. The dispatcher
// keeps each channel's endpoint (from the agent directory) and desired set (from the
// intent ledger) current; the channels do the talking, each on its own threads.
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "coordinator/dispatch/agent_directory.h"
#include "coordinator/dispatch/intent_ledger.h"
#include "coordinator/dispatch/node_channel.h"

namespace gthulhu::coordinator {

class Dispatcher {
 public:
  Dispatcher(AgentDirectory& agents, IntentLedger& ledger, AgentTransport transport, ChannelTiming timing);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void start();
  void stop();
  bool running() const;

  // The desired sets of these nodes changed in the ledger.
  void nodes_changed(const std::set<std::string>& nodes);
  // The agent directory changed.
  void agents_changed();

  std::vector<NodeStatus> statuses() const;

 private:
  NodeChannel& channel_locked(const std::string& node);

  AgentDirectory& agents_;
  IntentLedger& ledger_;
  const AgentTransport transport_;
  const ChannelTiming timing_;
  mutable std::mutex mu_;
  bool running_ = false;
  std::map<std::string, std::unique_ptr<NodeChannel>> channels_;
  std::map<std::string, AgentEndpoint> endpoints_;
};

}  // namespace gthulhu::coordinator
