#pragma once
// Turns the intent set into kernel policy entries and keeps them true as pods,
// containers and processes come and go.
//
// Rules (documented in README "Policy semantics"):
//  * An intent without commandRegex applies to every task of its pod: its policy is
//    written for the pod cgroup and every descendant (the tracker copies it to cgroups
//    created later, in the kernel).
//  * An intent with commandRegex applies to the processes of its pod whose command
//    (the kernel's comm, as upstream) matches the RE2 pattern, with every thread:
//    a per-process override keyed by tgid. The pod's cgroups are flagged WATCH_EXEC so
//    the tracker reports execs there; matching runs on each exec event.
//  * Several intents on one task: the highest priority wins; on equal priority the
//    intent with the smaller id wins. One rule, deterministic, whatever the order.
//  * Intent states: applied (entries written; for commandRegex at least one process
//    matched), waiting (pod not on this node yet, or no process matches yet), invalid
//    (bad regex, values out of range, or meant for another node), with the reason.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/cgroup_tree.h"
#include "agent/intent_store.h"
#include "agent/policy_maps.h"
#include "agent/process_source.h"
#include "common/wire/intent_result.h"

namespace re2 { class RE2; }

namespace gthulhu::agent {

// Per-intent results are part of the wire contract (common/wire/intent_result.h).
using IntentState = wire::ResultState;
using wire::IntentResult;
using wire::to_string;

struct PolicyOwner {  // for metric labels
  std::string intent_id, pod_uid, pod_name, pod_namespace;
};

struct ProcessPolicy {  // one row of GET /api/v1/scheduling/strategies
  uint32_t pid = 0;
  int32_t priority = 0;
  uint64_t execution_time_ns = 0;
  std::string command_regex;
  std::string pod_uid;
  std::map<std::string, std::string> pod_labels;
};

class PolicyEngine {
 public:
  PolicyEngine(PolicyMaps& maps, const CgroupTree& tree, const ProcessSource& procs,
               std::string node_name);
  ~PolicyEngine();

  // Recomputes everything from the snapshot and writes only the differences to the
  // maps (first call also removes entries a previous agent left that are not wanted).
  std::vector<IntentResult> reconcile(const IntentSnapshot& snapshot);

  // Tracker events.
  void on_pod_cgroup(uint64_t cgroup_id, const std::string& pod_uid);
  // A pod's cgroup went away (call after the tree forgot it): its intents' results
  // are recomputed, so a pod that is gone turns its intents waiting at once.
  void on_pod_cgroup_removed(const std::string& pod_uid);
  // True when the command matched: the process's override is in the map on return.
  bool on_exec(uint32_t tgid, uint64_t cgroup_id, const std::string& comm);
  void on_exit(uint32_t tgid, uint64_t cgroup_id);

  std::vector<IntentResult> results() const;
  // The results with a version that changes whenever they do (for the coordinator's
  // long poll). Recomputes stale results first.
  wire::ResultsReport report(uint64_t generation) const;
  // Recomputes results that events made stale; wakes waiters when they changed.
  // The event thread calls it after each batch of events.
  void refresh_if_stale();
  // Blocks until the results version differs from `seen` or the timeout passes;
  // returns the current version.
  uint64_t wait_for_change(uint64_t seen, std::chrono::milliseconds timeout) const;
  // Answers every waiter now and later ones at once (shutdown: a long poll must not hold
  // the server's stop for its whole wait).
  void release_waiters();
  std::map<uint32_t, PolicyOwner> policy_owners() const;
  std::vector<ProcessPolicy> process_policies() const;
  // Map write failures since start (each also logged).
  uint64_t write_errors() const;

 private:
  struct Active;  // a valid intent with its compiled regex and policy id
  struct PodPlan;
  void apply_pod_locked(const std::string& pod_uid);
  std::optional<gthulhu_policy> pod_wide_policy_locked(const std::string& pod_uid) const;
  std::optional<gthulhu_policy> process_policy_locked(const std::string& pod_uid,
                                                      const std::string& comm,
                                                      std::vector<std::string>* matched) const;
  void write_cgroup_locked(uint64_t id, const std::optional<gthulhu_policy>& p);
  void write_override_locked(uint32_t tgid, const std::optional<gthulhu_policy>& p);
  uint32_t policy_id_for_locked(const std::string& intent_id);
  void refresh_results_locked() const;  // results are a cache of the state above
  bool pod_has_intents_locked(const std::string& pod_uid) const;
  // Processes of every listed pod from one read of the process table.
  std::map<std::string, std::vector<ProcessInfo>> processes_by_pod_locked(
      const std::vector<std::string>& pod_uids) const;

  PolicyMaps& maps_;
  const CgroupTree& tree_;
  const ProcessSource& procs_;
  std::string node_name_;

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Active>> active_;         // by intent id
  std::map<std::string, std::vector<std::string>> intents_by_pod_;  // pod uid -> intent ids
  std::map<std::string, IntentResult> invalid_;                   // by intent id
  std::map<uint64_t, gthulhu_policy> written_cgroups_;
  std::map<uint32_t, gthulhu_policy> written_overrides_;
  std::map<uint32_t, std::vector<std::string>> override_matches_;  // tgid -> intent ids matched
  std::map<std::string, uint32_t> policy_ids_;
  std::set<uint32_t> free_policy_ids_;
  uint32_t next_policy_id_ = 1;
  uint64_t write_errors_ = 0;
  mutable std::vector<IntentResult> results_;
  mutable bool results_stale_ = false;
  mutable uint64_t results_version_ = 0;  // bumped when results_ changes
  mutable std::condition_variable results_changed_;
  bool waiters_released_ = false;
};

}  // namespace gthulhu::agent
