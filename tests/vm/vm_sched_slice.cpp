// VM test: per-policy time slices. Two cgroups of CPU-bound threads asking for 4 ms
// and 40 ms slices compete for the CPUs; the average run length per policy
// (cpu_time_ns / run_count over a window) must be within one tick (4 ms at HZ=250)
// of the slice asked for. The kernel ends slices on ticks only, so one tick is the
// resolution. Under QEMU TCG on a busy host the guest's ticks can arrive late (8 ms
// apart was seen): the test measures the tick period the VM really got (local timer
// interrupts on the busy CPUs) and judges against max(nominal tick, measured tick),
// printing whether the nominal 4 ms bound held as well.
//   vm_sched_slice [MEASURE_SECONDS]   (default 4)
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "tests/vm/sched_vm_util.h"

using namespace gthulhu;
using namespace gthulhu::vmtest;
using agent::SchedulerBpf;

namespace {

constexpr uint32_t kShortId = 41, kLongId = 42;
constexpr uint64_t kShortNs = 4'000'000, kLongNs = 40'000'000;
constexpr double kTickMs = 4.0;  // HZ=250

double avg_run_ms(const gthulhu_policy_stats& a, const gthulhu_policy_stats& b) {
  uint64_t runs = b.run_count - a.run_count;
  return runs ? (b.cpu_time_ns - a.cpu_time_ns) / 1e6 / runs : 0;
}

void body(Checker& c, const std::vector<std::string>& args) {
  double measure = args.empty() ? 4.0 : std::stod(args[0]);
  const double warmup = 1.0;
  long ncpu = ::sysconf(_SC_NPROCESSORS_ONLN);
  int threads = static_cast<int>(ncpu);  // per group: always more runnable threads than CPUs

  Cgroup short_cg("gthulhu-slice-4ms"), long_cg("gthulhu-slice-40ms");
  if (!c.check(short_cg.ok() && long_cg.ok(), "cgroups created")) return;

  auto opts = test_options(c.name());
  remove_pin_root(opts.pin_root);
  SchedulerBpf sched(opts);
  sched.attach();
  PolicyMap policies(sched.pin_path("policy_by_cgroup"));
  c.check(policies.set(short_cg.id(), make_policy(kShortId, 0, kShortNs)) &&
              policies.set(long_cg.id(), make_policy(kLongId, 0, kLongNs)),
          "policies: %u slice 4 ms, %u slice 40 ms (both priority 0)", kShortId, kLongId);

  double start = now_s() + 0.5;
  std::string s = std::to_string(start), d = std::to_string(warmup + measure + 0.5);
  pid_t a = spawn_worker(short_cg, {"spin", std::to_string(threads), s, d, ""});
  pid_t b = spawn_worker(long_cg, {"spin", std::to_string(threads), s, d, ""});

  ::usleep(static_cast<useconds_t>((start + warmup - now_s()) * 1e6));
  auto s0 = sched.policy_stats(kShortId), l0 = sched.policy_stats(kLongId);
  uint64_t loc0 = local_timer_interrupts();
  double t0 = now_s();
  ::usleep(static_cast<useconds_t>(measure * 1e6));
  auto s1 = sched.policy_stats(kShortId), l1 = sched.policy_stats(kLongId);
  uint64_t loc1 = local_timer_interrupts();
  double window_ms = (now_s() - t0) * 1e3;
  double tick_ms = loc1 > loc0 ? window_ms * ncpu / (loc1 - loc0) : 0;
  c.check(a > 0 && b > 0 && wait_worker(a) == 0 && wait_worker(b) == 0,
          "%d + %d CPU-bound threads on %ld CPUs ran to the end", threads, threads, ncpu);

  double short_ms = avg_run_ms(s0, s1), long_ms = avg_run_ms(l0, l1);
  c.info("4 ms policy: %llu runs, %.0f ms CPU; 40 ms policy: %llu runs, %.0f ms CPU",
         (unsigned long long)(s1.run_count - s0.run_count), (s1.cpu_time_ns - s0.cpu_time_ns) / 1e6,
         (unsigned long long)(l1.run_count - l0.run_count), (l1.cpu_time_ns - l0.cpu_time_ns) / 1e6);
  double bound = std::max(kTickMs, tick_ms);
  double short_err = std::fabs(short_ms - kShortNs / 1e6), long_err = std::fabs(long_ms - kLongNs / 1e6);
  c.info("tick period measured in the VM: %.2f ms (nominal %.0f ms); bound %.2f ms", tick_ms,
         kTickMs, bound);
  c.check(short_err <= bound, "slice 4 ms: average run %.2f ms (off by %.2f ms)", short_ms,
          short_err);
  c.check(long_err <= bound, "slice 40 ms: average run %.2f ms (off by %.2f ms)", long_ms,
          long_err);
  c.info("nominal bound (one %.0f ms tick) %s", kTickMs,
         short_err <= kTickMs && long_err <= kTickMs ? "held for both" : "MISSED (see the tick period)");
  print_sched_stats(c.name(), sched.sched_stats());
  sched.detach();
}

}  // namespace

int main(int argc, char** argv) { return test_main(argc, argv, "vm_sched_slice", body); }
