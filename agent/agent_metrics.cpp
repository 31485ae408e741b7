#include "agent/agent_metrics.h"

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/metrics/families.h"

namespace gthulhu::agent {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

using metrics::add_value;
using metrics::family;

class AgentCollector : public prometheus::Collectable {
 public:
  AgentCollector(const SchedulerView& s, const TrackerView& t, const PolicyEngine& e,
                 const MetricSetStore& m, std::string node, AgentTimings timings)
      : sched_(s), tracker_(t), engine_(e), metric_set_(m), node_(std::move(node)), timings_(timings) {}

  std::vector<MetricFamily> Collect() const override {
    std::vector<MetricFamily> out;
    scheduler_state(out);
    scheduler_counters(out);
    policy_stats(out);
    tracker_counters(out);
    intents(out);
    external_metric_set(out);
    agent_timings(out);
    return out;
  }

 private:
  void scheduler_state(std::vector<MetricFamily>& out) const {
    const auto st = sched_.status();
    auto up = family("gthulhu_scheduler_enabled", "1 when the gthulhu sched_ext scheduler is attached and enabled",
                     MetricType::Gauge);
    add_value(up, st.enabled ? 1 : 0, {{"state", st.state}});
    out.push_back(std::move(up));
    // One series per implemented cgroup callback: 1 where the kernel lacks it.
    if (st.state != "unsupported") {
      auto missing = family("gthulhu_scheduler_callback_missing",
                            "1 for each cgroup callback of the scheduler that the running kernel lacks",
                            MetricType::Gauge);
      for (const char* cb : {GTHULHU_CGROUP_CALLBACKS}) {
        bool absent = std::find(st.missing_callbacks.begin(), st.missing_callbacks.end(), cb) !=
                      st.missing_callbacks.end();
        add_value(missing, absent ? 1 : 0, {{"callback", cb}});
      }
      out.push_back(std::move(missing));
    }
    if (st.last_exit) {
      auto ex = family("gthulhu_scheduler_last_exit_info",
                       "The scheduler's last exit: kind and reason as labels (value 1)", MetricType::Gauge);
      add_value(ex, 1, {{"kind", std::to_string(st.last_exit->kind)}, {"reason", st.last_exit->reason}});
      out.push_back(std::move(ex));
    }
  }

  void scheduler_counters(std::vector<MetricFamily>& out) const {
    auto s = sched_.stats();
    if (!s) return;
    // Counters of our own scheduler; the seed's MetricSet names map onto these (README).
    const std::pair<const char*, std::pair<uint64_t, const char*>> rows[] = {
        {"gthulhu_scheduler_enqueues_total", {s->nr_enqueues, "ops.enqueue calls"}},
        {"gthulhu_scheduler_direct_dispatches_total", {s->nr_direct_dispatches, "wakeups sent straight to an idle CPU"}},
        {"gthulhu_scheduler_policy_dispatches_total", {s->nr_policy_dispatches, "dispatches of tasks under a policy"}},
        {"gthulhu_scheduler_default_dispatches_total", {s->nr_default_dispatches, "dispatches of tasks without a policy"}},
        {"gthulhu_scheduler_preemptions_total", {s->nr_preemptions, "wakeup preemptions by high-priority tasks"}},
        {"gthulhu_scheduler_bounces_total", {s->nr_bounces, "tasks moved to the shared queue after an affinity change"}},
        {"gthulhu_scheduler_failed_dispatches_total", {s->nr_failed_dispatches, "dispatch attempts that found nothing to move"}},
        {"gthulhu_scheduler_lag_clamps_total", {s->nr_lag_clamps, "wakeups whose banked credit was capped"}},
        {"gthulhu_scheduler_starvation_rescues_total",
         {s->nr_starvation_rescues, "tasks run out of vtime order because they waited past the starvation bound"}},
        {"gthulhu_scheduler_throttled_periods_total", {s->nr_throttled, "cgroup periods whose cpu.max quota ran out"}},
        {"gthulhu_scheduler_throttled_tasks_total", {s->nr_throttled_tasks, "tasks parked because a cgroup of theirs was throttled"}},
        {"gthulhu_scheduler_idle_preemptions_total", {s->nr_idle_preemptions, "CPUs taken from a cpu.idle task for a normal one"}},
        {"gthulhu_scheduler_idle_dispatches_total", {s->nr_idle_dispatches, "cpu.idle tasks run on a CPU with nothing else queued"}},
        {"gthulhu_scheduler_local_picks_total",
         {s->nr_local_picks, "tasks already on the dispatching CPU run within the lag bound instead of the shared queue's head"}},
        {"gthulhu_scheduler_remote_moves_total",
         {s->nr_remote_moves, "shared queue heads moved over from the CPU they last ran on"}},
    };
    for (const auto& [name, v] : rows) {
      auto f = family(name, v.second, MetricType::Counter);
      add_value(f, static_cast<double>(v.first));
      out.push_back(std::move(f));
    }
    auto running = family("gthulhu_scheduler_running_tasks", "tasks on a CPU now", MetricType::Gauge);
    add_value(running, static_cast<double>(s->nr_running));
    out.push_back(std::move(running));
  }

