#include "agent/policy_engine.h"

#include <re2/re2.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace gthulhu::agent {

struct PolicyEngine::Active {
  Intent intent;
  std::unique_ptr<re2::RE2> regex;  // null: applies to the whole pod
  uint32_t policy_id = 0;
};

namespace {

// The one overlap rule: higher priority wins, then the smaller intent id.
bool beats(const Intent& a, const Intent& b) {
  if (a.priority != b.priority) return a.priority > b.priority;
  return a.id < b.id;
}

gthulhu_policy policy_of(const Intent& in, uint32_t policy_id, uint32_t flags) {
  gthulhu_policy p{};
  p.policy_id = policy_id;
  p.priority = in.priority;
  p.slice_ns = in.execution_time_ns;
  p.flags = flags;
  p.weight = gthulhu_weight_of(in.priority);
  return p;
}

bool same(const gthulhu_policy& a, const gthulhu_policy& b) {
  return a.policy_id == b.policy_id && a.priority == b.priority && a.slice_ns == b.slice_ns &&
         a.flags == b.flags && a.weight == b.weight;
}

}  // namespace

PolicyEngine::PolicyEngine(PolicyMaps& maps, const CgroupTree& tree, const ProcessSource& procs,
                           std::string node_name)
    : maps_(maps), tree_(tree), procs_(procs), node_name_(std::move(node_name)) {}

PolicyEngine::~PolicyEngine() = default;

uint32_t PolicyEngine::policy_id_for_locked(const std::string& intent_id) {
  if (auto it = policy_ids_.find(intent_id); it != policy_ids_.end()) return it->second;
  uint32_t id = 0;
  if (!free_policy_ids_.empty()) {
    id = *free_policy_ids_.begin();
    free_policy_ids_.erase(free_policy_ids_.begin());
  } else if (next_policy_id_ < GTHULHU_MAX_POLICIES) {
    id = next_policy_id_++;
  }
  // id 0 (the unpolicied bucket) when all ids are taken: the policy still applies,
  // only its statistics are pooled; logged once per intent.
  if (id == 0) spdlog::warn("policy ids exhausted: statistics of intent {} are pooled", intent_id);
  policy_ids_[intent_id] = id;
  return id;
}

std::optional<gthulhu_policy> PolicyEngine::pod_wide_policy_locked(const std::string& pod_uid) const {
  auto it = intents_by_pod_.find(pod_uid);
  if (it == intents_by_pod_.end()) return std::nullopt;
  const Active* winner = nullptr;
  bool watch = false;
  for (const auto& id : it->second) {
    const Active& a = *active_.at(id);
    if (a.regex) {
      watch = true;
    } else if (winner == nullptr || beats(a.intent, winner->intent)) {
      winner = &a;
    }
  }
  const uint32_t watch_flag = watch ? static_cast<uint32_t>(GTHULHU_POLICY_WATCH_EXEC) : 0u;
  if (winner != nullptr) return policy_of(winner->intent, winner->policy_id, GTHULHU_POLICY_APPLY | watch_flag);
  if (watch) {
    gthulhu_policy p{};
    p.flags = GTHULHU_POLICY_WATCH_EXEC;
    p.weight = GTHULHU_WEIGHT_DEFAULT;
    return p;
  }
  return std::nullopt;
}

std::optional<gthulhu_policy> PolicyEngine::process_policy_locked(
    const std::string& pod_uid, const std::string& comm, std::vector<std::string>* matched) const {
  auto it = intents_by_pod_.find(pod_uid);
  if (it == intents_by_pod_.end()) return std::nullopt;
  const Active* winner = nullptr;
  for (const auto& id : it->second) {
    const Active& a = *active_.at(id);
    if (a.regex) {
      if (!re2::RE2::PartialMatch(comm, *a.regex)) continue;
      matched->push_back(id);
    }
    if (winner == nullptr || beats(a.intent, winner->intent)) winner = &a;
  }
  // Without a regex match the pod-wide cgroup entry already says everything.
  if (matched->empty() || winner == nullptr) return std::nullopt;
  return policy_of(winner->intent, winner->policy_id, GTHULHU_POLICY_APPLY);
}

