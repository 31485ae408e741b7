// Agent benchmarks (root, real host kernel, the real gthulhu-agent binary):
//   1. commandRegex match to BPF override: a process execs in a watched pod. Two figures
//      over the same execs: the agent's own histogram gthulhu_agent_exec_to_override_seconds
//      (kernel exec timestamp -> map write returned: ring buffer, wakeup, RE2 match, map
//      update), read from /metrics before and after; and the older user-space figure,
//      from just before execve to the policy_by_tgid entry being visible to the bench
//      (which includes the exec itself and the bench's own polling).
//   2. the agent's idle cost: CPU time and RSS over an idle window with intents applied.
// Prints a plain-text report; exit code 0 unless something failed to run.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/bpf/pinned_policy_maps.h"
#include "agent/bpf/tracker_bpf.h"
#include "bench/figures.h"
#include "common/http/client.h"
#include "tests/integration/host_sandbox.h"
#include "tests/support/loopback.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

const char* kSecret = "bench-secret-0123456789abcdef";
const char* kPodUid = "beefbeef-0000-4000-8000-0000000000be";


double now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct ProcSample {
  double cpu_seconds = 0;
  long rss_kb = 0;
};

ProcSample sample(pid_t pid) {
  ProcSample s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), {});
  auto close = content.rfind(')');
  std::istringstream rest(content.substr(close + 2));
  std::string field;
  unsigned long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoul(field);
    if (i == 15) stime = std::stoul(field);
  }
  s.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::stol(line.substr(6));
  }
  return s;
}

// Cumulative buckets (le -> count) of one histogram in a Prometheus text exposition.
std::vector<std::pair<double, double>> histogram_buckets(const std::string& text, const std::string& name) {
  std::vector<std::pair<double, double>> out;
  const std::string prefix = name + "_bucket{le=\"";
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    const auto end = line.find('"', prefix.size());
    const auto le_text = line.substr(prefix.size(), end - prefix.size());
    const double le = le_text == "+Inf" ? INFINITY : std::stod(le_text);
    out.emplace_back(le, std::stod(line.substr(line.rfind(' ') + 1)));
  }
  return out;
}

// The q-quantile of the observations between two scrapes, interpolated linearly inside
// its bucket (as PromQL's histogram_quantile); NAN when nothing was observed.
double histogram_quantile(const std::vector<std::pair<double, double>>& before,
                          const std::vector<std::pair<double, double>>& after, double q) {
  if (after.empty() || before.size() != after.size()) return NAN;
  std::vector<double> delta;
  for (size_t i = 0; i < after.size(); ++i) delta.push_back(after[i].second - before[i].second);
  const double total = delta.back();
  if (total <= 0) return NAN;
  const double rank = q * total;
  for (size_t i = 0; i < delta.size(); ++i) {
    if (delta[i] < rank) continue;
    const double lo = i == 0 ? 0 : after[i - 1].first;
    const double below = i == 0 ? 0 : delta[i - 1];
    const double hi = std::isinf(after[i].first) ? lo : after[i].first;
    const double in_bucket = delta[i] - below;
    return in_bucket <= 0 ? hi : lo + (hi - lo) * (rank - below) / in_bucket;
  }
  return NAN;
}

