// VM test: the Kubernetes CPU contract under gthulhu, each setup measured under EEVDF
// (the kernel's fair class, scheduler detached) and then under gthulhu in the same VM,
// figures printed side by side. CPU time per cgroup comes from the kernel's cgroup
// accounting (cpu.stat usage_usec) over a window after a warm-up; placement and
// wakeup latency from tracing probes that see both schedulers alike.
//   weights      siblings with cpu.weight 100 and 300: ratio 3.0 +-10%; the same one
//                level deeper (parent next to an equal-weight sibling: 1.0 between them)
//   limits       cpu.max "50000 100000": 0.5 CPU +-10% over 5 s; a parent at 0.5 with
//                a child at "20000 100000": the child 0.2 +-10%, the parent 0.5 +-10%;
//                throttled periods exported per policy and in total
//   idle         cpu.idle=1 next to a normal cgroup: < 5% of what they use together;
//                alone: > 90% of every CPU
//   cpuset       tasks confined by cpuset.cpus or sched_setaffinity never start a run
//                outside their CPUs, and the CPU reserved for one cgroup sees no run of
//                the others (every run counted by a sched_switch probe)
//   composition  priority 5 on one of two equal-weight pods: ratio 3125/1024 +-10%
//                (README rule), their parent keeps its share against its equal-weight
//                sibling (+-15%); a priority-20 pod with cpu.max 0.5 stays at 0.5 +-10%
//                (never above +10%)
//   node mix     Guaranteed latency-sensitive pod (priority 10, 2 CPUs), a
//                Burstable hog, a BestEffort batch pod, kubelet-style weights: the
//                sensitive pod's work (bursts of a fixed amount of computation) and p99
//                wakeup latency, the hog's and batch's shares; per gthulhu round the
//                scheduler's counters over the window, the pod's CPU per burst, and each
//                struct_ops program's calls and mean run time (kernel.bpf_stats_enabled)
// Cgroups of the first setup exist before the scheduler attaches (ops.cgroup_init
// picks their weights up); all others are created and configured while it runs
// (cgroup_init, set_weight, set_bandwidth, set_idle).
//   vm_sched_cgroup [weights|mix] [MEASURE_SECONDS]   (default 3; limits always use 5 s)
//   "weights" runs the weight setups only (the second kernel's boot), "mix" the node
//   mix only (a quick look at it while working on the scheduler).
#include <bpf/bpf.h>
#include <unistd.h>

#include <cmath>
#include <memory>
#include <string>

#include "tests/vm/sched_vm_util.h"
#include "vm_cpu_placement.skel.h"
#include "vm_wakeup_latency.skel.h"

using namespace gthulhu;
using namespace gthulhu::vmtest;
using agent::SchedulerBpf;

