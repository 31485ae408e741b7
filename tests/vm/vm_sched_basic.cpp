// VM test: the gthulhu scheduler attaches (state enabled, root/ops gthulhu), schedules
// a mixed workload (policied CPU hogs, unpolicied sleepers, fork churn), keeps running
// when the SchedulerBpf object that attached it goes away (the agent-restart case)
// and is re-adopted from its pinned link, shows readable pinned maps in bpftool, and
// reports the exit kind and reason through the ring buffer and the sched_exit map
// when detached.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "tests/vm/sched_vm_util.h"

using namespace gthulhu;
using namespace gthulhu::vmtest;
using agent::SchedulerBpf;

namespace {

constexpr uint32_t kPolicyId = 7;
constexpr const char* kBpftool = "/usr/bin/bpftool";

// Policied spinners, unpolicied burst/sleep threads and a burst of short threads,
// started together; true when every worker exited cleanly.
bool mixed_workload(Checker& c, const Cgroup& policied, const Cgroup& plain, double seconds) {
  double start = now_s() + 0.3;
  std::string s = std::to_string(start), d = std::to_string(seconds);
  pid_t pids[] = {
      spawn_worker(policied, {"spin", "3", s, d, ""}),
      spawn_worker(plain, {"burst", "2", s, d, "1000", "1000", "/tmp/basic-burst.txt"}),
      spawn_worker(plain, {"threads", "40"}),
      spawn_worker(policied, {"threads", "40"}),
  };
  bool ok = true;
  for (pid_t pid : pids) ok = pid > 0 && wait_worker(pid) == 0 && ok;
  c.info("mixed workload: 3 policied spinners + 2 unpolicied sleepers for %.1f s, 80 short threads",
         seconds);
  return ok;
}

std::string run_command(const std::string& cmd) {
  std::string out;
  if (FILE* f = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof(buf), f)) out += buf;
    ::pclose(f);
  }
  return out;
}