void PolicyEngine::write_cgroup_locked(uint64_t id, const std::optional<gthulhu_policy>& p) {
  auto current = maps_.cgroup_policy(id);
  std::string err;
  if (p) {
    // The tracker marks copies it made; an equal policy without the mark is still equal.
    if (current) {
      gthulhu_policy c = *current;
      c.flags &= ~static_cast<uint32_t>(GTHULHU_POLICY_INHERITED);
      if (same(c, *p)) return;
    }
    err = maps_.set_cgroup_policy(id, *p);
  } else if (current) {
    err = maps_.clear_cgroup_policy(id);
  }
  if (!err.empty()) {
    ++write_errors_;
    spdlog::error("policy_by_cgroup[{}]: {}", id, err);
  }
}

void PolicyEngine::write_override_locked(uint32_t tgid, const std::optional<gthulhu_policy>& p) {
  auto current = maps_.process_override(tgid);
  std::string err;
  if (p) {
    if (current && same(*current, *p)) return;
    err = maps_.set_process_override(tgid, *p);
  } else if (current) {
    err = maps_.clear_process_override(tgid);
  }
  if (!err.empty()) {
    ++write_errors_;
    spdlog::error("policy_by_tgid[{}]: {}", tgid, err);
  }
}

std::vector<IntentResult> PolicyEngine::reconcile(const IntentSnapshot& snapshot) {
  std::lock_guard lock(mu_);
  std::map<std::string, std::unique_ptr<Active>> next;
  invalid_.clear();
  for (const auto& [id, stored] : snapshot.intents) {
    auto invalid = [&](std::string why) {
      IntentResult r;
      r.id = id;
      r.pod_uid = stored.intent ? stored.intent->pod_uid : "";
      r.state = IntentState::kInvalid;
      r.reason = std::move(why);
      invalid_[id] = std::move(r);
    };
    if (!stored.intent) {
      invalid(stored.error);
      continue;
    }
    const Intent& in = *stored.intent;
    if (!in.node_id.empty() && !node_name_.empty() && in.node_id != node_name_) {
      invalid("intent is for node '" + in.node_id + "', this is '" + node_name_ + "'");
      continue;
    }
    auto a = std::make_unique<Active>();
    a->intent = in;
    if (!in.command_regex.empty()) {
      re2::RE2::Options opts;
      opts.set_log_errors(false);
      a->regex = std::make_unique<re2::RE2>(in.command_regex, opts);
      if (!a->regex->ok()) {
        invalid("commandRegex '" + in.command_regex + "' is not valid RE2: " + a->regex->error());
        continue;
      }
    }
    next[id] = std::move(a);
  }
  // Stable policy ids: an intent keeps its id (and its statistics) across updates.
  for (auto it = policy_ids_.begin(); it != policy_ids_.end();) {
    if (!next.count(it->first)) {
      if (it->second != 0) free_policy_ids_.insert(it->second);
      it = policy_ids_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [id, a] : next) a->policy_id = policy_id_for_locked(id);
  active_ = std::move(next);
  intents_by_pod_.clear();
  for (const auto& [id, a] : active_) intents_by_pod_[a->intent.pod_uid].push_back(id);

  // Desired kernel state, then the differences against what the kernel holds now
  // (which includes entries the tracker copied and anything a previous agent left).
  std::map<uint64_t, gthulhu_policy> want_cgroups;
  std::map<uint32_t, gthulhu_policy> want_overrides;
  override_matches_.clear();
  std::vector<std::string> regex_pods;
  for (const auto& [pod_uid, ids] : intents_by_pod_) {
    auto pod = tree_.pod(pod_uid);
    if (!pod) continue;
    if (auto p = pod_wide_policy_locked(pod_uid)) {
      for (uint64_t cg : pod->cgroup_ids) want_cgroups[cg] = *p;
    }
    const bool any_regex = std::any_of(ids.begin(), ids.end(), [&](const std::string& id) {
      return active_.at(id)->regex != nullptr;
    });
    if (any_regex) regex_pods.push_back(pod_uid);
  }
  for (const auto& [pod_uid, procs] : processes_by_pod_locked(regex_pods)) {
    for (const auto& proc : procs) {
      std::vector<std::string> matched;
      if (auto p = process_policy_locked(pod_uid, proc.comm, &matched)) {
        want_overrides[proc.tgid] = *p;
        override_matches_[proc.tgid] = std::move(matched);
      }
    }
  }
  for (const auto& [cg, p] : maps_.cgroup_policies()) {
    (void)p;
    if (!want_cgroups.count(cg)) write_cgroup_locked(cg, std::nullopt);
  }
  for (const auto& [cg, p] : want_cgroups) write_cgroup_locked(cg, p);
  for (const auto& [tgid, p] : maps_.process_overrides()) {
    (void)p;
    if (!want_overrides.count(tgid)) write_override_locked(tgid, std::nullopt);
  }
  for (const auto& [tgid, p] : want_overrides) write_override_locked(tgid, p);
  refresh_results_locked();
  return results_;
}

void PolicyEngine::on_pod_cgroup(uint64_t cgroup_id, const std::string& pod_uid) {
  std::lock_guard lock(mu_);
  if (!intents_by_pod_.count(pod_uid)) return;
  write_cgroup_locked(cgroup_id, pod_wide_policy_locked(pod_uid));
  results_stale_ = true;
}

bool PolicyEngine::on_exec(uint32_t tgid, uint64_t cgroup_id, const std::string& comm) {
  std::lock_guard lock(mu_);
  auto pod_uid = tree_.pod_of_cgroup(cgroup_id);
  std::vector<std::string> matched;
  std::optional<gthulhu_policy> p;
  if (pod_uid) p = process_policy_locked(*pod_uid, comm, &matched);
  write_override_locked(tgid, p);
  if (p) {
    override_matches_[tgid] = std::move(matched);
  } else {
    override_matches_.erase(tgid);
  }
  // Results are recomputed when asked for: the exec path stays a lookup, a match
  // and one map write.
  results_stale_ = true;
  return p.has_value();
}

void PolicyEngine::on_pod_cgroup_removed(const std::string& pod_uid) {
  std::lock_guard lock(mu_);
  if (pod_has_intents_locked(pod_uid)) results_stale_ = true;
}

void PolicyEngine::on_exit(uint32_t tgid, uint64_t cgroup_id) {
  std::lock_guard lock(mu_);
  if (override_matches_.erase(tgid)) {
    results_stale_ = true;
    return;
  }
  // A pod-wide intent counts its pod's processes.
  if (auto pod_uid = tree_.pod_of_cgroup(cgroup_id); pod_uid && pod_has_intents_locked(*pod_uid)) {
    results_stale_ = true;
  }
}

bool PolicyEngine::pod_has_intents_locked(const std::string& pod_uid) const {
  return intents_by_pod_.count(pod_uid) != 0;
}

std::map<std::string, std::vector<ProcessInfo>> PolicyEngine::processes_by_pod_locked(
    const std::vector<std::string>& pod_uids) const {
  std::map<std::string, std::vector<ProcessInfo>> out;
  std::set<uint64_t> cgroups;
  std::map<uint64_t, std::string> pod_of;
  for (const auto& uid : pod_uids) {
    auto pod = tree_.pod(uid);
    if (!pod) continue;
    out[uid];  // a pod without processes still gets its (empty) entry
    for (uint64_t cg : pod->cgroup_ids) {
      cgroups.insert(cg);
      pod_of[cg] = uid;
    }
  }
  if (cgroups.empty()) return out;
  for (auto& proc : procs_.processes_in(cgroups)) {
    if (auto it = pod_of.find(proc.cgroup_id); it != pod_of.end()) out[it->second].push_back(std::move(proc));
  }
  return out;
}

void PolicyEngine::refresh_results_locked() const {
  results_stale_ = false;
  std::vector<IntentResult> next;
  std::map<std::string, size_t> regex_matches;
  for (const auto& [tgid, ids] : override_matches_) {
    (void)tgid;
    for (const auto& id : ids) ++regex_matches[id];
  }
  std::vector<std::string> counted_pods;
  for (const auto& [id, a] : active_) {
    if (!a->regex) counted_pods.push_back(a->intent.pod_uid);
  }
  const auto pod_processes = processes_by_pod_locked(counted_pods);
  for (const auto& [id, a] : active_) {
    IntentResult r;
    r.id = id;
    r.pod_uid = a->intent.pod_uid;
    r.policy_id = a->policy_id;
    auto procs = pod_processes.find(a->intent.pod_uid);
    if (!tree_.pod(a->intent.pod_uid)) {
      r.state = IntentState::kWaiting;
      r.reason = "pod " + a->intent.pod_uid + " has no cgroup on this node yet";
    } else if (a->regex) {
      r.matched_processes = regex_matches[id];
      r.state = r.matched_processes ? IntentState::kApplied : IntentState::kWaiting;
      if (!r.matched_processes) r.reason = "no process of the pod matches commandRegex yet";
    } else {
      r.matched_processes = procs == pod_processes.end() ? 0 : procs->second.size();
      r.state = IntentState::kApplied;
    }
    next.push_back(std::move(r));
  }
  for (const auto& [id, r] : invalid_) next.push_back(r);
  if (next != results_) {
    results_ = std::move(next);
    ++results_version_;
    results_changed_.notify_all();
  }
}

std::vector<IntentResult> PolicyEngine::results() const {
  std::lock_guard lock(mu_);
  if (results_stale_) refresh_results_locked();
  return results_;
}

wire::ResultsReport PolicyEngine::report(uint64_t generation) const {
  std::lock_guard lock(mu_);
  if (results_stale_) refresh_results_locked();
  return {results_version_, generation, results_};
}

void PolicyEngine::refresh_if_stale() {
  std::lock_guard lock(mu_);
  if (results_stale_) refresh_results_locked();
}

uint64_t PolicyEngine::wait_for_change(uint64_t seen, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  results_changed_.wait_for(lock, timeout, [&] { return waiters_released_ || results_version_ != seen; });
  return results_version_;
}

void PolicyEngine::release_waiters() {
  {
    std::lock_guard lock(mu_);
    waiters_released_ = true;
  }
  results_changed_.notify_all();
}

std::map<uint32_t, PolicyOwner> PolicyEngine::policy_owners() const {
  std::lock_guard lock(mu_);
  std::map<uint32_t, PolicyOwner> out;
  for (const auto& [id, a] : active_) {
    if (a->policy_id == 0) continue;
    out[a->policy_id] = PolicyOwner{id, a->intent.pod_uid, a->intent.pod_name, a->intent.k8s_namespace};
  }
  return out;
}

std::vector<ProcessPolicy> PolicyEngine::process_policies() const {
  std::lock_guard lock(mu_);
  std::vector<ProcessPolicy> out;
  for (const auto& [pod_uid, ids] : intents_by_pod_) {
    auto pod = tree_.pod(pod_uid);
    if (!pod) continue;
    const auto pod_wide = pod_wide_policy_locked(pod_uid);
    for (const auto& proc : procs_.processes_in(pod->cgroup_ids)) {
      // The sandbox's pause process is not a workload (upstream skips it too).
      if (proc.comm == "pause") continue;
      std::vector<std::string> matched;
      auto p = process_policy_locked(pod_uid, proc.comm, &matched);
      if (!p && !(pod_wide && (pod_wide->flags & GTHULHU_POLICY_APPLY))) continue;
      const gthulhu_policy& eff = p ? *p : *pod_wide;
      // Report the winning intent's regex so external schedulers can see why.
      std::string regex;
      const Intent* labels_from = &active_.at(ids.front())->intent;
      for (const auto& id : ids) {
        const Active& a = *active_.at(id);
        if (a.policy_id == eff.policy_id) {
          regex = a.intent.command_regex;
          labels_from = &a.intent;
        }
      }
      out.push_back(ProcessPolicy{proc.tgid, eff.priority, eff.slice_ns, regex, pod_uid,
                                  labels_from->pod_labels});
    }
  }
  return out;
}

uint64_t PolicyEngine::write_errors() const {
  std::lock_guard lock(mu_);
  return write_errors_;
}

}  // namespace gthulhu::agent