namespace {

constexpr uint32_t kLimitId = 71, kLimitChildId = 72, kPrio5Id = 73, kPrio20Id = 74,
                   kSensitiveId = 75;
constexpr int kPlacementCpus = 64;

int g_ncpu = 1;
double g_measure = 3.0;
uint64_t g_burst_iterations = 0;  // spin iterations of 1500 us of undisturbed CPU time

// The scheduler of one pass: none (EEVDF) or gthulhu with its policy map.
struct Pass {
  const char* name = "";
  SchedulerBpf* sched = nullptr;
  std::unique_ptr<PolicyMap> policies;
  bool gthulhu() const { return sched != nullptr; }
  void policy(Checker& c, const Cgroup& cg, uint32_t id, int prio) {
    if (!policies) return;
    c.check(policies->set(cg.id(), make_policy(id, prio)), "%s: policy %u (priority %d) on %s",
            name, id, prio, cg.path().c_str());
  }
};

struct Load {
  const Cgroup* cg;
  std::vector<std::string> args;  // worker mode and its arguments before START_S
  std::string out;                // report file ("" = none)
};

// Starts every load at the same instant, samples the cgroups' CPU time over
// [start + warmup, start + warmup + measure], waits for the workers. CPU seconds
// per sampled cgroup, in order; *window gets the sampled window's length.
std::vector<double> run_loads(Checker& c, const char* what, const std::vector<Load>& loads,
                              const std::vector<const Cgroup*>& sample, double warmup,
                              double measure, double* window,
                              const std::function<void()>& at_start = nullptr,
                              const std::function<void()>& at_end = nullptr) {
  double start = now_s() + 0.3;
  double run = warmup + measure + 0.3;
  std::vector<pid_t> pids;
  for (const auto& l : loads) {
    std::vector<std::string> a = l.args;
    a.push_back(std::to_string(start));
    a.push_back(std::to_string(run));
    if (a[0] == "burst") {  // burst takes BURST_US SLEEP_US after SECONDS
      a.push_back("1500");
      a.push_back("2500");
    } else if (a[0] == "burstwork") {  // the same, 1500 us of work by iterations
      a.push_back(std::to_string(g_burst_iterations));
      a.push_back("2500");
    }
    a.push_back(l.out);
    pids.push_back(spawn_worker(*l.cg, a));
  }
  ::usleep(static_cast<useconds_t>(std::max(0.0, start + warmup - now_s()) * 1e6));
  if (at_start) at_start();
  std::vector<uint64_t> before;
  for (const auto* cg : sample) before.push_back(cg->usage_usec());
  double t0 = now_s();
  ::usleep(static_cast<useconds_t>(measure * 1e6));
  std::vector<double> used;
  for (size_t i = 0; i < sample.size(); i++)
    used.push_back((sample[i]->usage_usec() - before[i]) / 1e6);
  *window = now_s() - t0;
  if (at_end) at_end();
  bool ok = true;
  for (pid_t pid : pids) ok = pid > 0 && wait_worker(pid) == 0 && ok;
  c.check(ok, "%s: %zu worker groups ran to the end", what, loads.size());
  return used;
}

std::vector<std::string> spin(int threads) { return {"spin", std::to_string(threads)}; }

// ---- weights ---------------------------------------------------------------------

struct WeightFigures {
  double flat = 0, nested = 0, parent_vs_sibling = 0;
};

WeightFigures measure_weights(Checker& c, Pass& pass, const Cgroup& w100, const Cgroup& w300) {
  WeightFigures f;
  double window;
  auto u = run_loads(c, "weights flat", {{&w100, spin(g_ncpu), ""}, {&w300, spin(g_ncpu), ""}},
                     {&w100, &w300}, 1.0, g_measure, &window);
  f.flat = u[0] > 0 ? u[1] / u[0] : 0;
  c.info("%s: flat cpu.weight 100 vs 300: %.2f vs %.2f CPU-s in %.2f s, ratio %.3f", pass.name,
         u[0], u[1], window, f.flat);

  // One level deeper, next to an equal-weight sibling of the parent.
  Cgroup sibling("gthulhu-cg-sibling"), parent("gthulhu-cg-parent");
  if (!c.check(sibling.ok() && parent.ok() && enable_controllers("gthulhu-cg-parent", "+cpu"),
               "%s: nested cgroups", pass.name))
    return f;
  Cgroup n100("gthulhu-cg-parent/w100"), n300("gthulhu-cg-parent/w300");
  c.check(n100.set("cpu.weight", "100") && n300.set("cpu.weight", "300") &&
              parent.set("cpu.weight", "100") && sibling.set("cpu.weight", "100"),
          "%s: nested weights set", pass.name);
  u = run_loads(c, "weights nested",
                {{&sibling, spin(g_ncpu), ""}, {&n100, spin(g_ncpu), ""}, {&n300, spin(g_ncpu), ""}},
                {&n100, &n300, &parent, &sibling}, 0.5, g_measure, &window);
  f.nested = u[0] > 0 ? u[1] / u[0] : 0;
  f.parent_vs_sibling = u[3] > 0 ? u[2] / u[3] : 0;
  c.info("%s: nested 100 vs 300: %.2f vs %.2f CPU-s, ratio %.3f; parent %.2f vs its sibling "
         "%.2f CPU-s, ratio %.3f",
         pass.name, u[0], u[1], f.nested, u[2], u[3], f.parent_vs_sibling);
  return f;
}

// ---- limits ----------------------------------------------------------------------

struct LimitFigures {
  double flat_cpu = 0, parent_cpu = 0, child_cpu = 0;
  uint64_t flat_throttled = 0, child_throttled = 0, total_throttled = 0;
  double periods = 0;
};

LimitFigures measure_limits(Checker& c, Pass& pass) {
  LimitFigures f;
  Cgroup flat("gthulhu-cg-limit"), parent("gthulhu-cg-limit-parent");
  if (!c.check(flat.ok() && parent.ok() && enable_controllers("gthulhu-cg-limit-parent", "+cpu"),
               "%s: limit cgroups", pass.name))
    return f;
  Cgroup tight("gthulhu-cg-limit-parent/tight"), loose("gthulhu-cg-limit-parent/loose");
  // The tight child far outweighs its sibling, so its own limit (not its share of the
  // parent's quota) is what holds it back: the parent's 50 ms are used up within about
  // three ticks on 4 CPUs, and in so few slices a 3:1 weight split is still coarse.
  c.check(flat.set("cpu.max", "50000 100000") && parent.set("cpu.max", "50000 100000") &&
              tight.set("cpu.max", "20000 100000") && tight.set("cpu.weight", "1000"),
          "%s: cpu.max 0.5 CPU (flat, parent), 0.2 CPU (child at cpu.weight 1000)", pass.name);
  pass.policy(c, flat, kLimitId, 0);
  pass.policy(c, tight, kLimitChildId, 0);

  gthulhu_policy_stats pf0{}, pt0{};
  gthulhu_sched_stats ss0{};
  uint64_t eflat0 = 0, etight0 = 0;
  auto at_start = [&] {
    if (pass.gthulhu()) {
      pf0 = pass.sched->policy_stats(kLimitId);
      pt0 = pass.sched->policy_stats(kLimitChildId);
      ss0 = pass.sched->sched_stats();
    }
    eflat0 = flat.cpu_stat("nr_throttled");
    etight0 = tight.cpu_stat("nr_throttled");
  };
  auto at_end = [&] {
    if (pass.gthulhu()) {
      f.flat_throttled = pass.sched->policy_stats(kLimitId).nr_throttled - pf0.nr_throttled;
      f.child_throttled = pass.sched->policy_stats(kLimitChildId).nr_throttled - pt0.nr_throttled;
      f.total_throttled = pass.sched->sched_stats().nr_throttled - ss0.nr_throttled;
    } else {
      // The kernel's own counters (EEVDF's bandwidth control).
      f.flat_throttled = flat.cpu_stat("nr_throttled") - eflat0;
      f.child_throttled = tight.cpu_stat("nr_throttled") - etight0;
      f.total_throttled = f.flat_throttled + f.child_throttled;
    }
  };
  double window;
  auto u = run_loads(c, "limits",
                     {{&flat, spin(g_ncpu), ""}, {&tight, spin(g_ncpu), ""}, {&loose, spin(g_ncpu), ""}},
                     {&flat, &parent, &tight}, 0.5, 5.0, &window, at_start, at_end);
  if (pass.gthulhu()) {
    // The scheduler's own view of each limited cgroup (read from its cgroup storage).
    for (const Cgroup* cg : {&flat, &parent, &tight}) {
      auto st = pass.sched->cgroup_state(cg->path());
      if (!c.check(st.has_value(), "%s: scheduler state of %s", pass.name, cg->path().c_str()))
        continue;
      c.info("%s: %s: weight %u quota %llu us / period %llu us, throttled %llu periods for "
             "%.0f ms", pass.name, cg->path().c_str(), st->weight,
             (unsigned long long)st->quota_ns / 1000, (unsigned long long)st->period_ns / 1000,
             (unsigned long long)st->nr_throttled, st->throttled_time_ns / 1e6);
    }
  }
  f.flat_cpu = u[0] / window;
  f.parent_cpu = u[1] / window;
  f.child_cpu = u[2] / window;
  f.periods = window / 0.1;
  c.info("%s: cpu.max 0.5: %.3f CPU; nested parent 0.5: %.3f CPU, child 0.2: %.3f CPU (%.2f s); "
         "throttled periods: flat %llu, child %llu, total %llu (of %.0f periods)",
         pass.name, f.flat_cpu, f.parent_cpu, f.child_cpu, window,
         (unsigned long long)f.flat_throttled, (unsigned long long)f.child_throttled,
         (unsigned long long)f.total_throttled, f.periods);
  return f;
}

// ---- idle ------------------------------------------------------------------------

struct IdleFigures {
  double shared = 0, alone = 0;
};

IdleFigures measure_idle(Checker& c, Pass& pass) {
  IdleFigures f;
  Cgroup idle("gthulhu-cg-idle"), normal("gthulhu-cg-normal");
  if (!c.check(idle.ok() && normal.ok() && idle.set("cpu.idle", "1"), "%s: cpu.idle cgroup",
               pass.name))
    return f;
  double window;
  auto u = run_loads(c, "idle shared", {{&idle, spin(g_ncpu), ""}, {&normal, spin(g_ncpu), ""}},
                     {&idle, &normal}, 0.5, g_measure, &window);
  f.shared = (u[0] + u[1]) > 0 ? u[0] / (u[0] + u[1]) : 1;
  auto a = run_loads(c, "idle alone", {{&idle, spin(g_ncpu), ""}}, {&idle}, 0.3, 2.0, &window);
  f.alone = a[0] / (window * g_ncpu);
  c.info("%s: cpu.idle next to a normal cgroup: %.2f vs %.2f CPU-s, idle share %.2f%%; alone: "
         "%.1f%% of %d CPUs",
         pass.name, u[0], u[1], f.shared * 100, f.alone * 100, g_ncpu);
  return f;
}

// ---- cpusets and affinity ---------------------------------------------------------

struct CpusetFigures {
  uint64_t reserved_runs = 0, reserved_outside = 0;  // cgroup with the reserved CPU
  uint64_t pool_runs = 0, pool_on_reserved = 0;      // shared pool cgroup
  uint64_t pinned_runs = 0, pinned_outside = 0;      // sched_setaffinity to CPU 0
  bool ok = false;
};

CpusetFigures measure_cpusets(Checker& c, Pass& pass) {
  CpusetFigures f;
  int reserved = g_ncpu - 1;
  Cgroup excl("gthulhu-cg-reserved"), pool("gthulhu-cg-pool"), pinned("gthulhu-cg-pinned");
  std::string pool_cpus = "0-" + std::to_string(reserved - 1);
  if (!c.check(excl.ok() && pool.ok() && pinned.ok() &&
                   excl.set("cpuset.cpus", std::to_string(reserved)) &&
                   pool.set("cpuset.cpus", pool_cpus),
               "%s: cpusets: reserved CPU %d, pool %s", pass.name, reserved, pool_cpus.c_str()))
    return f;
  auto* probe = vm_cpu_placement_bpf__open_and_load();
  if (!c.check(probe && vm_cpu_placement_bpf__attach(probe) == 0,
               "%s: placement probe attached (sched_switch)", pass.name)) {
    if (probe) vm_cpu_placement_bpf__destroy(probe);
    return f;
  }
  // Counted from the start of the window: before it, the workers' processes start up
  // (exec, affinity calls) wherever the kernel puts them.
  auto at_start = [&] {
    probe->bss->slot_cgroup[0] = excl.id();
    probe->bss->slot_cgroup[1] = pool.id();
    probe->bss->slot_cgroup[2] = pinned.id();
  };
  auto at_end = [&] {
    for (auto& s : probe->bss->slot_cgroup) s = 0;
  };
  double window;
  run_loads(c, "cpusets",
            {{&excl, spin(2), ""}, {&pool, spin(g_ncpu), ""},
             {&pinned, {"pinspin", "0", "2"}, ""}},
            {}, 0.3, 2.0, &window, at_start, at_end);
  int fd = bpf_map__fd(probe->maps.runs);
  auto runs = [&](uint32_t slot, int cpu) {
    uint64_t v = 0;
    uint32_t key = slot * kPlacementCpus + cpu;
    bpf_map_lookup_elem(fd, &key, &v);
    return v;
  };
  for (int cpu = 0; cpu < g_ncpu && cpu < kPlacementCpus; cpu++) {
    f.reserved_runs += runs(0, cpu);
    if (cpu != reserved) f.reserved_outside += runs(0, cpu);
    f.pool_runs += runs(1, cpu);
    if (cpu == reserved) f.pool_on_reserved += runs(1, cpu);
    f.pinned_runs += runs(2, cpu);
    if (cpu != 0) f.pinned_outside += runs(2, cpu);
  }
  f.ok = probe->bss->runs_beyond == 0;
  vm_cpu_placement_bpf__destroy(probe);
  c.info("%s: runs: reserved cgroup %llu (%llu outside CPU %d), pool %llu (%llu on CPU %d), "
         "affinity-pinned %llu (%llu outside CPU 0)",
         pass.name, (unsigned long long)f.reserved_runs, (unsigned long long)f.reserved_outside,
         reserved, (unsigned long long)f.pool_runs, (unsigned long long)f.pool_on_reserved, reserved,
         (unsigned long long)f.pinned_runs, (unsigned long long)f.pinned_outside);
  return f;
}

// ---- composition -------------------------------------------------------------------

struct CompositionFigures {
  double prio_ratio = 0, parent_vs_sibling = 0, limited_cpu = 0;
};

CompositionFigures measure_composition(Checker& c, Pass& pass) {
  CompositionFigures f;
  // qos/{pod-a: priority 5, pod-b}, qos-sibling/pod-busy: the two slices have equal
  // weights, whatever the strategy does inside one of them.
  Cgroup parent("gthulhu-cg-qos"), sibling("gthulhu-cg-qos-sibling");
  if (!c.check(parent.ok() && sibling.ok() && enable_controllers("gthulhu-cg-qos", "+cpu") &&
                   enable_controllers("gthulhu-cg-qos-sibling", "+cpu"),
               "%s: composition cgroups", pass.name))
    return f;
  Cgroup boosted("gthulhu-cg-qos/pod-a"), plain("gthulhu-cg-qos/pod-b");
  Cgroup busy("gthulhu-cg-qos-sibling/pod-busy");
  c.check(boosted.set("cpu.weight", "100") && plain.set("cpu.weight", "100"),
          "%s: two pods at cpu.weight 100", pass.name);
  pass.policy(c, boosted, kPrio5Id, 5);
  double window;
  auto u = run_loads(c, "composition",
                     {{&boosted, spin(g_ncpu), ""}, {&plain, spin(g_ncpu), ""},
                      {&busy, spin(g_ncpu), ""}},
                     {&boosted, &plain, &parent, &sibling}, 0.5, g_measure, &window);
  f.prio_ratio = u[1] > 0 ? u[0] / u[1] : 0;
  f.parent_vs_sibling = u[3] > 0 ? u[2] / u[3] : 0;
  c.info("%s: priority-5 pod %.2f vs plain pod %.2f CPU-s: ratio %.3f; their parent %.2f vs "
         "its equal-weight sibling %.2f CPU-s: %.3f",
         pass.name, u[0], u[1], f.prio_ratio, u[2], u[3], f.parent_vs_sibling);

  // A priority-20 pod under cpu.max 0.5 next to a busy pod of default weight: the
  // strategy would give it nearly every CPU, the limit holds it at 0.5.
  Cgroup limited("gthulhu-cg-pod-limited"), neighbour("gthulhu-cg-pod-neighbour");
  c.check(limited.ok() && neighbour.ok() && limited.set("cpu.max", "50000 100000"),
          "%s: a pod with cpu.max 0.5 CPU and a neighbour", pass.name);
  pass.policy(c, limited, kPrio20Id, 20);
  u = run_loads(c, "composition limit",
                {{&limited, spin(g_ncpu), ""}, {&neighbour, spin(g_ncpu), ""}},
                {&limited, &neighbour}, 0.5, g_measure, &window);
  f.limited_cpu = u[0] / window;
  c.info("%s: priority-20 pod under cpu.max 0.5: %.3f CPU (neighbour %.3f CPU)", pass.name,
         f.limited_cpu, u[1] / window);
  return f;
}

// ---- node-like mix -------------------------------------------------------------------

struct MixFigures {
  uint64_t sens_work = 0;
  double sens_p50 = 0, sens_p99 = 0, sens_cpu = 0, hog_cpu = 0, batch_cpu = 0;
  double window_cpus = 0;  // CPU-seconds the rounds' windows offered
};

constexpr int kMixRounds = 2;

// kubelet-style: kubepods/pod (Guaranteed), kubepods/burstable/pod,
// kubepods/besteffort/pod; weights from requests (1 CPU -> 39, 2 -> 79), BestEffort 1.
struct MixCgroups {
  Cgroup kubepods{"gthulhu-kubepods"};
  bool controllers = enable_controllers("gthulhu-kubepods", "+cpu");
  Cgroup burstable{"gthulhu-kubepods/burstable"}, besteffort{"gthulhu-kubepods/besteffort"};
  bool controllers2 = enable_controllers("gthulhu-kubepods/burstable", "+cpu") &&
                      enable_controllers("gthulhu-kubepods/besteffort", "+cpu");
  Cgroup sens{"gthulhu-kubepods/pod-sensitive"}, hog{"gthulhu-kubepods/burstable/pod-hog"},
      batch{"gthulhu-kubepods/besteffort/pod-batch"};
  bool ok() const { return kubepods.ok() && controllers && controllers2 && sens.ok(); }
};

gthulhu_sched_stats stats_delta(const gthulhu_sched_stats& a, const gthulhu_sched_stats& b) {
  gthulhu_sched_stats d = a;
  d.nr_enqueues -= b.nr_enqueues;
  d.nr_direct_dispatches -= b.nr_direct_dispatches;
  d.nr_policy_dispatches -= b.nr_policy_dispatches;
  d.nr_default_dispatches -= b.nr_default_dispatches;
  d.nr_preemptions -= b.nr_preemptions;
  d.nr_bounces -= b.nr_bounces;
  d.nr_failed_dispatches -= b.nr_failed_dispatches;
  d.nr_lag_clamps -= b.nr_lag_clamps;
  d.nr_starvation_rescues -= b.nr_starvation_rescues;
  d.nr_throttled -= b.nr_throttled;
  d.nr_throttled_tasks -= b.nr_throttled_tasks;
  d.nr_local_picks -= b.nr_local_picks;
  d.nr_remote_moves -= b.nr_remote_moves;
  return d;
}

gthulhu_policy_stats policy_delta(const gthulhu_policy_stats& a, const gthulhu_policy_stats& b) {
  gthulhu_policy_stats d = a;
  d.cpu_time_ns -= b.cpu_time_ns;
  d.run_count -= b.run_count;
  d.wait_time_ns -= b.wait_time_ns;
  d.first_enqueues -= b.first_enqueues;
  for (int i = 0; i < GTHULHU_WAIT_HIST_BUCKETS; i++) d.wait_hist[i] -= b.wait_hist[i];
  d.nr_throttled -= b.nr_throttled;
  d.throttled_time_ns -= b.throttled_time_ns;
  return d;
}

// One round of the mix under `pass`; figures are added to `f`.
void mix_round(Checker& c, Pass& pass, MixCgroups& m, MixFigures* f,
               std::vector<double>* latencies) {
  pass.policy(c, m.sens, kSensitiveId, 10);
  auto* probe = vm_wakeup_latency_bpf__open_and_load();
  if (!c.check(probe && vm_wakeup_latency_bpf__attach(probe) == 0,
               "%s: wakeup-to-run probe attached", pass.name)) {
    if (probe) vm_wakeup_latency_bpf__destroy(probe);
    return;
  }
  // The scheduler's own counters over the window (the maps outlive one attach, so
  // deltas), printed with the figures: what the sensitive pod's wakeups went through.
  gthulhu_sched_stats ss0{}, ss1{};
  gthulhu_policy_stats ps0{}, ps1{};
  // The kernel's run-time accounting of our struct_ops programs over the window
  // (what each callback costs in this machine), on for the gthulhu rounds only.
  std::vector<ProgRunStats> prog0, prog1;
  bool prog_stats = false;
  auto at_start = [&] {
    probe->bss->nr_samples = 0;
    probe->bss->target_cgroup = m.sens.id();
    if (pass.gthulhu()) {
      prog_stats = set_bpf_stats(true);
      prog0 = prog_run_stats("gthulhu_");
      ss0 = pass.sched->sched_stats();
      ps0 = pass.sched->policy_stats(kSensitiveId);
    }
  };
  auto at_end = [&] {
    probe->bss->target_cgroup = 0;
    if (pass.gthulhu()) {
      ss1 = pass.sched->sched_stats();
      ps1 = pass.sched->policy_stats(kSensitiveId);
      prog1 = prog_run_stats("gthulhu_");
      if (prog_stats) set_bpf_stats(false);
    }
  };
  double window;
  auto u = run_loads(c, "node mix",
                     {{&m.sens, {"burstwork", "2"}, "/tmp/mix-sens.txt"},
                      {&m.hog, spin(2 * g_ncpu), ""},
                      {&m.batch, spin(g_ncpu), ""}},
                     {&m.sens, &m.hog, &m.batch}, 0.5, g_measure, &window, at_start, at_end);
  std::vector<double> lat;
  uint32_t n = std::min(probe->bss->nr_samples, bpf_map__max_entries(probe->maps.samples));
  int fd = bpf_map__fd(probe->maps.samples);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t ns = 0;
    if (bpf_map_lookup_elem(fd, &i, &ns) == 0) lat.push_back(ns / 1e3);
  }
  vm_wakeup_latency_bpf__destroy(probe);
  WorkerReport rep = read_report("/tmp/mix-sens.txt");
  uint64_t work = rep.work;
  double late_sum = 0;
  for (double v : rep.latencies_us) late_sum += v;
  // How late the sleepers ran against the time they asked for: timer delivery of the
  // emulated machine plus the wakeup-to-run time (information only).
  c.info("%s round: sleepers ran late p50 %.0f us, mean %.0f us (%zu sleeps); CPU per burst "
         "user %.0f us, system %.0f us", pass.name, percentile(rep.latencies_us, 50),
         rep.latencies_us.empty() ? 0.0 : late_sum / rep.latencies_us.size(),
         rep.latencies_us.size(), work ? rep.utime_us / work : 0.0,
         work ? rep.stime_us / work : 0.0);
  double cpus = window * g_ncpu;
  c.info("%s round: sensitive %llu bursts, wakeup-to-run p50 %.0f us p99 %.0f us (%zu wakeups); "
         "shares of %d CPUs: sensitive %.1f%%, hog %.1f%%, batch %.1f%%",
         pass.name, (unsigned long long)work, percentile(lat, 50), percentile(lat, 99), lat.size(),
         g_ncpu, u[0] / cpus * 100, u[1] / cpus * 100, u[2] / cpus * 100);
  if (pass.gthulhu()) {
    print_sched_stats(c.name() + " node mix window", stats_delta(ss1, ss0));
    print_policy_stats(c.name() + " node mix window", kSensitiveId, policy_delta(ps1, ps0));
    if (prog_stats) print_prog_run_stats(c.name() + " node mix window", prog0, prog1, cpus);
  }
  f->sens_work += work;
  f->sens_cpu += u[0];
  f->hog_cpu += u[1];
  f->batch_cpu += u[2];
  f->window_cpus += cpus;
  latencies->insert(latencies->end(), lat.begin(), lat.end());
}

