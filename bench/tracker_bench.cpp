// Tracker benchmarks (root, real host kernel):
//   1. fork+exit throughput without the tracker, with it, and with it emitting an event
//      per process (the ring buffer path), plus the kernel's per-program run time: the
//      tracker's cost per process and the rate one CPU could sustain on it alone;
//   2. "which pids belong to these pods" at 1k and 10k processes: the tracker's
//      proc_table versus scanning /proc/*/cgroup the way upstream Gthulhu does.
// Prints a plain-text report; exit code 0 unless something failed to run.
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "agent/bpf/tracker_bpf.h"
#include "tests/integration/host_sandbox.h"

using gthulhu::agent::TrackerBpf;
using gthulhu::agent::TrackerEvent;
using gthulhu::agent::TrackerOptions;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct ForkResult {
  double rate;            // processes per second of wall time
  double cpu_us_per_proc; // CPU time (user + system, all processes involved) per process:
                          // unlike the rate, barely affected by other load on the host
};

double cpu_seconds(const rusage& r) {
  return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

// `workers` processes each fork+exit+reap `per_worker` children.
ForkResult fork_exit_rate(int workers, int per_worker) {
  rusage before{}, after{};
  getrusage(RUSAGE_CHILDREN, &before);
  auto start = Clock::now();
  std::vector<pid_t> pids;
  for (int w = 0; w < workers; ++w) {
    pid_t pid = fork();
    if (pid == 0) {
      for (int i = 0; i < per_worker; ++i) {
        pid_t kid = fork();
        if (kid == 0) _exit(0);
        if (kid < 0) _exit(1);
        waitpid(kid, nullptr, 0);
      }
      _exit(0);
    }
    pids.push_back(pid);
  }
  bool ok = true;
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  double wall = seconds_since(start);
  getrusage(RUSAGE_CHILDREN, &after);
  if (!ok) std::fprintf(stderr, "a fork worker failed\n");
  double n = double(workers) * per_worker;
  return {n / wall, (cpu_seconds(after) - cpu_seconds(before)) * 1e6 / n};
}

// Forks from a process that maps the tracker's ring buffer copy that mapping's page
// table entries (VM_MIXEDMAP), which costs more than the tracker itself. The agent
// never forks, so the measurements run in a launcher forked before any tracker
// exists: it runs fork_exit_rate() on request and sends back the result.
class Launcher {
 public:
  Launcher(int workers, int per_worker) {
    if (pipe(to_) != 0 || pipe(from_) != 0) std::abort();
    pid_ = fork();
    if (pid_ == 0) {
      close(to_[1]);
      close(from_[0]);
      char c;
      while (read(to_[0], &c, 1) == 1) {
        ForkResult r = fork_exit_rate(workers, per_worker);
        if (write(from_[1], &r, sizeof(r)) != sizeof(r)) _exit(1);
      }
      _exit(0);
    }
    close(to_[0]);
    close(from_[1]);
  }
  ~Launcher() {
    close(to_[1]);
    close(from_[0]);
    waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }
  ForkResult run() {
    ForkResult r{0, 0};
    if (write(to_[1], "r", 1) != 1 || read(from_[0], &r, sizeof(r)) != sizeof(r))
      std::fprintf(stderr, "launcher failed\n");
    return r;
  }

 private:
  int to_[2], from_[2];
  pid_t pid_;
};

std::map<std::string, TrackerBpf::ProgramStats> by_name(const std::vector<TrackerBpf::ProgramStats>& v) {
  std::map<std::string, TrackerBpf::ProgramStats> m;
  for (const auto& p : v) m[p.name] = p;
  return m;
}

// Upstream's way: every /proc/<pid>/cgroup, keep pids whose cgroup path has the pod's
// marker. Returns the number of matching pids.
size_t proc_scan(const std::vector<std::string>& pod_markers) {
  size_t found = 0;
  DIR* proc = opendir("/proc");
  if (!proc) return 0;
  while (dirent* entry = readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    std::ifstream in(std::string("/proc/") + entry->d_name + "/cgroup");
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("kubepods") == std::string::npos) continue;
      bool match = false;
      for (const auto& marker : pod_markers)
        if (line.find(marker) != std::string::npos) match = true;
      if (match) {
        ++found;
        break;
      }
    }
  }
  closedir(proc);
  return found;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

