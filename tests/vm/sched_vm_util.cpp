#include "tests/vm/sched_vm_util.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <cmath>
#include <cstdarg>
#include <functional>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace gthulhu::vmtest {

bool Checker::check(bool ok, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::printf("%s: %s ", test_.c_str(), ok ? "ok  " : "FAIL");
  std::vprintf(fmt, ap);
  std::printf("\n");
  va_end(ap);
  std::fflush(stdout);
  if (!ok) failures_++;
  return ok;
}

void Checker::info(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::printf("%s: ", test_.c_str());
  std::vprintf(fmt, ap);
  std::printf("\n");
  va_end(ap);
  std::fflush(stdout);
}

int Checker::finish() {
  std::printf("%s: %s\n", test_.c_str(), failures_ ? "FAILED" : "PASSED");
  std::fflush(stdout);
  return failures_ ? 1 : 0;
}

double now_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool write_text(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = ::write(fd, text.data(), text.size());
  int err = errno;
  ::close(fd);
  errno = err;
  return n == static_cast<ssize_t>(text.size());
}

std::string ensure_cgroup2() {
  if (::access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0) return "";
  ::mkdir("/sys/fs/cgroup", 0755);
  if (::mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, nullptr) != 0)
    return std::string("mount cgroup2 on /sys/fs/cgroup: ") + std::strerror(errno);
  return "";
}

Cgroup::Cgroup(const std::string& relative_path) : path_("/sys/fs/cgroup/" + relative_path) {
  if (::mkdir(path_.c_str(), 0755) != 0 && errno != EEXIST) {
    std::printf("cgroup: mkdir %s: %s\n", path_.c_str(), std::strerror(errno));
    return;
  }
  struct stat st;
  if (::stat(path_.c_str(), &st) == 0) id_ = st.st_ino;
}

Cgroup::~Cgroup() {
  kill_all();
  // The kernel frees a cgroup once its last task is reaped: retry for a while.
  for (int i = 0; i < 200; i++) {
    if (::rmdir(path_.c_str()) == 0 || errno == ENOENT) return;
    if (errno != EBUSY) break;
    ::usleep(10 * 1000);
  }
  std::printf("cgroup: rmdir %s: %s\n", path_.c_str(), std::strerror(errno));
}

uint64_t Cgroup::usage_usec() const { return cpu_stat("usage_usec"); }

uint64_t Cgroup::cpu_stat(const std::string& want) const {
  std::istringstream in(read_text(path_ + "/cpu.stat"));
  std::string key;
  uint64_t value;
  while (in >> key >> value)
    if (key == want) return value;
  return 0;
}

bool Cgroup::set(const std::string& file, const std::string& value) const {
  if (write_text(path_ + "/" + file, value)) return true;
  std::printf("cgroup: write '%s' to %s/%s: %s\n", value.c_str(), path_.c_str(), file.c_str(),
              std::strerror(errno));
  return false;
}

bool enable_controllers(const std::string& path, const std::string& controllers) {
  std::string file = "/sys/fs/cgroup/" + (path.empty() ? "" : path + "/") + "cgroup.subtree_control";
  if (write_text(file, controllers)) return true;
  std::printf("cgroup: write '%s' to %s: %s\n", controllers.c_str(), file.c_str(),
              std::strerror(errno));
  return false;
}

std::vector<pid_t> Cgroup::pids() const {
  std::vector<pid_t> out;
  std::istringstream in(read_text(path_ + "/cgroup.procs"));
  for (pid_t pid; in >> pid;) out.push_back(pid);
  return out;
}

void Cgroup::kill_all() {
  if (!id_) return;
  std::vector<pid_t> victims = pids();
  // cgroup.kill (5.14+) kills the whole subtree at once.
  if (!write_text(path_ + "/cgroup.kill", "1"))
    for (pid_t pid : victims) ::kill(pid, SIGKILL);
  for (int i = 0; i < 200 && !pids().empty(); i++) {
    for (pid_t pid : victims) ::waitpid(pid, nullptr, WNOHANG);  // ours are zombies
    ::usleep(10 * 1000);
  }
}