// Rounds alternate EEVDF and gthulhu, so drift of the emulated machine (the host's
// load changes) hits both alike; figures are summed over the rounds.
void measure_mix(Checker& c, const agent::SchedulerOptions& opts, MixFigures* e, MixFigures* g) {
  MixCgroups m;
  if (!c.check(m.ok() && m.sens.set("cpu.weight", "79") && m.sens.set("cpu.max", "200000 100000") &&
                   m.burstable.set("cpu.weight", "39") && m.hog.set("cpu.weight", "39") &&
                   m.besteffort.set("cpu.weight", "1") && m.batch.set("cpu.weight", "1"),
               "node mix: Guaranteed pod (2 CPUs: weight 79, cpu.max 2 CPUs), Burstable hog "
               "(39), BestEffort batch (1)"))
    return;
  // The sensitive pod's unit of work is a fixed amount of computation (what a request
  // costs), measured here on the idle VM, not an amount of thread CPU time: in the
  // emulator (single-threaded TCG runs one vCPU at a time) a task that is on a vCPU
  // while the emulator runs the others is charged CPU time without executing, so
  // CPU-time bursts counted "work" that was never done, and more of it for whichever
  // scheduler happened to leave the task on its CPU when the emulator switched vCPUs.
  g_burst_iterations = spin_iterations_for(1500);
  c.info("node mix: a burst is %llu spin iterations (1500 us of CPU on the idle VM)",
         (unsigned long long)g_burst_iterations);
  std::vector<double> elat, glat;
  for (int r = 0; r < kMixRounds; r++) {
    Pass eevdf;
    eevdf.name = "EEVDF";
    mix_round(c, eevdf, m, e, &elat);
    SchedulerBpf sched(opts);
    sched.attach();
    Pass pass;
    pass.name = "gthulhu";
    pass.sched = &sched;
    pass.policies = std::make_unique<PolicyMap>(sched.pin_path("policy_by_cgroup"));
    mix_round(c, pass, m, g, &glat);
    sched.detach();
  }
  for (auto* f : {e, g}) {
    f->sens_cpu /= f->window_cpus;
    f->hog_cpu /= f->window_cpus;
    f->batch_cpu /= f->window_cpus;
  }
  e->sens_p50 = percentile(elat, 50);
  e->sens_p99 = percentile(elat, 99);
  g->sens_p50 = percentile(glat, 50);
  g->sens_p99 = percentile(glat, 99);
}

