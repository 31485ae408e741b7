#pragma once
// The simulated node's policy tables: PolicyMaps in memory. It also remembers when each
// policy id was first written, so the simulated scheduler's counters start when the
// policy did (as the BPF scheduler's do).
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "agent/policy_maps.h"

namespace gthulhu::agent {

class MemoryMaps final : public PolicyMaps {
 public:
  using Clock = std::chrono::steady_clock;
  using Now = std::function<Clock::time_point()>;
  explicit MemoryMaps(Now now = [] { return Clock::now(); }) : now_(std::move(now)) {}
  std::string set_cgroup_policy(uint64_t id, const gthulhu_policy& p) override {
    std::lock_guard lock(mu_);
    cgroups_[id] = p;
    first_written_.try_emplace(p.policy_id, now_());
    return "";
  }
  std::string clear_cgroup_policy(uint64_t id) override {
    std::lock_guard lock(mu_);
    cgroups_.erase(id);
    forget_unused_locked();
    return "";
  }
  std::string set_process_override(uint32_t tgid, const gthulhu_policy& p) override {
    std::lock_guard lock(mu_);
    overrides_[tgid] = p;
    first_written_.try_emplace(p.policy_id, now_());
    return "";
  }
  std::string clear_process_override(uint32_t tgid) override {
    std::lock_guard lock(mu_);
    overrides_.erase(tgid);
    forget_unused_locked();
    return "";
  }
  std::optional<gthulhu_policy> cgroup_policy(uint64_t id) const override {
    std::lock_guard lock(mu_);
    auto it = cgroups_.find(id);
    return it == cgroups_.end() ? std::nullopt : std::optional(it->second);
  }
  std::optional<gthulhu_policy> process_override(uint32_t tgid) const override {
    std::lock_guard lock(mu_);
    auto it = overrides_.find(tgid);
    return it == overrides_.end() ? std::nullopt : std::optional(it->second);
  }
  std::vector<std::pair<uint64_t, gthulhu_policy>> cgroup_policies() const override {
    std::lock_guard lock(mu_);
    return {cgroups_.begin(), cgroups_.end()};
  }
  std::vector<std::pair<uint32_t, gthulhu_policy>> process_overrides() const override {
    std::lock_guard lock(mu_);
    return {overrides_.begin(), overrides_.end()};
  }

  struct LivePolicy {
    gthulhu_policy policy;
    Clock::time_point since;  // first written
  };
  // Every policy id some entry holds now (0, the unpolicied bucket, excluded).
  std::map<uint32_t, LivePolicy> live_policies() const {
    std::lock_guard lock(mu_);
    std::map<uint32_t, LivePolicy> out;
    auto add = [&](const gthulhu_policy& p) {
      if (p.policy_id == 0) return;
      out.try_emplace(p.policy_id, LivePolicy{p, first_written_.at(p.policy_id)});
    };
    for (const auto& [id, p] : cgroups_) add(p);
    for (const auto& [tgid, p] : overrides_) add(p);
    return out;
  }

 private:
  // A policy id no entry holds any more is released (the engine may reuse it for
  // another intent, whose counters then start afresh here).
  void forget_unused_locked() {
    std::set<uint32_t> used;
    for (const auto& [id, p] : cgroups_) used.insert(p.policy_id);
    for (const auto& [tgid, p] : overrides_) used.insert(p.policy_id);
    std::erase_if(first_written_, [&](const auto& entry) { return !used.count(entry.first); });
  }

  Now now_;
  mutable std::mutex mu_;
  std::map<uint64_t, gthulhu_policy> cgroups_;
  std::map<uint32_t, gthulhu_policy> overrides_;
  std::map<uint32_t, Clock::time_point> first_written_;
};

}  // namespace gthulhu::agent