template <typename F>
double median_ms(int rounds, F&& body) {
  std::vector<double> ms;
  for (int i = 0; i < rounds; ++i) {
    auto start = Clock::now();
    body();
    ms.push_back(seconds_since(start) * 1e3);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int forks = 20000;
  int rounds = 5;
  std::vector<int> populations = {1000, 10000};
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--forks") && i + 1 < argc) forks = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--quick")) {
      forks = 4000;
      rounds = 3;
      populations = {1000};
    } else {
      std::fprintf(stderr, "usage: %s [--forks N] [--quick]\n", argv[0]);
      return 2;
    }
  }
  if (auto why = TrackerBpf::unsupported_reason(); !why.empty()) {
    std::printf("SKIP: %s\n", why.c_str());
    return 77;
  }
  auto cg2 = gthulhu::test::cgroup2_mount();
  if (!cg2) {
    std::printf("SKIP: no cgroup2 mount\n");
    return 77;
  }
  if (auto why = gthulhu::test::ensure_bpffs(); !why.empty()) {
    std::printf("SKIP: %s\n", why.c_str());
    return 77;
  }
  int workers = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  int per_worker = std::max(1, forks / workers);
  std::printf("tracker_bench: %d fork+exit per run over %d workers\n\n", per_worker * workers, workers);

  gthulhu::test::PinDir pins;
  TrackerOptions options;
  options.pin_root = pins.path();
  options.mount_bpffs = false;
  options.remove_pins_on_close = true;

  // --- 1. fork+exit ------------------------------------------------------------------
  // Modes alternate within each round so load from elsewhere on the host spreads over
  // all of them; medians are reported. Kernel run-time stats are on throughout, so
  // their own small cost is in every tracked mode.
  struct Mode {
    const char* label;
    bool tracker;
    bool events;
    std::vector<double> rates;
    std::vector<double> cpu_us;
    std::map<std::string, std::pair<uint64_t, uint64_t>> runs_and_ns;  // per program
    gthulhu_tracker_stats counters{};
    uint64_t received = 0;
  };
  Mode modes[] = {{"no tracker", false, false, {}, {}, {}, {}, 0},
                  {"tracker attached", true, false, {}, {}, {}, {}, 0},
                  {"tracker + one exit event per process", true, true, {}, {}, {}, {}, 0}};
  Launcher launcher(workers, per_worker);
  int stats_fd = TrackerBpf::enable_runtime_stats();
  if (stats_fd < 0)
    std::printf("(per-program run time unavailable: %s)\n", std::strerror(-stats_fd));

  for (int round = 0; round < rounds; ++round) {
    for (Mode& mode : modes) {
      if (!mode.tracker) {
        auto r = launcher.run();
        mode.rates.push_back(r.rate);
        mode.cpu_us.push_back(r.cpu_us_per_proc);
        continue;
      }
      std::string error;
      auto tracker = TrackerBpf::open(options, &error);
      if (!tracker || !tracker->start().empty()) {
        std::printf("FAIL: tracker: %s\n", error.c_str());
        return 1;
      }
      std::atomic<bool> stop{false};
      std::atomic<uint64_t> received{0};
      std::thread consumer([&] {
        while (!stop)
          tracker->poll(std::chrono::milliseconds(100), [&](const TrackerEvent&) { ++received; });
      });
      if (mode.events) {
        // Every process below the launcher inherits this override: each exit is an event.
        gthulhu_policy override{};
        override.policy_id = 1;
        override.flags = GTHULHU_POLICY_APPLY;
        override.weight = gthulhu_weight_of(0);
        tracker->policy_maps().set_process_override(static_cast<uint32_t>(launcher.pid()), override);
      }
      auto progs_before = by_name(tracker->program_stats());
      auto before = tracker->stats();
      auto r = launcher.run();
      mode.rates.push_back(r.rate);
      mode.cpu_us.push_back(r.cpu_us_per_proc);
      auto progs_after = by_name(tracker->program_stats());
      tracker->policy_maps().clear_process_override(static_cast<uint32_t>(launcher.pid()));
      std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the consumer drains
      auto after = tracker->stats();
      stop = true;
      consumer.join();
      for (const auto& [name, p] : progs_after) {
        mode.runs_and_ns[name].first += p.run_count - progs_before[name].run_count;
        mode.runs_and_ns[name].second += p.run_time_ns - progs_before[name].run_time_ns;
      }
      mode.counters.forks += after.forks - before.forks;
      mode.counters.exits += after.exits - before.exits;
      mode.counters.overrides_inherited += after.overrides_inherited - before.overrides_inherited;
      mode.counters.events_sent += after.events_sent - before.events_sent;
      mode.counters.events_lost += after.events_lost - before.events_lost;
      mode.counters.proc_table_full += after.proc_table_full - before.proc_table_full;
      mode.received += received;
    }
  }
  if (stats_fd >= 0) close(stats_fd);

  double base_cpu = median(modes[0].cpu_us);
  for (Mode& mode : modes) {
    double cpu = median(mode.cpu_us);
    std::printf("fork+exit, %-38s %8.0f processes/s, %6.1f us CPU per process", mode.label,
                median(mode.rates), cpu);
    if (mode.tracker) std::printf(" (%+.1f us)", cpu - base_cpu);
    std::printf("  [medians of %d]\n", rounds);
    if (!mode.tracker) continue;
    const auto& c = mode.counters;
    std::printf("  counters: forks +%llu exits +%llu overrides_inherited +%llu events_sent +%llu "
                "events_lost +%llu proc_table_full +%llu; events received %llu\n",
                (unsigned long long)c.forks, (unsigned long long)c.exits,
                (unsigned long long)c.overrides_inherited, (unsigned long long)c.events_sent,
                (unsigned long long)c.events_lost, (unsigned long long)c.proc_table_full,
                (unsigned long long)mode.received);
    if (stats_fd < 0) continue;
    double per_process_ns = 0;
    for (const auto& [name, rn] : mode.runs_and_ns) {
      if (rn.first == 0) continue;
      double avg = double(rn.second) / double(rn.first);
      std::printf("    %-14s %9llu runs %7.0f ns/run\n", name.c_str(), (unsigned long long)rn.first,
                  avg);
      if (name == "tk_fork" || name == "tk_exit") per_process_ns += avg;
    }
    std::printf("  tracker work per process (fork + exit programs): %.0f ns = capacity for "
                "%.0f processes/s per CPU\n", per_process_ns, 1e9 / per_process_ns);
  }

  std::string error;
  auto tracker = TrackerBpf::open(options, &error);
  if (!tracker || !tracker->start().empty()) {
    std::printf("FAIL: tracker: %s\n", error.c_str());
    return 1;
  }
  std::printf("verifier: ");
  for (const auto& p : tracker->program_stats())
    std::printf("%s %llu insns  ", p.name.c_str(), (unsigned long long)p.verified_insns);
  std::printf("\n");

  // --- 2. pods -> pids ----------------------------------------------------------------
  for (int population : populations) {
    gthulhu::test::CgroupTree tree(*cg2);
    constexpr int kPods = 10;
    std::vector<std::string> markers;
    std::unordered_set<uint64_t> pod_ids;
    std::vector<std::string> dirs;
    for (int p = 0; p < kPods; ++p) {
      char uid[64];
      std::snprintf(uid, sizeof(uid), "0000000%d_1111_2222_3333_444455556666", p);
      std::string dir = tree.make(std::string("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod") +
                                  uid + ".slice/cri-containerd-" + std::string(64, 'a' + p) + ".scope");
      dirs.push_back(dir);
      markers.push_back(std::string("pod") + uid);
      pod_ids.insert(gthulhu::test::cgroup_id_of(dir));
    }
    // Children park in pause(); the tree's destructor kills them (cgroup.kill).
    std::vector<pid_t> kids;
    for (int i = 0; i < population; ++i) {
      pid_t kid = fork();
      if (kid == 0) {
        pause();
        _exit(0);
      }
      if (kid < 0) break;
      gthulhu::test::CgroupTree::move(dirs[i % kPods], kid);
      kids.push_back(kid);
    }
    size_t via_tracker = 0, via_proc = 0;
    double tracker_ms = median_ms(9, [&] { via_tracker = tracker->processes_in(pod_ids).size(); });
    double proc_ms = median_ms(5, [&] { via_proc = proc_scan(markers); });
    std::printf("\npods -> pids, %d processes in %d pods (%zu processes on the host):\n",
                population, kPods, tracker->processes().size());
    std::printf("  tracker proc_table: %8.2f ms  (%zu pids)\n", tracker_ms, via_tracker);
    std::printf("  /proc/*/cgroup scan:%8.2f ms  (%zu pids)  -> %.1fx slower\n", proc_ms, via_proc,
                proc_ms / tracker_ms);
    for (pid_t kid : kids) kill(kid, SIGKILL);
    for (pid_t kid : kids) waitpid(kid, nullptr, 0);
  }
  return 0;
}