PolicyMap::PolicyMap(const std::string& pin_path) {
  fd_ = bpf_obj_get(pin_path.c_str());
  if (fd_ < 0) std::printf("policy map: bpf_obj_get(%s): %s\n", pin_path.c_str(), std::strerror(errno));
}

PolicyMap::~PolicyMap() {
  if (fd_ >= 0) ::close(fd_);
}

bool PolicyMap::set(uint64_t key, const gthulhu_policy& policy) {
  return bpf_map_update_elem(fd_, &key, &policy, BPF_ANY) == 0;
}

bool PolicyMap::set_tgid(uint32_t tgid, const gthulhu_policy& policy) {
  return bpf_map_update_elem(fd_, &tgid, &policy, BPF_ANY) == 0;
}

bool PolicyMap::get(uint64_t key, gthulhu_policy* out) const {
  return bpf_map_lookup_elem(fd_, &key, out) == 0;
}

bool PolicyMap::erase(uint64_t key) { return bpf_map_delete_elem(fd_, &key) == 0; }

gthulhu_policy make_policy(uint32_t id, int32_t priority, uint64_t slice_ns, uint32_t flags) {
  gthulhu_policy p{};
  p.policy_id = id;
  p.priority = priority;
  p.slice_ns = slice_ns;
  p.flags = flags;
  p.weight = gthulhu_weight_of(priority);
  return p;
}

agent::SchedulerOptions test_options(const std::string& test) {
  agent::SchedulerOptions o;
  o.pin_root = "/sys/fs/bpf/gthulhu-vmtest-" + test;
  o.detach_on_destroy = true;
  return o;
}

void remove_pin_root(const std::string& pin_root) {
  if (DIR* d = ::opendir(pin_root.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") ::unlink((pin_root + "/" + name).c_str());
    }
    ::closedir(d);
  }
  ::rmdir(pin_root.c_str());
}

pid_t spawn_worker(const Cgroup& cg, const std::vector<std::string>& args) {
  std::vector<std::string> full = {"/proc/self/exe", "--worker"};
  full.insert(full.end(), args.begin(), args.end());
  return spawn_in_cgroup(cg, full);
}

