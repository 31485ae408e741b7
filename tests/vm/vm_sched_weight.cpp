// VM test: weight accuracy. Two cgroups of CPU-bound threads, more threads than
// CPUs, at priorities 0 and 5 through policy_by_cgroup: their CPU time ratio must be
// within 10% of the weight ratio 3125/1024 = 3.05. CPU time per cgroup comes from the
// kernel's cgroup accounting (cpu.stat usage_usec), over a window after a warm-up.
// Each group has as many threads as the other, so the group ratio is the per-task
// weight ratio, and no thread's fair share exceeds one CPU.
//   vm_sched_weight [MEASURE_SECONDS]   (default 6)
#include <unistd.h>

#include <cmath>
#include <string>

#include "tests/vm/sched_vm_util.h"

using namespace gthulhu;
using namespace gthulhu::vmtest;
using agent::SchedulerBpf;

namespace {

constexpr uint32_t kLowId = 31, kHighId = 32;
constexpr int kLowPrio = 0, kHighPrio = 5;

void body(Checker& c, const std::vector<std::string>& args) {
  double measure = args.empty() ? 6.0 : std::stod(args[0]);
  const double warmup = 1.0;
  long ncpu = ::sysconf(_SC_NPROCESSORS_ONLN);
  int threads = static_cast<int>(ncpu) + 1;  // per group: 2 groups x (ncpu+1) > ncpu

  Cgroup low("gthulhu-weight-p0"), high("gthulhu-weight-p5");
  if (!c.check(low.ok() && high.ok(), "cgroups created")) return;

  auto opts = test_options(c.name());
  remove_pin_root(opts.pin_root);
  SchedulerBpf sched(opts);
  sched.attach();
  PolicyMap policies(sched.pin_path("policy_by_cgroup"));
  c.check(policies.set(low.id(), make_policy(kLowId, kLowPrio)) &&
              policies.set(high.id(), make_policy(kHighId, kHighPrio)),
          "policies: %u (priority %d, weight %u) and %u (priority %d, weight %u)", kLowId,
          kLowPrio, gthulhu_weight_of(kLowPrio), kHighId, kHighPrio, gthulhu_weight_of(kHighPrio));

  double start = now_s() + 0.5;
  double run = warmup + measure + 0.5;
  std::string s = std::to_string(start), d = std::to_string(run);
  pid_t a = spawn_worker(low, {"spin", std::to_string(threads), s, d, ""});
  pid_t b = spawn_worker(high, {"spin", std::to_string(threads), s, d, ""});

  ::usleep(static_cast<useconds_t>((start + warmup - now_s()) * 1e6));
  uint64_t low0 = low.usage_usec(), high0 = high.usage_usec();
  auto pl0 = sched.policy_stats(kLowId), ph0 = sched.policy_stats(kHighId);
  double t0 = now_s();
  ::usleep(static_cast<useconds_t>(measure * 1e6));
  uint64_t low1 = low.usage_usec(), high1 = high.usage_usec();
  auto pl1 = sched.policy_stats(kLowId), ph1 = sched.policy_stats(kHighId);
  double window = now_s() - t0;

  c.check(a > 0 && b > 0 && wait_worker(a) == 0 && wait_worker(b) == 0,
          "%d + %d CPU-bound threads on %ld CPUs ran to the end", threads, threads, ncpu);

  double low_ms = (low1 - low0) / 1e3, high_ms = (high1 - high0) / 1e3;
  double want = static_cast<double>(gthulhu_weight_of(kHighPrio)) / gthulhu_weight_of(kLowPrio);
  double ratio = low_ms > 0 ? high_ms / low_ms : 0;
  double err = std::fabs(ratio / want - 1.0);
  c.info("window %.2f s: priority %d used %.0f ms, priority %d used %.0f ms (%.0f%% of %ld CPUs)",
         window, kLowPrio, low_ms, kHighPrio, high_ms,
         (low_ms + high_ms) / (window * 1e3 * ncpu) * 100, ncpu);
  double bpf_ratio = static_cast<double>(ph1.cpu_time_ns - ph0.cpu_time_ns) /
                     static_cast<double>(pl1.cpu_time_ns - pl0.cpu_time_ns + 1);
  c.info("scheduler's own per-policy CPU time ratio: %.3f", bpf_ratio);
  c.check(err <= 0.10, "CPU time ratio %.3f vs weight ratio %.3f: error %.1f%% (limit 10%%)",
          ratio, want, err * 100);
  print_policy_stats(c.name(), kLowId, pl1);
  print_policy_stats(c.name(), kHighId, ph1);
  print_sched_stats(c.name(), sched.sched_stats());
  sched.detach();
}

}  // namespace

int main(int argc, char** argv) { return test_main(argc, argv, "vm_sched_weight", body); }
