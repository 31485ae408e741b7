#include "agent/bpf/bpf_backend.h"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "agent/bpf/scheduler_bpf.h"
#include "agent/bpf/tracker_bpf.h"
#include "agent/bpf/tracker_processes.h"
#include "agent/cgroup_tree.h"

namespace gthulhu::agent {
namespace {

SchedulerExit to_exit(const gthulhu_exit_info& e) {
  return SchedulerExit{e.exit_code, e.kind, std::string(e.reason, strnlen(e.reason, sizeof e.reason)),
                       std::string(e.msg, strnlen(e.msg, sizeof e.msg))};
}

class SchedulerAdapter : public SchedulerView {
 public:
  SchedulerAdapter(const SchedulerBpf* scheduler, std::string off_reason)
      : scheduler_(scheduler), off_reason_(std::move(off_reason)) {}

  SchedulerStatus status() const override {
    SchedulerStatus s;
    s.state = SchedulerBpf::kernel_state();
    if (s.state.empty()) s.state = "unsupported";
    else s.missing_callbacks = SchedulerBpf::missing_callbacks();
    if (scheduler_ == nullptr) {
      s.reason = off_reason_;
      return s;
    }
    s.enabled = scheduler_->running();
    if (auto e = scheduler_->exit_info()) {
      s.last_exit = to_exit(*e);
    } else if (auto p = scheduler_->previous_exit()) {
      s.last_exit = to_exit(*p);
    }
    if (!s.enabled) {
      s.reason = s.last_exit ? "the scheduler exited: " + s.last_exit->reason
                             : "the scheduler is loaded but not enabled (state " + s.state + ")";
    }
    return s;
  }
  std::optional<gthulhu_sched_stats> stats() const override {
    if (scheduler_ == nullptr) return std::nullopt;
    return scheduler_->sched_stats();
  }
  std::map<uint32_t, gthulhu_policy_stats> policy_stats() const override {
    std::map<uint32_t, gthulhu_policy_stats> out;
    if (scheduler_ == nullptr) return out;
    for (const auto& e : scheduler_->active_policy_stats()) {
      if (e.policy_id != 0) out[e.policy_id] = e.stats;
    }
    return out;
  }

 private:
  const SchedulerBpf* scheduler_;
  std::string off_reason_;
};

class TrackerAdapter : public TrackerView {
 public:
  explicit TrackerAdapter(const TrackerBpf& t) : tracker_(t) {}
  TrackerStatus status() const override { return {true, ""}; }
  gthulhu_tracker_stats stats() const override { return tracker_.stats(); }

 private:
  const TrackerBpf& tracker_;
};

NodeEvent to_node_event(const TrackerEvent& te) {
  NodeEvent ne;
  ne.tgid = te.tgid;
  ne.cgroup_id = te.cgroup_id;
  ne.parent_cgroup_id = te.parent_cgroup_id;
  ne.timestamp_ns = te.timestamp_ns;
  switch (te.type) {
    case TrackerEvent::Type::kExec:
      ne.type = NodeEvent::Type::kExec;
      ne.name = te.comm;
      break;
    case TrackerEvent::Type::kExit:
      ne.type = NodeEvent::Type::kExit;
      break;
    case TrackerEvent::Type::kCgroupMkdir:
      ne.type = NodeEvent::Type::kCgroupMkdir;
      ne.name = te.cgroup_name;
      break;
    case TrackerEvent::Type::kCgroupRmdir:
      ne.type = NodeEvent::Type::kCgroupRmdir;
      ne.name = te.cgroup_name;
      break;
    case TrackerEvent::Type::kUnknown:
      break;
  }
  return ne;
}

class Backend : public NodeBackend {
 public:
  Backend(std::unique_ptr<TrackerBpf> tracker, std::unique_ptr<SchedulerBpf> scheduler, std::string off_reason,
          const std::string& cgroup2_dir)
      : tracker_(std::move(tracker)),
        scheduler_(std::move(scheduler)),
        processes_(*tracker_, cgroup2_dir),
        scheduler_view_(scheduler_.get(), std::move(off_reason)),
        tracker_view_(*tracker_) {}

