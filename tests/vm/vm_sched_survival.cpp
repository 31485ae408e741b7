// VM test: survival under a fork + affinity storm. stress-ng (copied into the VM
// image with its libraries) runs CPU, fork and affinity stressors, the same mix as
// the scx CI gate, inside a policied cgroup while gthulhu schedules; afterwards the
// scheduler must still be enabled with no exit recorded (a watchdog stall would
// have unloaded it with ERROR_STALL). Without stress-ng the test runs its own storm:
// processes that fork short-lived children and threads that hop between CPUs with
// sched_setaffinity.
// Beside the storm, cgroup churn for the scheduler's cgroup callbacks: cgroups are
// created, weighted, limited (cpu.max), made idle, populated with short spinners that
// are moved to a second cgroup while they run, and removed, in a loop.
//   vm_sched_survival [SECONDS]   (default 60)
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>

#include "tests/vm/sched_vm_util.h"

using namespace gthulhu;
using namespace gthulhu::vmtest;
using agent::SchedulerBpf;

namespace {

constexpr uint32_t kPolicyId = 61;
constexpr const char* kStressNg = "/usr/bin/stress-ng";

// Fallback storm: N forkers and N affinity hoppers until the deadline.
int own_storm(double seconds, int n) {
  double end = now_s() + seconds;
  long ncpu = ::sysconf(_SC_NPROCESSORS_ONLN);
  std::vector<std::thread> ts;
  for (int i = 0; i < n; i++) {
    ts.emplace_back([end] {
      while (now_s() < end) {
        pid_t pid = ::fork();
        if (pid == 0) ::_exit(0);
        if (pid > 0) ::waitpid(pid, nullptr, 0);
      }
    });
    ts.emplace_back([end, ncpu, i] {
      unsigned k = i;
      while (now_s() < end) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(k++ % ncpu, &set);
        ::sched_setaffinity(0, sizeof(set), &set);
        for (int j = 0; j < 2000; j++) asm volatile("" ::: "memory");
      }
    });
  }
  for (auto& t : ts) t.join();
  return 0;
}

struct ChurnResult {
  int rounds = 0;
  int failures = 0;  // control-file writes, spawns, moves or removals that failed
  std::string first_error;
};

// Cgroup churn until `end`: every round creates two cgroups, configures them, runs a
// short spinner in the first and moves it into the second, then removes both.
void churn(double end, ChurnResult* r) {
  std::mt19937 rng(1234);
  auto fail = [r](const std::string& what) {
    if (r->failures++ == 0) r->first_error = what;
  };
  while (now_s() < end) {
    int n = r->rounds;
    {
      Cgroup a("gthulhu-churn-a-" + std::to_string(n)), b("gthulhu-churn-b-" + std::to_string(n));
      if (!a.ok() || !b.ok()) {
        fail("mkdir");
        continue;
      }
      std::string weight = std::to_string(1 + rng() % 10000);
      if (!a.set("cpu.weight", weight)) fail("cpu.weight " + weight);
      if (!a.set("cpu.max", n % 2 ? "20000 100000" : "max 100000")) fail("cpu.max");
      if (!b.set("cpu.idle", n % 3 ? "0" : "1")) fail("cpu.idle");
      if (!b.set("cpu.max", "30000 50000")) fail("cpu.max b");
      pid_t pid = spawn_worker(a, {"spin", "2", std::to_string(now_s()), "0.3", ""});
      if (pid <= 0) {
        fail("spawn");
      } else {
        ::usleep(100 * 1000);
        // A move while the spinner runs: ops.cgroup_move with runnable tasks.
        if (!write_text(b.path() + "/cgroup.procs", std::to_string(pid))) fail("move");
        if (!a.set("cpu.weight", std::to_string(1 + rng() % 10000))) fail("reweight");
        if (wait_worker(pid) != 0) fail("spinner status");
      }
    }  // both removed here
    r->rounds++;
  }
}