pid_t spawn_in_cgroup(const Cgroup& cg, std::vector<std::string> args) {
  int cg_fd = ::open(cg.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg_fd < 0) return -1;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  clone_args ca{};
  ca.flags = CLONE_INTO_CGROUP;
  ca.exit_signal = SIGCHLD;
  ca.cgroup = static_cast<uint64_t>(cg_fd);
  // A raw clone3 without CLONE_VM behaves like fork(); the child only execs.
  long pid = ::syscall(SYS_clone3, &ca, sizeof(ca));
  if (pid == 0) {
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int err = errno;
  ::close(cg_fd);
  if (pid < 0) {
    std::printf("spawn_worker: clone3(CLONE_INTO_CGROUP %s): %s\n", cg.path().c_str(),
                std::strerror(err));
    return -1;
  }
  return static_cast<pid_t>(pid);
}

int wait_worker(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

namespace {

double thread_cpu_s() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

void sleep_until(double t) {
  timespec ts;
  ts.tv_sec = static_cast<time_t>(t);
  ts.tv_nsec = static_cast<long>((t - static_cast<double>(ts.tv_sec)) * 1e9);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

// Busy work the compiler cannot remove.
inline void spin(int iterations) {
  for (int i = 0; i < iterations; i++) asm volatile("" ::: "memory");
}

inline void spin_chunk() { spin(10000); }

int worker_spin(int threads, double start, double seconds, const std::string& out) {
  std::atomic<uint64_t> total{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; i++)
    ts.emplace_back([&] {
      sleep_until(start);
      double end = start + seconds;
      uint64_t n = 0;
      while (now_s() < end) {
        spin_chunk();
        n++;
      }
      total += n;
    });
  for (auto& t : ts) t.join();
  if (!out.empty()) {
    std::ofstream f(out);
    f << "work " << total.load() << "\n";
  }
  return 0;
}

int worker_pinspin(int cpu, int threads, double start, double seconds, const std::string& out) {
  // The whole process: threads inherit the mask, and the main thread waits there too.
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (::sched_setaffinity(0, sizeof(set), &set) != 0) return 1;
  std::atomic<uint64_t> total{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; i++)
    ts.emplace_back([&] {
      sleep_until(start);
      double end = start + seconds;
      uint64_t n = 0;
      while (now_s() < end) {
        spin_chunk();
        n++;
      }
      total += n;
    });
  for (auto& t : ts) t.join();
  if (!out.empty()) {
    std::ofstream f(out);
    f << "work " << total.load() << "\n";
  }
  return 0;
}

// The burst loop of `burst` and `burstwork`: `burst_once` does one burst.
int burst_loop(int threads, double start, double seconds, double sleep_us, const std::string& out,
               const std::function<void()>& burst_once);

int worker_burst(int threads, double start, double seconds, double burst_us, double sleep_us,
                 const std::string& out) {
  return burst_loop(threads, start, seconds, sleep_us, out, [burst_us] {
    double until = thread_cpu_s() + burst_us / 1e6;
    while (thread_cpu_s() < until) {
      spin(500);
    }
  });
}

int worker_burst_work(int threads, double start, double seconds, uint64_t iterations,
                      double sleep_us, const std::string& out) {
  return burst_loop(threads, start, seconds, sleep_us, out, [iterations] {
    for (uint64_t done = 0; done < iterations; done += 500) spin(500);
  });
}

int burst_loop(int threads, double start, double seconds, double sleep_us, const std::string& out,
               const std::function<void()>& burst_once) {
  // Timer slack would add up to 50 us to every sleep and blur what we measure.
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  std::atomic<uint64_t> bursts{0};
  std::vector<std::vector<double>> lats(threads);
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; i++)
    ts.emplace_back([&, i] {
      sleep_until(start + i * sleep_us / 1e6 / threads);  // stagger the threads
      double end = start + seconds;
      auto& lat = lats[i];
      lat.reserve(8192);
      while (now_s() < end) {
        burst_once();
        bursts++;
        double wake = now_s() + sleep_us / 1e6;
        sleep_until(wake);
        lat.push_back((now_s() - wake) * 1e6);
      }
    });
  for (auto& t : ts) t.join();
  std::ofstream f(out);
  f << "work " << bursts.load() << "\n";
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  f << "utime " << ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec << "\n";
  f << "stime " << ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec << "\n";
  for (const auto& l : lats)
    for (double v : l) f << "lat " << v << "\n";
  return 0;
}

int worker_threads(int n) {
  std::vector<std::thread> ts;
  for (int i = 0; i < n; i++)
    ts.emplace_back([] {
      for (int k = 0; k < 20; k++) spin_chunk();
    });
  for (auto& t : ts) t.join();
  return 0;
}

}  // namespace

uint64_t spin_iterations_for(double cpu_us) {
  // The fastest of a few samples: a sample the vCPU was descheduled in (the emulator
  // runs one vCPU at a time) reads as slow, never as fast.
  double best = 0;
  for (int i = 0; i < 20; i++) {
    uint64_t n = 0;
    double t0 = thread_cpu_s(), t1 = t0;
    while (t1 - t0 < 0.005) {
      spin(500);
      n += 500;
      t1 = thread_cpu_s();
    }
    best = std::max(best, n / (t1 - t0));
  }
  return static_cast<uint64_t>(best * cpu_us / 1e6);
}

bool run_worker(int argc, char** argv, int* status) {
  if (argc < 3 || std::strcmp(argv[1], "--worker") != 0) return false;
  std::string mode = argv[2];
  std::vector<std::string> a(argv + 3, argv + argc);
  if (mode == "spin" && a.size() == 4) {
    *status = worker_spin(std::stoi(a[0]), std::stod(a[1]), std::stod(a[2]), a[3]);
  } else if (mode == "burst" && a.size() == 6) {
    *status = worker_burst(std::stoi(a[0]), std::stod(a[1]), std::stod(a[2]), std::stod(a[3]),
                           std::stod(a[4]), a[5]);
  } else if (mode == "burstwork" && a.size() == 6) {
    *status = worker_burst_work(std::stoi(a[0]), std::stod(a[1]), std::stod(a[2]),
                                std::stoull(a[3]), std::stod(a[4]), a[5]);
  } else if (mode == "pinspin" && a.size() == 5) {
    *status = worker_pinspin(std::stoi(a[0]), std::stoi(a[1]), std::stod(a[2]), std::stod(a[3]), a[4]);
  } else if (mode == "threads" && a.size() == 1) {
    *status = worker_threads(std::stoi(a[0]));
  } else {
    std::fprintf(stderr, "worker: bad arguments for mode '%s'\n", mode.c_str());
    *status = 2;
  }
  return true;
}

WorkerReport read_report(const std::string& path) {
  WorkerReport r;
  std::istringstream in(read_text(path));
  std::string key;
  double v;
  while (in >> key >> v) {
    if (key == "work") r.work = static_cast<uint64_t>(v);
    else if (key == "lat") r.latencies_us.push_back(v);
    else if (key == "utime") r.utime_us = v;
    else if (key == "stime") r.stime_us = v;
  }
  return r;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t idx = static_cast<size_t>(std::ceil(p / 100.0 * values.size()));
  if (idx > 0) idx--;
  if (idx >= values.size()) idx = values.size() - 1;
  return values[idx];
}

uint64_t local_timer_interrupts() {
  std::istringstream in(read_text("/proc/interrupts"));
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string name;
    fields >> name;
    if (name != "LOC:") continue;
    uint64_t total = 0;
    for (std::string f; fields >> f;) {
      if (f.empty() || !std::isdigit(static_cast<unsigned char>(f[0]))) break;
      total += std::stoull(f);
    }
    return total;
  }
  return 0;
}

bool wait_state(const std::string& want, double timeout_s) {
  for (double end = now_s() + timeout_s; now_s() < end; ::usleep(20 * 1000))
    if (agent::SchedulerBpf::kernel_state() == want) return true;
  return false;
}

bool set_bpf_stats(bool on) {
  return write_text("/proc/sys/kernel/bpf_stats_enabled", on ? "1" : "0");
}

std::vector<ProgRunStats> prog_run_stats(const std::string& prefix) {
  std::vector<ProgRunStats> out;
  uint32_t id = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) {
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) continue;
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_prog_get_info_by_fd(fd, &info, &len) == 0 &&
        std::strncmp(info.name, prefix.c_str(), prefix.size()) == 0)
      out.push_back({info.id, info.name, info.run_cnt, info.run_time_ns});
    ::close(fd);
  }
  return out;
}