  PolicyMaps& policy_maps() override { return tracker_->policy_maps(); }
  const ProcessSource& processes() const override { return processes_; }
  const SchedulerView& scheduler() const override { return scheduler_view_; }
  const TrackerView& tracker() const override { return tracker_view_; }

  int poll(std::chrono::milliseconds timeout, const std::function<void(const NodeEvent&)>& on_event) override {
    if (scheduler_) {
      scheduler_->poll_events(0, [&](const gthulhu_sched_event& ev) {
        NodeEvent ne;
        ne.type = NodeEvent::Type::kSchedulerExit;
        ne.name = std::string(ev.exit.reason, strnlen(ev.exit.reason, sizeof ev.exit.reason));
        on_event(ne);
      });
    }
    return tracker_->poll(timeout, [&](const TrackerEvent& te) {
      if (te.type != TrackerEvent::Type::kUnknown) on_event(to_node_event(te));
    });
  }

 private:
  std::unique_ptr<TrackerBpf> tracker_;
  std::unique_ptr<SchedulerBpf> scheduler_;
  TrackerProcesses processes_;
  SchedulerAdapter scheduler_view_;
  TrackerAdapter tracker_view_;
};

std::unique_ptr<SchedulerBpf> open_scheduler(const AgentSettings& s, std::string* off_reason) {
  if (!s.scheduler_enabled) {
    *off_reason = "disabled in the configuration (scheduler.enabled = false)";
    return nullptr;
  }
  auto support = SchedulerBpf::support();
  // A gthulhu left running by a previous agent is not a reason to refuse: adopt it.
  if (!support.available && support.ops != "gthulhu") {
    *off_reason = support.reason;
    return nullptr;
  }
  SchedulerOptions o;
  o.pin_root = s.pin_root;
  o.slice_default_ns = s.slice_default_ns;
  o.slice_lag_ns = s.slice_lag_ns;
  o.timeout_ms = s.watchdog_timeout_ms;
  try {
    auto sched = std::make_unique<SchedulerBpf>(o);
    sched->attach();
    spdlog::info("agent: scheduler gthulhu {} (sched_ext state {})",
                 sched->adopted() ? "re-adopted from its pinned link" : "attached", SchedulerBpf::kernel_state());
    return sched;
  } catch (const SchedulerError& e) {
    *off_reason = e.what();
    return nullptr;
  }
}

}  // namespace

std::unique_ptr<NodeBackend> make_bpf_backend(const AgentSettings& settings, StartupPhases* phases) {
  if (auto why = TrackerBpf::unsupported_reason(); !why.empty()) {
    throw std::runtime_error("the BPF tracker cannot run here: " + why);
  }
  TrackerOptions to;
  to.pin_root = settings.pin_root;
  to.ring_buffer_bytes = settings.ring_buffer_kib * 1024u;
  to.proc_table_entries = settings.proc_table_entries;
  std::string error;
  auto tracker = TrackerBpf::open(to, &error);
  if (!tracker) throw std::runtime_error("loading the BPF tracker failed: " + error);
  if (auto e = tracker->start(); !e.empty()) throw std::runtime_error("starting the BPF tracker failed: " + e);
  if (phases) phases->mark(StartupPhases::Phase::kTrackerLoaded);
  std::string off_reason;
  auto scheduler = open_scheduler(settings, &off_reason);
  if (!scheduler) spdlog::warn("agent: scheduler off: {}", off_reason);
  else if (phases) phases->mark(StartupPhases::Phase::kSchedulerAttached);
  std::string cgroup2_dir = settings.cgroup_root;
  if (cgroup2_dir.empty()) {
    auto found = CgroupTree::find_cgroup2_mount();
    cgroup2_dir = found ? found->string() : "/sys/fs/cgroup";
  }
  return std::make_unique<Backend>(std::move(tracker), std::move(scheduler), off_reason, cgroup2_dir);
}

}  // namespace gthulhu::agent
