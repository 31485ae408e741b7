#pragma once
// The coordinator's control loop: pods x strategies -> intents per node -> agents.
//
// Every replica serves REST; only the leader (ha/leader_elector.h) plans and pushes.
// While leading, one thread here:
//   * loads the intent ledger from the store, and the strategies;
//   * replans every strategy whenever the pod source reports a change (once it is
//     synced: an unsynced source would look like "no pods" and remove everything);
//   * polls the store's strategies (ids and versions) so changes made through another
//     replica, or directly in the database, are planned within strategy_poll;
//   * hands every node whose desired set changed to the dispatcher.
// REST handlers call strategy_saved / strategy_deleted / intents_deleted; on the
// leader those plan at once (so the answer's intentCount is what was stored), on
// another replica they only count what would match and the leader catches up.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/dispatch/agent_directory.h"
#include "coordinator/dispatch/dispatcher.h"
#include "coordinator/dispatch/intent_ledger.h"
#include "coordinator/ha/leader_elector.h"
#include "coordinator/pods/pod_source.h"
#include "coordinator/store/store.h"

namespace gthulhu::coordinator {

struct DispatchSettings {
  AgentTransport transport;
  ChannelTiming timing;
  std::chrono::milliseconds strategy_poll{2000};
};

class ControlLoop {
 public:
  using Clock = std::function<UnixMillis()>;
  ControlLoop(Store& store, PodSource& pods, AgentDirectory& agents, LeaderElector& elector,
              DispatchSettings settings, Clock clock);
  ~ControlLoop();
  ControlLoop(const ControlLoop&) = delete;
  ControlLoop& operator=(const ControlLoop&) = delete;

  // Starts campaigning (and, once leading, planning and pushing).
  void start();
  void stop();
  bool leading() const { return leading_.load(); }
  // Waits until this replica leads (true) or the timeout passes (false).
  bool wait_leading(std::chrono::milliseconds timeout);

  // REST hooks. strategy_saved returns the number of intents the strategy has now.
  Result<std::size_t> strategy_saved(const Strategy& strategy);
  void strategy_deleted(const std::string& strategy_id);
  void intents_deleted(const std::vector<std::string>& intent_ids);

  std::vector<NodeStatus> nodes() const;
  // Waits until every queued intent state reached the store (tests).
  void flush_states() { ledger_.flush(); }

 private:
  void run();
  bool take_lead();
  void step_down();
  void replan_all_locked();
  void poll_strategies_locked();
  Status plan_locked(const Strategy& strategy, const std::vector<Pod>& pods);
  std::vector<NodeStatus> nodes_from_store() const;

  Store& store_;
  PodSource& pods_;
  AgentDirectory& agents_;
  LeaderElector& elector_;
  const DispatchSettings settings_;
  Clock clock_;
  IntentLedger ledger_;
  Dispatcher dispatcher_;

  std::atomic<bool> leading_{false};
  mutable std::mutex plan_mu_;  // serialises planning (loop thread and REST hooks)
  std::map<std::string, Strategy> strategies_;  // as last planned, by id

  // What wakes the loop. Shared with the pod source's and the directory's listeners,
  // which may outlive this object.
  struct Signals {
    std::mutex mu;
    std::condition_variable cv;
    bool stopping = false;
    bool want_lead = false;
    bool pods_dirty = false;
    bool agents_dirty = false;
    void raise(bool Signals::*flag) {
      {
        std::lock_guard lock(mu);
        this->*flag = true;
      }
      cv.notify_all();
    }
  };
  std::shared_ptr<Signals> signals_ = std::make_shared<Signals>();
  bool replan_failed_ = false;  // plan_mu_: retried at the next strategy poll
  std::thread loop_;
};

}  // namespace gthulhu::coordinator