  void policy_stats(std::vector<MetricFamily>& out) const {
    const auto stats = sched_.policy_stats();
    if (stats.empty()) return;
    const auto owners = engine_.policy_owners();
    auto cpu = family("gthulhu_pod_cpu_seconds_total", "CPU time of the pod's policied tasks", MetricType::Counter);
    auto runs = family("gthulhu_pod_runs_total", "times the pod's policied tasks started running", MetricType::Counter);
    auto first = family("gthulhu_pod_first_enqueue_policy_total",
                        "tasks whose first enqueue already ran under the policy (no user-space step)",
                        MetricType::Counter);
    auto throttled = family("gthulhu_pod_throttled_periods_total",
                            "cpu.max periods in which the pod's cgroup ran out of quota", MetricType::Counter);
    auto throttled_s = family("gthulhu_pod_throttled_seconds_total",
                              "time the pod's cgroup spent throttled by cpu.max", MetricType::Counter);
    auto wait = family("gthulhu_pod_runqueue_wait_seconds",
                       "runnable-to-running wait of the pod's policied tasks", MetricType::Histogram);
    for (const auto& [id, st] : stats) {
      auto it = owners.find(id);
      if (it == owners.end()) continue;  // a policy being retired
      std::vector<ClientMetric::Label> labels = {{"pod_uid", it->second.pod_uid},
                                                 {"pod", it->second.pod_name},
                                                 {"namespace", it->second.pod_namespace},
                                                 {"intent", it->second.intent_id}};
      add_value(cpu, static_cast<double>(st.cpu_time_ns) / 1e9, labels);
      add_value(runs, static_cast<double>(st.run_count), labels);
      add_value(first, static_cast<double>(st.first_enqueues), labels);
      add_value(throttled, static_cast<double>(st.nr_throttled), labels);
      add_value(throttled_s, static_cast<double>(st.throttled_time_ns) / 1e9, labels);
      ClientMetric h;
      h.label = labels;
      uint64_t cumulative = 0;
      for (int b = 0; b < GTHULHU_WAIT_HIST_BUCKETS; ++b) {
        cumulative += st.wait_hist[b];
        ClientMetric::Bucket bucket;
        bucket.cumulative_count = cumulative;
        // Bucket b holds waits below 2^(b+10) ns; the last one is open-ended.
        bucket.upper_bound = b + 1 == GTHULHU_WAIT_HIST_BUCKETS ? INFINITY : std::ldexp(1.0, b + 10) / 1e9;
        h.histogram.bucket.push_back(bucket);
      }
      h.histogram.sample_count = cumulative;
      h.histogram.sample_sum = static_cast<double>(st.wait_time_ns) / 1e9;
      wait.metric.push_back(std::move(h));
    }
    out.push_back(std::move(cpu));
    out.push_back(std::move(runs));
    out.push_back(std::move(first));
    out.push_back(std::move(throttled));
    out.push_back(std::move(throttled_s));
    out.push_back(std::move(wait));
  }

