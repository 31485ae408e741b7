#pragma once
// The leader's book of every stored intent: what each strategy planned (as in the
// store), each node's desired set in wire form, and each intent's state.
//  * replace_strategy() stores a strategy's freshly planned intents, keeping the id,
//    state and creation time of every intent whose content did not change, and writes
//    nothing at all when nothing changed; it says which nodes' desired sets changed.
//  * As the ResultSink of the node channels it turns pushes into Sent and agent
//    results into Applied / Waiting / Failed (with the agent's reason). The in-memory
//    state changes at once; the store is written by one writer thread that coalesces
//    by intent, so a slow store never holds up a channel.
// Only the leader writes intents, so the book and the store agree.
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/dispatch/node_channel.h"
#include "coordinator/dispatch/result_sink.h"
#include "coordinator/domain/types.h"
#include "coordinator/store/store.h"

namespace gthulhu::coordinator {

// The intent as the agent receives it.
wire::Intent to_wire(const Intent& intent);

class IntentLedger final : public ResultSink {
 public:
  using Clock = std::function<UnixMillis()>;
  IntentLedger(Store& store, Clock clock);
  ~IntentLedger() override;

  // (Re)reads every intent from the store and starts the state writer.
  Status load();
  // Stops the state writer after it wrote what is queued.
  void stop();

  Result<std::set<std::string>> replace_strategy(const std::string& strategy_id,
                                                 std::vector<Intent> planned);
  // The strategy is gone from the store (its intents with it).
  std::set<std::string> forget_strategy(const std::string& strategy_id);
  // Some intents were deleted through the API: re-read those strategies.
  Result<std::set<std::string>> reload_strategies(const std::set<std::string>& strategy_ids);

  std::shared_ptr<const IntentMap> desired(const std::string& node) const;
  std::vector<std::string> nodes() const;  // nodes with at least one intent
  std::map<IntentState, std::size_t> counts(const std::string& node) const;
  std::size_t size(const std::string& strategy_id) const;
  std::set<std::string> strategy_of(const std::vector<std::string>& intent_ids) const;

  void on_sent(const std::string& node, const std::vector<std::string>& intent_ids) override;
  void on_results(const std::string& node, const std::vector<wire::IntentResult>& results) override;

  // Blocks until every queued state write reached the store (tests, shutdown).
  void flush();

 private:
  struct StateWrite {
    IntentState state;
    std::string reason;
    UnixMillis at;
  };
  void index_locked(const Intent& intent);
  void unindex_locked(const std::string& intent_id);
  void rebuild_nodes_locked(const std::set<std::string>& nodes);
  void set_state_locked(Intent& intent, IntentState state, const std::string& reason);
  void write_states();

  Store& store_;
  Clock clock_;
  mutable std::mutex mu_;
  std::map<std::string, Intent> intents_;                        // by id
  std::map<std::string, std::set<std::string>> ids_by_strategy_;
  std::map<std::string, std::set<std::string>> ids_by_node_;
  std::map<std::string, std::shared_ptr<const IntentMap>> desired_;  // by node

  std::mutex writes_mu_;
  std::condition_variable writes_cv_;
  std::map<std::string, StateWrite> pending_writes_;  // by intent id: the newest wins
  std::size_t writes_in_flight_ = 0;
  bool writer_stopping_ = false;
  std::thread writer_;
};

}  // namespace gthulhu::coordinator