void body(Checker& c, const std::vector<std::string>&) {
  Cgroup policied("gthulhu-basic"), plain("gthulhu-basic-plain");
  if (!c.check(policied.ok() && plain.ok(), "cgroups created (ids %llu, %llu)",
               (unsigned long long)policied.id(), (unsigned long long)plain.id()))
    return;

  auto opts = test_options(c.name());
  remove_pin_root(opts.pin_root);
  opts.detach_on_destroy = false;  // this test plays an agent that exits and comes back

  c.check(SchedulerBpf::kernel_state() == "disabled", "state before load is '%s'",
          SchedulerBpf::kernel_state().c_str());
  gthulhu_sched_stats first_stats{};
  {
    SchedulerBpf sched(opts);
    c.check(!sched.adopted(), "fresh load (not adopted)");
    double t0 = now_s();
    sched.attach();
    c.info("attach took %.0f ms", (now_s() - t0) * 1e3);
    c.check(SchedulerBpf::kernel_state() == "enabled", "state after attach is '%s'",
            SchedulerBpf::kernel_state().c_str());
    c.check(SchedulerBpf::kernel_ops() == "gthulhu", "root/ops is '%s'",
            SchedulerBpf::kernel_ops().c_str());
    struct stat st;
    c.check(::stat(sched.pin_path("gthulhu_link").c_str(), &st) == 0, "link pinned at %s",
            sched.pin_path("gthulhu_link").c_str());

    PolicyMap policies(sched.pin_path("policy_by_cgroup"));
    c.check(policies.set(policied.id(), make_policy(kPolicyId, 3)),
            "policy %u (priority 3) set for cgroup %llu", kPolicyId,
            (unsigned long long)policied.id());

    c.check(mixed_workload(c, policied, plain, 2.0), "every worker exited with status 0");
    first_stats = sched.sched_stats();
    print_sched_stats(c.name(), first_stats);
    c.check(first_stats.nr_enqueues > 0 && first_stats.nr_direct_dispatches > 0,
            "tasks were queued (%llu) and dispatched directly to idle CPUs (%llu)",
            (unsigned long long)first_stats.nr_enqueues,
            (unsigned long long)first_stats.nr_direct_dispatches);
    c.check(first_stats.nr_policy_dispatches > 0 && first_stats.nr_default_dispatches > 0,
            "both policied (%llu) and default (%llu) dispatches",
            (unsigned long long)first_stats.nr_policy_dispatches,
            (unsigned long long)first_stats.nr_default_dispatches);
    auto ps = sched.policy_stats(kPolicyId);
    print_policy_stats(c.name(), kPolicyId, ps);
    auto ps0 = sched.policy_stats(0);
    print_policy_stats(c.name(), 0, ps0);
    c.check(ps.cpu_time_ns > 0 && ps.run_count > 0, "policy %u accounted %.1f ms of CPU",
            kPolicyId, ps.cpu_time_ns / 1e6);
    auto active = sched.active_policy_stats();
    std::string ids;
    bool listed = false;
    for (const auto& e : active) {
      ids += " " + std::to_string(e.policy_id);
      listed = listed || (e.policy_id == kPolicyId && e.stats.run_count >= ps.run_count);
    }
    c.check(listed && active.size() == 2, "active policy stats list ids:%s", ids.c_str());
    // The object goes away without detaching: an agent exiting or restarting.
  }

  c.check(SchedulerBpf::kernel_state() == "enabled" && SchedulerBpf::kernel_ops() == "gthulhu",
          "scheduler still attached after its loader let go (state '%s')",
          SchedulerBpf::kernel_state().c_str());
  ::usleep(300 * 1000);

  SchedulerBpf again(opts);
  c.check(again.adopted() && again.attached(), "second instance adopted the pinned scheduler");
  auto adopted_stats = again.sched_stats();
  c.check(adopted_stats.nr_enqueues >= first_stats.nr_enqueues,
          "counters continue across the restart (%llu -> %llu enqueues)",
          (unsigned long long)first_stats.nr_enqueues,
          (unsigned long long)adopted_stats.nr_enqueues);
  c.check(mixed_workload(c, policied, plain, 1.0), "workload after re-adoption finished");

  // bpftool shows the pinned maps with field names (BTF).
  if (c.check(::access(kBpftool, X_OK) == 0, "bpftool present at %s", kBpftool)) {
    std::string dump =
        run_command(std::string(kBpftool) + " map dump pinned " + again.pin_path("policy_by_cgroup"));
    std::printf("%s: bpftool map dump pinned %s:\n%s", c.name().c_str(),
                again.pin_path("policy_by_cgroup").c_str(), dump.c_str());
    bool named = dump.find("\"policy_id\": 7") != std::string::npos &&
                 dump.find("\"priority\": 3") != std::string::npos &&
                 dump.find("\"slice_ns\"") != std::string::npos &&
                 dump.find("\"weight\": 2000") != std::string::npos;
    c.check(named, "policy_by_cgroup dump shows named fields (policy_id, priority, slice_ns, weight)");
    std::string stats_dump =
        run_command(std::string(kBpftool) + " map dump pinned " + again.pin_path("sched_stats"));
    c.check(stats_dump.find("\"nr_enqueues\"") != std::string::npos,
            "sched_stats dump shows named fields (%zu bytes)", stats_dump.size());
  }

  // Detach: the exit reason reaches user space twice.
  double t0 = now_s();
  again.detach();
  c.info("detach took %.0f ms", (now_s() - t0) * 1e3);
  c.check(SchedulerBpf::kernel_state() == "disabled", "state after detach is '%s'",
          SchedulerBpf::kernel_state().c_str());
  int events = 0;
  gthulhu_sched_event last{};
  again.poll_events(2000, [&](const gthulhu_sched_event& ev) {
    events++;
    last = ev;
  });
  c.check(events == 1 && last.type == GTHULHU_EVENT_SCHED_EXIT && last.exit.kind == 64,
          "ring buffer: %d event(s), type %u, exit kind %u (%s), reason '%s', msg '%s'", events,
          last.type, last.exit.kind, agent::exit_kind_name(last.exit.kind).c_str(),
          last.exit.reason, last.exit.msg);
  auto info = again.exit_info();
  c.check(info && info->kind == 64 && std::strlen(info->reason) > 0,
          "sched_exit map: kind %u (%s) code %lld reason '%s'", info ? info->kind : 0,
          info ? agent::exit_kind_name(info->kind).c_str() : "-",
          info ? (long long)info->exit_code : 0LL, info ? info->reason : "");

  // A later load finds why the previous instance ended.
  SchedulerBpf next(opts);
  auto prev = next.previous_exit();
  c.check(prev && prev->kind == 64, "a new instance reads the previous exit: %s '%s'",
          prev ? agent::exit_kind_name(prev->kind).c_str() : "none", prev ? prev->reason : "");
}

}  // namespace

int main(int argc, char** argv) { return test_main(argc, argv, "vm_sched_basic", body); }