  void tracker_counters(std::vector<MetricFamily>& out) const {
    const auto ts = tracker_.status();
    auto up = family("gthulhu_tracker_running", "1 when the BPF cgroup/process tracker is attached", MetricType::Gauge);
    add_value(up, ts.running ? 1 : 0);
    out.push_back(std::move(up));
    if (!ts.running) return;
    const auto s = tracker_.stats();
    auto ev = family("gthulhu_tracker_events_total", "kernel events seen by the tracker, by kind", MetricType::Counter);
    add_value(ev, static_cast<double>(s.forks), {{"kind", "fork"}});
    add_value(ev, static_cast<double>(s.execs), {{"kind", "exec"}});
    add_value(ev, static_cast<double>(s.exits), {{"kind", "exit"}});
    add_value(ev, static_cast<double>(s.cgroup_mkdirs), {{"kind", "cgroup_mkdir"}});
    add_value(ev, static_cast<double>(s.cgroup_rmdirs), {{"kind", "cgroup_rmdir"}});
    out.push_back(std::move(ev));
    auto lost = family("gthulhu_tracker_lost_events_total",
                       "events or table updates the tracker could not record, by reason", MetricType::Counter);
    add_value(lost, static_cast<double>(s.events_lost), {{"reason", "ring_buffer_full"}});
    add_value(lost, static_cast<double>(s.proc_table_full), {{"reason", "proc_table_full"}});
    out.push_back(std::move(lost));
    auto inh = family("gthulhu_tracker_policies_inherited_total",
                      "cgroups that received their parent's policy in the kernel at mkdir", MetricType::Counter);
    add_value(inh, static_cast<double>(s.policies_inherited));
    out.push_back(std::move(inh));
  }

  void intents(std::vector<MetricFamily>& out) const {
    size_t by_state[3] = {0, 0, 0};
    for (const auto& r : engine_.results()) ++by_state[static_cast<int>(r.state)];
    auto f = family("gthulhu_intents", "intents on this node by state", MetricType::Gauge);
    for (auto s : {IntentState::kApplied, IntentState::kWaiting, IntentState::kInvalid}) {
      add_value(f, static_cast<double>(by_state[static_cast<int>(s)]), {{"state", to_string(s)}});
    }
    out.push_back(std::move(f));
  }

  void external_metric_set(std::vector<MetricFamily>& out) const {
    auto sample = metric_set_.latest();
    if (!sample) return;
    for (size_t i = 0; i < kMetricSetFields.size(); ++i) {
      auto f = family(std::string("gthulhu_metricset_") + kMetricSetFields[i],
                      std::string("seed MetricSet field ") + kMetricSetFields[i] +
                          " as last pushed by an external scheduler (POST /api/v1/metrics)",
                      MetricType::Gauge);
      add_value(f, static_cast<double>(sample->values[i]), {{"node", node_}});
      out.push_back(std::move(f));
    }
  }

  void agent_timings(std::vector<MetricFamily>& out) const {
    if (timings_.exec_to_override) {
      const auto snap = timings_.exec_to_override->snapshot();
      auto h = family("gthulhu_agent_exec_to_override_seconds",
                      "commandRegex matches: from the kernel's exec timestamp to the process's override being in "
                      "policy_by_tgid",
                      MetricType::Histogram);
      ClientMetric m;
      for (size_t i = 0; i < ExecLatency::kBounds.size(); ++i) {
        ClientMetric::Bucket b;
        b.upper_bound = ExecLatency::kBounds[i];
        b.cumulative_count = snap.cumulative[i];
        m.histogram.bucket.push_back(b);
      }
      ClientMetric::Bucket inf;
      inf.upper_bound = std::numeric_limits<double>::infinity();
      inf.cumulative_count = snap.count;
      m.histogram.bucket.push_back(inf);
      m.histogram.sample_count = snap.count;
      m.histogram.sample_sum = snap.sum_seconds;
      h.metric.push_back(std::move(m));
      out.push_back(std::move(h));
    }
    if (timings_.startup) {
      auto g = family("gthulhu_agent_startup_phase_seconds",
                      "when the agent reached each start-up step, in seconds since the process started",
                      MetricType::Gauge);
      for (const auto& [name, seconds] : timings_.startup->reached()) add_value(g, seconds, {{"phase", name}});
      out.push_back(std::move(g));
    }
  }

  const SchedulerView& sched_;
  const TrackerView& tracker_;
  const PolicyEngine& engine_;
  const MetricSetStore& metric_set_;
  std::string node_;
  AgentTimings timings_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> make_agent_collector(const SchedulerView& scheduler,
                                                              const TrackerView& tracker,
                                                              const PolicyEngine& engine,
                                                              const MetricSetStore& metric_set,
                                                              std::string node_name,
                                                              AgentTimings timings) {
  return std::make_shared<AgentCollector>(scheduler, tracker, engine, metric_set, std::move(node_name), timings);
}

}  // namespace gthulhu::agent