struct AllFigures {
  WeightFigures w;
  LimitFigures l;
  IdleFigures i;
  CpusetFigures s;
  CompositionFigures comp;
  MixFigures m;
};

bool g_weights_only = false;
bool g_mix_only = false;

AllFigures run_pass(Checker& c, Pass& pass, const Cgroup& w100, const Cgroup& w300) {
  AllFigures a;
  a.w = measure_weights(c, pass, w100, w300);
  if (g_weights_only) return a;
  a.l = measure_limits(c, pass);
  a.i = measure_idle(c, pass);
  a.s = measure_cpusets(c, pass);
  a.comp = measure_composition(c, pass);
  return a;
}

// Verdicts on the node mix, gthulhu's figures beside EEVDF's.
void check_mix(Checker& c, const MixFigures& e, const MixFigures& r) {
  double work_x = e.sens_work ? static_cast<double>(r.sens_work) / e.sens_work : 0;
  double lat_x = e.sens_p99 > 0 ? r.sens_p99 / e.sens_p99 : 0;
  c.info("node mix EEVDF:   sensitive %llu bursts p99 %.0f us, shares sensitive %.1f%% hog %.1f%% "
         "batch %.1f%%", (unsigned long long)e.sens_work, e.sens_p99, e.sens_cpu * 100,
         e.hog_cpu * 100, e.batch_cpu * 100);
  c.info("node mix gthulhu: sensitive %llu bursts p99 %.0f us, shares sensitive %.1f%% hog %.1f%% "
         "batch %.1f%%", (unsigned long long)r.sens_work, r.sens_p99, r.sens_cpu * 100,
         r.hog_cpu * 100, r.batch_cpu * 100);
  // The strict isolation targets (>= 1.3x work, <= 0.7x p99) are vm_sched_isolation's,
  // in a flat setup with many wakeups; here the p99 of a few hundred wakeups in an
  // emulated machine moved between 0.5x and 1.3x of EEVDF's from run to run, so the
  // bound only catches a sensitive pod that is held back (throttled, starved). Work is
  // counted in fixed-size bursts (see measure_mix); held back, the pod still fails:
  // at priority -20 under gthulhu (its weight 9 against the hog's 399) it measured
  // 0.46x EEVDF's work and 4.8x its p99.
  // Not held back, the pod measured 0.66-1.04x EEVDF's work when the VM booted with
  // aligned ticks: its sleeps' timers fired whole ticks late in the emulator (README,
  // "Known gap"), more so under gthulhu. Booted with staggered ticks (ctest's
  // skew_tick=1), with the shared queue's locality: 1.02-2.51x in five runs at host
  // load 2-5 (0.92-1.45x in three runs before the locality change), so 0.9x still
  // catches a pod that is held back or pays for remote dispatches.
  c.check(work_x >= 0.9 && lat_x <= 2.0,
          "node mix: sensitive pod work %.2fx EEVDF (>= 0.9x), p99 wakeup-to-run %.2fx EEVDF "
          "(<= 2x)", work_x, lat_x);
  c.check(r.sens_cpu <= 0.5 * 1.1, "node mix: sensitive pod %.1f%% of %d CPUs, within its "
          "cpu.max of 2 CPUs", r.sens_cpu * 100, g_ncpu);
  c.check(r.batch_cpu < r.hog_cpu / 10,
          "node mix: BestEffort batch %.1f%% vs Burstable hog %.1f%% (weights 1 vs 39; EEVDF "
          "%.1f%% vs %.1f%%)", r.batch_cpu * 100, r.hog_cpu * 100, e.batch_cpu * 100,
          e.hog_cpu * 100);
}