void body(Checker& c, const std::vector<std::string>& args) {
  double seconds = args.empty() ? 60.0 : std::stod(args[0]);
  long ncpu = ::sysconf(_SC_NPROCESSORS_ONLN);
  Cgroup storm("gthulhu-survival");
  if (!c.check(storm.ok(), "cgroup created")) return;

  auto opts = test_options(c.name());
  remove_pin_root(opts.pin_root);
  SchedulerBpf sched(opts);
  sched.attach();
  PolicyMap policies(sched.pin_path("policy_by_cgroup"));
  c.check(policies.set(storm.id(), make_policy(kPolicyId, 2, 3'000'000)),
          "policy %u (priority 2, slice 3 ms) on the storm's cgroup", kPolicyId);

  std::string n = std::to_string(ncpu);
  pid_t pid;
  if (::access(kStressNg, X_OK) == 0) {
    std::string t = std::to_string(static_cast<int>(seconds));
    c.info("stress-ng -t %s --aggressive -M -c %s -f %s --affinity %s --affinity-delay 1 "
           "--affinity-pin", t.c_str(), n.c_str(), n.c_str(), n.c_str());
    pid = spawn_in_cgroup(storm, {kStressNg, "-t", t, "--aggressive", "-M", "-c", n, "-f", n,
                                  "--affinity", n, "--affinity-delay", "1", "--affinity-pin",
                                  "--metrics-brief"});
  } else {
    c.info("%s not in the image: own fork + sched_setaffinity storm, %s x 2 threads", kStressNg,
           n.c_str());
    pid = spawn_worker(storm, {"storm", std::to_string(seconds), n});
  }
  if (!c.check(pid > 0, "storm started (pid %d) for %.0f s", pid, seconds)) return;

  // Cgroup callbacks under the storm: they need the cpu controller for children.
  bool churning = enable_controllers("", "+cpu");
  c.check(churning, "cpu controller enabled for the cgroup churn");
  ChurnResult churned;
  std::thread churner;
  if (churning) churner = std::thread(churn, now_s() + seconds, &churned);

  // Watch the scheduler while the storm runs.
  double start = now_s(), deadline = start + seconds + 60;
  int status = 0;
  bool exited = false;
  double next_report = start + 10;
  while (now_s() < deadline) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      exited = true;
      break;
    }
    if (now_s() >= next_report) {
      auto s = sched.sched_stats();
      c.info("t=%.0f s: state %s, ops %s, enqueues %llu, bounces %llu, rescues %llu",
             now_s() - start, SchedulerBpf::kernel_state().c_str(),
             SchedulerBpf::kernel_ops().c_str(), (unsigned long long)s.nr_enqueues,
             (unsigned long long)s.nr_bounces, (unsigned long long)s.nr_starvation_rescues);
      next_report += 10;
    }
    ::usleep(200 * 1000);
  }
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  if (churner.joinable()) churner.join();
  double took = now_s() - start;
  if (churning)
    c.check(churned.rounds > 0 && churned.failures == 0,
            "cgroup churn: %d rounds (create, weight, cpu.max, cpu.idle, move, remove), %d "
            "failures%s%s", churned.rounds, churned.failures, churned.failures ? ", first: " : "",
            churned.first_error.c_str());
  c.check(exited && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "storm finished after %.1f s with status %d", took,
          WIFEXITED(status) ? WEXITSTATUS(status) : -1);

  auto info = sched.exit_info();
  c.check(SchedulerBpf::kernel_state() == "enabled" && SchedulerBpf::kernel_ops() == "gthulhu",
          "scheduler still enabled after the storm (state '%s', ops '%s')",
          SchedulerBpf::kernel_state().c_str(), SchedulerBpf::kernel_ops().c_str());
  c.check(!info, "no exit recorded%s%s", info ? ": " : "",
          info ? (agent::exit_kind_name(info->kind) + " " + info->reason + " " + info->msg).c_str()
               : "");
  print_sched_stats(c.name(), sched.sched_stats());
  print_policy_stats(c.name(), kPolicyId, sched.policy_stats(kPolicyId));
  print_policy_stats(c.name(), 0, sched.policy_stats(0));
  sched.detach();
}

}  // namespace

int main(int argc, char** argv) {
  // Worker mode of this binary: the fallback storm.
  if (argc == 5 && std::string(argv[1]) == "--worker" && std::string(argv[2]) == "storm")
    return own_storm(std::stod(argv[3]), std::stoi(argv[4]));
  return test_main(argc, argv, "vm_sched_survival", body);
}
