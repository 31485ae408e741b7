#pragma once
// Helpers for the scheduler's VM tests (tests/vm/vm_sched_*.cpp): checks that print
// their figures, cgroup v2 directories, the pinned policy maps, and worker processes
// started straight into a cgroup (clone3 CLONE_INTO_CGROUP + exec of this binary in
// worker mode), so a worker's first enqueue already happens inside its cgroup.
// Everything here runs inside the test VM as root.
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "agent/bpf/scheduler_bpf.h"

namespace gthulhu::vmtest {

// Prints "<test>: ok   ..." / "<test>: FAIL ..." lines and counts failures.
class Checker {
 public:
  explicit Checker(std::string test) : test_(std::move(test)) {}
  bool check(bool ok, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
  void info(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
  int failures() const { return failures_; }
  // Prints the verdict; the process exit status (0 passed, 1 failed).
  int finish();
  const std::string& name() const { return test_; }

 private:
  std::string test_;
  int failures_ = 0;
};

double now_s();  // CLOCK_MONOTONIC in seconds
std::string read_text(const std::string& path);
bool write_text(const std::string& path, const std::string& text);

// Mounts cgroup2 at /sys/fs/cgroup if it is not there yet; "" or an error.
std::string ensure_cgroup2();

// A cgroup v2 directory under /sys/fs/cgroup, removed (after killing what is left in
// it) by the destructor.
class Cgroup {
 public:
  explicit Cgroup(const std::string& relative_path);
  ~Cgroup();
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;
  const std::string& path() const { return path_; }
  uint64_t id() const { return id_; }  // the cgroup v2 id = directory inode
  bool ok() const { return id_ != 0; }
  uint64_t usage_usec() const;  // cpu.stat usage_usec
  uint64_t cpu_stat(const std::string& key) const;  // any cpu.stat field (0 if absent)
  // Writes `value` to the cgroup's control file `file` (cpu.weight, cpu.max, ...);
  // prints the error and returns false when the kernel refuses it.
  bool set(const std::string& file, const std::string& value) const;
  std::vector<pid_t> pids() const;
  void kill_all();

 private:
  std::string path_;
  uint64_t id_ = 0;
};

// Enables controllers ("+cpu +cpuset") for the children of the cgroup at `path`
// (relative to /sys/fs/cgroup, "" = the root); false with the reason printed.
bool enable_controllers(const std::string& path, const std::string& controllers);

// A pinned policy map (policy_by_cgroup or policy_by_tgid), written like the agent does.
class PolicyMap {
 public:
  explicit PolicyMap(const std::string& pin_path);
  ~PolicyMap();
  bool ok() const { return fd_ >= 0; }
  bool set(uint64_t key, const gthulhu_policy& policy);
  bool set_tgid(uint32_t tgid, const gthulhu_policy& policy);
  bool get(uint64_t key, gthulhu_policy* out) const;
  bool erase(uint64_t key);

 private:
  int fd_ = -1;
};

gthulhu_policy make_policy(uint32_t id, int32_t priority, uint64_t slice_ns = 0,
                           uint32_t flags = GTHULHU_POLICY_APPLY);

// Options for a test scheduler: a pin root of its own under /sys/fs/bpf, removed by
// remove_pin_root(), and detached when the SchedulerBpf object goes away.
agent::SchedulerOptions test_options(const std::string& test);
void remove_pin_root(const std::string& pin_root);

// Starts this binary in worker mode (see run_worker) inside `cg` from its first
// instruction on (clone3 with CLONE_INTO_CGROUP). Returns the pid or -1.
pid_t spawn_worker(const Cgroup& cg, const std::vector<std::string>& args);
// Starts args[0] (an absolute path) with `args` inside `cg` the same way.
pid_t spawn_in_cgroup(const Cgroup& cg, std::vector<std::string> args);
// Exit status of the worker, or -1.
int wait_worker(pid_t pid);

// Worker modes, all starting at an absolute CLOCK_MONOTONIC time so groups started
// one after another run the same window:
//   spin   THREADS START_S SECONDS OUT      spin, count 10k-iteration chunks
//   burst  THREADS START_S SECONDS BURST_US SLEEP_US OUT
//          spin BURST_US of thread CPU time, sleep until now+SLEEP_US, record the
//          wakeup latency (actual - intended wake time) in us
//   burstwork THREADS START_S SECONDS ITERATIONS SLEEP_US OUT
//          as burst, but each burst is a fixed amount of work (ITERATIONS spin loop
//          iterations, see spin_iterations_for) rather than of thread CPU time
//   threads N                               start N short threads and exit
//   pinspin CPU THREADS START_S SECONDS OUT spin like `spin`, each thread first
//          restricted to CPU with sched_setaffinity
// OUT files get "work <n>" and, for burst, one "lat <us>" line per wakeup.
// Returns true and sets *status if argv asked for a worker.
bool run_worker(int argc, char** argv, int* status);

// Spin loop iterations this thread does in `cpu_us` of CPU time when it runs
// undisturbed (the burstwork workers' unit of work); call it on an idle machine.
uint64_t spin_iterations_for(double cpu_us);

struct WorkerReport {
  uint64_t work = 0;
  std::vector<double> latencies_us;
  double utime_us = 0, stime_us = 0;  // burst workers: their user and system CPU time
};
WorkerReport read_report(const std::string& path);
double percentile(std::vector<double> values, double p);

// Local timer interrupts so far, summed over CPUs (/proc/interrupts "LOC"): on CPUs
// kept busy this is the tick count, which tells the tick period the VM really gets.
uint64_t local_timer_interrupts();

// Wait for the sched_ext state file to read `want` (kernel workers enable/disable).
bool wait_state(const std::string& want, double timeout_s = 10);

// BPF run-time statistics (kernel.bpf_stats_enabled) of the loaded programs whose
// names start with `prefix`: run count and total run time per program.
struct ProgRunStats {
  uint32_t id = 0;  // programs of an earlier attach may still be loaded under the same names
  std::string name;
  uint64_t run_cnt = 0, run_time_ns = 0;
};
// Turns the kernel's per-program run-time accounting on (true) or off; false if the
// sysctl cannot be written.
bool set_bpf_stats(bool on);
std::vector<ProgRunStats> prog_run_stats(const std::string& prefix);
// Prints, per program, the calls and the mean and total run time between two
// snapshots, and the total as a share of `cpu_seconds`.
void print_prog_run_stats(const std::string& test, const std::vector<ProgRunStats>& before,
                          const std::vector<ProgRunStats>& after, double cpu_seconds);

// One line with the scheduler's global counters.
void print_sched_stats(const std::string& test, const gthulhu_sched_stats& s);
void print_policy_stats(const std::string& test, uint32_t id, const gthulhu_policy_stats& s);

// main() of a scheduler VM test: runs worker mode when asked, skips (77) without
// sched_ext, runs `body` with the arguments, detaches a scheduler left attached,
// removes the test's pin root, and returns the exit status.
int test_main(int argc, char** argv, const std::string& name,
              const std::function<void(Checker&, const std::vector<std::string>&)>& body);

}  // namespace gthulhu::vmtest