std::string uptime_load() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int execs = quick ? 50 : 300;
  const int idle_seconds = quick ? 5 : 20;
  if (geteuid() != 0) {
    std::printf("agent_bench: skipped: needs root\n");
    return 0;
  }
  if (auto why = gthulhu::agent::TrackerBpf::unsupported_reason(); !why.empty()) {
    std::printf("agent_bench: skipped: %s\n", why.c_str());
    return 0;
  }
  auto cg2 = gthulhu::test::cgroup2_mount();
  if (!cg2 || !gthulhu::test::ensure_bpffs().empty()) {
    std::printf("agent_bench: skipped: no cgroup2 or bpffs\n");
    return 0;
  }
  gthulhu::test::CgroupTree tree(*cg2);
  std::string uid_us = kPodUid;
  std::replace(uid_us.begin(), uid_us.end(), '-', '_');
  const std::string ctr = tree.make("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uid_us +
                                    ".slice/cri-containerd-" + std::string(64, 'f') + ".scope");
  gthulhu::test::PinDir pins;
  gthulhu::test::TempDir state;
  const int port = gthulhu::test::free_loopback_port();
  const pid_t agent = fork();
  if (agent == 0) {
    setenv("GTHULHU_AGENT_PIN_ROOT", pins.path().c_str(), 1);
    setenv("GTHULHU_AGENT_STATE_DIR", state.path().c_str(), 1);
    setenv("GTHULHU_AGENT_CGROUP_ROOT", cg2->c_str(), 1);
    setenv("GTHULHU_SERVER_LISTEN", ("127.0.0.1:" + std::to_string(port)).c_str(), 1);
    setenv("GTHULHU_AUTH_CLIENT_SECRET", kSecret, 1);
    setenv("GTHULHU_LOG_LEVEL", "error", 1);
    execl(GTHULHU_AGENT_BINARY, "gthulhu-agent", nullptr);
    _exit(98);
  }
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  gthulhu::http::Client client;
  if (!gthulhu::test::eventually([&] { return client.get(base + "/health").response.status == 200; }, 15s)) {
    std::printf("agent_bench: the agent did not start\n");
    kill(agent, SIGKILL);
    return 1;
  }
  auto tok = client.post_json(base + "/api/v1/auth/token", json{{"secret", kSecret}}.dump());
  const std::string token = json::parse(tok.response.body)["data"]["token"];
  auto posted = client.post_json(
      base + "/api/v1/intents",
      json{{"intents", {{{"id", "bench"}, {"podID", kPodUid}, {"priority", 10}, {"commandRegex", "^benchmatch$"}}}}}.dump(),
      {"Authorization: Bearer " + token});
  if (posted.response.status != 200) {
    std::printf("agent_bench: posting the intent failed: %s\n", posted.response.body.c_str());
    kill(agent, SIGKILL);
    return 1;
  }
  std::string err;
  auto maps = gthulhu::agent::PinnedPolicyMaps::open(pins.path(), &err);
  if (!maps) {
    std::printf("agent_bench: %s\n", err.c_str());
    kill(agent, SIGKILL);
    return 1;
  }
  // The matching program: a copy of /bin/sleep named "benchmatch".
  gthulhu::test::TempDir bins;
  const std::string prog = (bins.path() / "benchmatch").string();
  fs::copy_file("/bin/sleep", prog);

  const char* kHistogram = "gthulhu_agent_exec_to_override_seconds";
  const auto hist_before = histogram_buckets(client.get(base + "/metrics").response.body, kHistogram);
  std::vector<double> latencies;
  int missed = 0;
  for (int i = 0; i < execs; ++i) {
    int sync[2];
    if (pipe(sync) != 0) return 1;
    const pid_t child = fork();
    if (child == 0) {
      gthulhu::test::CgroupTree::move(ctr, getpid());
      char go;
      close(sync[1]);
      if (read(sync[0], &go, 1) != 1) _exit(1);
      execl(prog.c_str(), "benchmatch", "5", nullptr);
      _exit(99);
    }
    close(sync[0]);
    // The child is in the pod and waits; time starts when it is released into execve.
    std::this_thread::sleep_for(2ms);
    const double t0 = now_ms();
    if (write(sync[1], "x", 1) != 1) return 1;
    close(sync[1]);
    bool seen = false;
    while (now_ms() - t0 < 1000) {
      if (maps->process_override(static_cast<uint32_t>(child))) {
        latencies.push_back(now_ms() - t0);
        seen = true;
        break;
      }
      std::this_thread::sleep_for(20us);
    }
    if (!seen) ++missed;
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
  }
  const auto hist_after = histogram_buckets(client.get(base + "/metrics").response.body, kHistogram);
  const double matched = hist_after.empty() ? 0 : hist_after.back().second - (hist_before.empty() ? 0 : hist_before.back().second);
  const double k50 = histogram_quantile(hist_before, hist_after, 0.50) * 1e3;
  const double k99 = histogram_quantile(hist_before, hist_after, 0.99) * 1e3;
  const double u50 = percentile(latencies, 0.50), u99 = percentile(latencies, 0.99);
  std::printf("== exec -> BPF override (commandRegex), %d execs in a watched pod (load average %s)\n", execs,
              uptime_load().c_str());
  std::printf("   kernel exec timestamp -> override written (agent histogram %s, %.0f matches):\n", kHistogram,
              matched);
  std::printf("      p50 %.3f ms  p99 %.3f ms (target p99 < 1 ms)\n", k50, k99);
  std::printf("   user space, before execve -> entry visible to the bench (includes the exec):\n");
  std::printf("      p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms  missed %d\n", u50,
              percentile(latencies, 0.90), u99,
              latencies.empty() ? 0.0 : *std::max_element(latencies.begin(), latencies.end()), missed);
  using gthulhu::bench::Figure;
  const std::string user_name = "user space before execve -> entry visible";
  gthulhu::bench::record(Figure{"agent", "exec -> override p50 (kernel exec timestamp, histogram)", k50, "ms",
                                user_name + " p50", u50});
  gthulhu::bench::record(Figure{"agent", "exec -> override p99 (kernel exec timestamp, histogram)", k99, "ms",
                                user_name + " p99", u99});

  // Idle: no requests, no processes starting in pods (the host's own activity goes on).
  std::this_thread::sleep_for(1s);
  const auto a = sample(agent);
  const double t0 = now_ms();
  std::this_thread::sleep_for(std::chrono::seconds(idle_seconds));
  const auto b = sample(agent);
  const double wall = (now_ms() - t0) / 1e3;
  std::printf("== agent idle over %.0f s: CPU %.3f%% of one core, RSS %.1f MB (targets < 0.5%%, < 20 MB; load average %s)\n",
              wall, 100.0 * (b.cpu_seconds - a.cpu_seconds) / wall, static_cast<double>(b.rss_kb) / 1024.0,
              uptime_load().c_str());
  kill(agent, SIGTERM);
  waitpid(agent, nullptr, 0);
  return 0;
}