bool within(double v, double want, double tol) { return std::fabs(v / want - 1.0) <= tol; }

void body(Checker& c, const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "weights") g_weights_only = true;
    else if (a == "mix") g_mix_only = true;
    else g_measure = std::stod(a);
  }
  g_ncpu = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  if (!c.check(g_ncpu >= 4, "%d CPUs (the contract tests need at least 4)", g_ncpu)) return;
  if (!c.check(enable_controllers("", "+cpu +cpuset"), "cpu and cpuset controllers enabled"))
    return;
  auto missing = SchedulerBpf::missing_callbacks();
  std::string m;
  for (const auto& s : missing) m += " " + s;
  c.info("kernel lacks cgroup callbacks:%s", m.empty() ? " none" : m.c_str());

  if (g_mix_only) {
    auto opts = test_options(c.name());
    remove_pin_root(opts.pin_root);
    MixFigures e, r;
    measure_mix(c, opts, &e, &r);
    check_mix(c, e, r);
    return;
  }

  // Existing before the scheduler attaches: ops.cgroup_init must pick these weights up.
  Cgroup w100("gthulhu-cg-w100"), w300("gthulhu-cg-w300");
  if (!c.check(w100.ok() && w300.ok() && w100.set("cpu.weight", "100") &&
                   w300.set("cpu.weight", "300"),
               "cgroups at cpu.weight 100 and 300"))
    return;

  Pass eevdf;
  eevdf.name = "EEVDF";
  c.check(SchedulerBpf::kernel_state() == "disabled", "EEVDF pass: sched_ext disabled");
  AllFigures e = run_pass(c, eevdf, w100, w300);

  auto opts = test_options(c.name());
  remove_pin_root(opts.pin_root);
  SchedulerBpf sched(opts);
  sched.attach();
  Pass g;
  g.name = "gthulhu";
  g.sched = &sched;
  g.policies = std::make_unique<PolicyMap>(sched.pin_path("policy_by_cgroup"));
  AllFigures r = run_pass(c, g, w100, w300);
  c.check(SchedulerBpf::kernel_state() == "enabled" && !sched.exit_info(),
          "gthulhu still enabled after every setup");
  print_sched_stats(c.name(), sched.sched_stats());
  auto ss = sched.sched_stats();
  c.info("cgroup counters: throttled periods %llu, parked %llu, unparked %llu, idle preemptions "
         "%llu, idle dispatches %llu",
         (unsigned long long)ss.nr_throttled, (unsigned long long)ss.nr_throttled_tasks,
         (unsigned long long)ss.nr_unthrottled_tasks, (unsigned long long)ss.nr_idle_preemptions,
         (unsigned long long)ss.nr_idle_dispatches);
  sched.detach();
  if (!g_weights_only) measure_mix(c, opts, &e.m, &r.m);

  // Verdicts on gthulhu's figures, each printed beside EEVDF's.
  c.check(within(r.w.flat, 3.0, 0.10), "weights flat: ratio %.3f (EEVDF %.3f), want 3.0 +-10%%",
          r.w.flat, e.w.flat);
  c.check(within(r.w.nested, 3.0, 0.10),
          "weights nested: ratio %.3f (EEVDF %.3f), want 3.0 +-10%%", r.w.nested, e.w.nested);
  c.check(within(r.w.parent_vs_sibling, 1.0, 0.10),
          "weights nested: parent vs equal-weight sibling %.3f (EEVDF %.3f), want 1.0 +-10%%",
          r.w.parent_vs_sibling, e.w.parent_vs_sibling);
  if (g_weights_only) return;
  bool bw = std::find(missing.begin(), missing.end(), "cgroup_set_bandwidth") == missing.end();
  if (bw) {
    c.check(within(r.l.flat_cpu, 0.5, 0.10), "limits: cpu.max 0.5 -> %.3f CPU (EEVDF %.3f), +-10%%",
            r.l.flat_cpu, e.l.flat_cpu);
    // Never above its own limit (+10% for measurement), and most of it although its
    // parent's quota runs out within a few ticks each period (EEVDF measured 0.15-0.20).
    c.check(r.l.child_cpu <= 0.22 && r.l.child_cpu >= 0.16,
            "limits: nested child cpu.max 0.2 -> %.3f CPU (EEVDF %.3f), within [0.16, 0.22]",
            r.l.child_cpu, e.l.child_cpu);
    c.check(within(r.l.parent_cpu, 0.5, 0.10),
            "limits: nested parent cpu.max 0.5 -> %.3f CPU (EEVDF %.3f), +-10%%", r.l.parent_cpu,
            e.l.parent_cpu);
    // Busy all along, the flat cgroup runs out of quota in (nearly) every period; the
    // child in many (in some its parent's quota runs out first).
    c.check(r.l.flat_throttled >= 0.8 * r.l.periods && r.l.child_throttled >= 0.5 * r.l.periods &&
                r.l.total_throttled >= r.l.flat_throttled + r.l.child_throttled,
            "limits: throttled periods exported: pod %llu, child pod %llu, total %llu of %.0f "
            "periods (EEVDF nr_throttled %llu, %llu)",
            (unsigned long long)r.l.flat_throttled, (unsigned long long)r.l.child_throttled,
            (unsigned long long)r.l.total_throttled, r.l.periods,
            (unsigned long long)e.l.flat_throttled, (unsigned long long)e.l.child_throttled);
    c.check(r.comp.limited_cpu <= 0.55 && r.comp.limited_cpu >= 0.45,
            "composition: priority-20 pod under cpu.max 0.5 used %.3f CPU (EEVDF %.3f), "
            "never above +10%%", r.comp.limited_cpu, e.comp.limited_cpu);
  } else {
    c.info("limits: SKIP, this kernel has no ops.cgroup_set_bandwidth (cpu.max is ignored)");
  }
  bool idle_cb = std::find(missing.begin(), missing.end(), "cgroup_set_idle") == missing.end();
  if (idle_cb) {
    c.check(r.i.shared < 0.05, "idle: cpu.idle share next to a busy cgroup %.2f%% (EEVDF %.2f%%), "
            "want < 5%%", r.i.shared * 100, e.i.shared * 100);
  } else {
    c.info("idle: SKIP share check, this kernel has no ops.cgroup_set_idle");
  }
  c.check(r.i.alone > 0.90, "idle: cpu.idle alone %.1f%% of the CPUs (EEVDF %.1f%%), want > 90%%",
          r.i.alone * 100, e.i.alone * 100);
  c.check(r.s.ok && r.s.reserved_runs > 0 && r.s.reserved_outside == 0,
          "cpuset: reserved cgroup %llu runs, %llu outside its CPU (EEVDF %llu, %llu)",
          (unsigned long long)r.s.reserved_runs, (unsigned long long)r.s.reserved_outside,
          (unsigned long long)e.s.reserved_runs, (unsigned long long)e.s.reserved_outside);
  c.check(r.s.pool_runs > 0 && r.s.pool_on_reserved == 0,
          "cpuset: pool cgroup %llu runs, %llu on the reserved CPU (EEVDF %llu, %llu)",
          (unsigned long long)r.s.pool_runs, (unsigned long long)r.s.pool_on_reserved,
          (unsigned long long)e.s.pool_runs, (unsigned long long)e.s.pool_on_reserved);
  c.check(r.s.pinned_runs > 0 && r.s.pinned_outside == 0,
          "affinity: sched_setaffinity-pinned threads %llu runs, %llu off their CPU (EEVDF %llu, "
          "%llu)",
          (unsigned long long)r.s.pinned_runs, (unsigned long long)r.s.pinned_outside,
          (unsigned long long)e.s.pinned_runs, (unsigned long long)e.s.pinned_outside);
  double want = static_cast<double>(gthulhu_weight_of(5)) / gthulhu_weight_of(0);
  c.check(within(r.comp.prio_ratio, want, 0.10),
          "composition: priority 5 on one of two equal pods: ratio %.3f (EEVDF, no strategies: "
          "%.3f), README rule %.3f +-10%%", r.comp.prio_ratio, e.comp.prio_ratio, want);
  c.check(within(r.comp.parent_vs_sibling, 1.0, 0.15),
          "composition: their parent vs its equal-weight sibling %.3f (EEVDF %.3f): the priority "
          "stays inside the parent's share (+-15%%)", r.comp.parent_vs_sibling,
          e.comp.parent_vs_sibling);
  check_mix(c, e.m, r.m);
}

}  // namespace

int main(int argc, char** argv) { return test_main(argc, argv, "vm_sched_cgroup", body); }