void print_prog_run_stats(const std::string& test, const std::vector<ProgRunStats>& before,
                          const std::vector<ProgRunStats>& after, double cpu_seconds) {
  uint64_t total = 0;
  std::string line;
  for (const auto& a : after) {
    uint64_t cnt = a.run_cnt, ns = a.run_time_ns;
    for (const auto& b : before)
      if (b.id == a.id) {
        cnt -= b.run_cnt;
        ns -= b.run_time_ns;
      }
    if (!cnt) continue;
    total += ns;
    char buf[160];
    std::snprintf(buf, sizeof(buf), " %s %llu x %.1f us (%.0f ms);", a.name.c_str(),
                  (unsigned long long)cnt, ns / 1e3 / cnt, ns / 1e6);
    line += buf;
  }
  std::printf("%s: bpf run time:%s total %.0f ms = %.1f%% of %.1f CPU-s\n", test.c_str(),
              line.c_str(), total / 1e6, cpu_seconds > 0 ? total / 1e7 / cpu_seconds : 0.0,
              cpu_seconds);
  std::fflush(stdout);
}

void print_sched_stats(const std::string& test, const gthulhu_sched_stats& s) {
  std::printf(
      "%s: sched_stats enqueues=%llu direct=%llu policy_dispatches=%llu "
      "default_dispatches=%llu preemptions=%llu bounces=%llu failed_dispatches=%llu "
      "lag_clamps=%llu running=%llu starvation_rescues=%llu local_picks=%llu "
      "remote_moves=%llu\n",
      test.c_str(), (unsigned long long)s.nr_enqueues,
      (unsigned long long)s.nr_direct_dispatches, (unsigned long long)s.nr_policy_dispatches,
      (unsigned long long)s.nr_default_dispatches, (unsigned long long)s.nr_preemptions,
      (unsigned long long)s.nr_bounces, (unsigned long long)s.nr_failed_dispatches,
      (unsigned long long)s.nr_lag_clamps, (unsigned long long)s.nr_running,
      (unsigned long long)s.nr_starvation_rescues, (unsigned long long)s.nr_local_picks,
      (unsigned long long)s.nr_remote_moves);
  std::fflush(stdout);
}

void print_policy_stats(const std::string& test, uint32_t id, const gthulhu_policy_stats& s) {
  double avg_run_ms = s.run_count ? s.cpu_time_ns / 1e6 / s.run_count : 0;
  double avg_wait_us = s.run_count ? s.wait_time_ns / 1e3 / s.run_count : 0;
  std::printf(
      "%s: policy %u cpu_time=%.1f ms runs=%llu avg_run=%.2f ms avg_wait=%.1f us "
      "first_enqueues=%llu\n",
      test.c_str(), id, s.cpu_time_ns / 1e6, (unsigned long long)s.run_count, avg_run_ms,
      avg_wait_us, (unsigned long long)s.first_enqueues);
  // Wait histogram, log2 buckets, labelled by their upper bound.
  std::string hist;
  for (int i = 0; i < GTHULHU_WAIT_HIST_BUCKETS; i++) {
    if (!s.wait_hist[i]) continue;
    double upper_us = static_cast<double>(1ULL << (i + 10)) / 1e3;
    char buf[64];
    if (i == GTHULHU_WAIT_HIST_BUCKETS - 1)
      std::snprintf(buf, sizeof(buf), " >=%.0fus:%llu", upper_us / 2, (unsigned long long)s.wait_hist[i]);
    else if (upper_us < 1000)
      std::snprintf(buf, sizeof(buf), " <%.0fus:%llu", upper_us, (unsigned long long)s.wait_hist[i]);
    else
      std::snprintf(buf, sizeof(buf), " <%.1fms:%llu", upper_us / 1e3, (unsigned long long)s.wait_hist[i]);
    hist += buf;
  }
  std::printf("%s: policy %u wait histogram:%s\n", test.c_str(), id, hist.c_str());
  std::fflush(stdout);
}

}  // namespace gthulhu::vmtest

namespace gthulhu::vmtest {

int test_main(int argc, char** argv, const std::string& name,
              const std::function<void(Checker&, const std::vector<std::string>&)>& body) {
  int status = 0;
  if (run_worker(argc, argv, &status)) return status;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  Checker c(name);
  auto sup = agent::SchedulerBpf::support();
  if (!sup.available) {
    std::printf("%s: SKIP %s\n", name.c_str(), sup.reason.c_str());
    return 77;
  }
  if (auto err = ensure_cgroup2(); !err.empty()) {
    c.check(false, "%s", err.c_str());
    return c.finish();
  }
  try {
    body(c, std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    c.check(false, "exception: %s", e.what());
  }
  // A failed test must not leave its scheduler attached for the next one.
  if (agent::SchedulerBpf::kernel_ops() == "gthulhu") {
    try {
      auto opts = test_options(name);
      opts.adopt_running = true;
      agent::SchedulerBpf leftover(opts);
      leftover.detach();
      c.info("detached a leftover scheduler");
    } catch (const std::exception& e) {
      c.check(false, "cleanup: %s", e.what());
    }
  }
  remove_pin_root(test_options(name).pin_root);
  return c.finish();
}

}  // namespace gthulhu::vmtest
