// The agent daemon end to end on the host: the real gthulhu-agent binary, real BPF
// tracker, real cgroup v2 trees for four runtime/driver layouts, real processes, and the
// REST API. The agent runs in a private mount namespace whose /proc is an empty tmpfs,
// so everything it reports about processes provably came from the tracker, not from a
// /proc scan. Root only; skips with the reason otherwise.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent/bpf/pinned_policy_maps.h"
#include "agent/bpf/tracker_bpf.h"
#include "common/http/client.h"
#include "tests/integration/host_sandbox.h"
#include "tests/support/loopback.h"
#include "tests/support/temp_dir.h"

namespace gthulhu::agent {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

const std::string kSecret = "integration-secret-0123456789";

struct PodLayout {
  std::string name;
  std::string uid;
  std::string container_dir;  // relative to the sandbox root
  std::string container_id;
};

std::string underscores(std::string s) {
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

std::vector<PodLayout> layouts() {
  const std::string a = "aaaaaaaa-0000-4000-8000-00000000000a", b = "bbbbbbbb-0000-4000-8000-00000000000b",
                    c = "cccccccc-0000-4000-8000-00000000000c", d = "dddddddd-0000-4000-8000-00000000000d";
  const std::string ia(64, 'a'), ib(64, 'b'), ic(64, 'c'), id(64, 'd');
  return {
      {"systemd-containerd", a,
       "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + underscores(a) + ".slice/cri-containerd-" + ia + ".scope",
       ia},
      {"cgroupfs-crio", b, "kubepods/besteffort/pod" + b + "/crio-" + ib, ib},
      {"kind-nested", c,
       "kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" +
           underscores(c) + ".slice/cri-containerd-" + ic + ".scope",
       ic},
      {"systemd-docker-guaranteed", d, "kubepods.slice/kubepods-pod" + underscores(d) + ".slice/docker-" + id + ".scope",
       id},
  };
}

// Starts the agent binary in a private mount namespace with an empty /proc.
pid_t start_agent(const std::string& pin_root, const std::string& state_dir, const std::string& cgroup_root, int port) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      mount("none", "/proc", "tmpfs", 0, "size=64k") != 0) {
    _exit(97);
  }
  setenv("GTHULHU_AGENT_PIN_ROOT", pin_root.c_str(), 1);
  setenv("GTHULHU_AGENT_STATE_DIR", state_dir.c_str(), 1);
  setenv("GTHULHU_AGENT_CGROUP_ROOT", cgroup_root.c_str(), 1);
  setenv("GTHULHU_AGENT_NODE_NAME", "it-node", 1);
  setenv("GTHULHU_SERVER_LISTEN", ("127.0.0.1:" + std::to_string(port)).c_str(), 1);
  setenv("GTHULHU_AUTH_CLIENT_SECRET", kSecret.c_str(), 1);
  setenv("GTHULHU_LOG_LEVEL", "warn", 1);
  execl(GTHULHU_AGENT_BINARY, "gthulhu-agent", nullptr);
  _exit(98);
}


class AgentProcess {
 public:
  AgentProcess(const std::string& pin_root, const std::string& state, const std::string& cg_root)
      : port_(test::free_loopback_port()), pid_(start_agent(pin_root, state, cg_root, port_)) {}
  ~AgentProcess() { kill(SIGTERM); }
  void kill(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  bool ready() {
    return test::eventually([&] {
      http::Client c;
      auto r = c.get(url("/health"));
      return r.ok && r.response.status == 200;
    }, 15s);
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  pid_t pid() const { return pid_; }
  json call(const std::string& method, const std::string& path, const json& body = nullptr, long* status = nullptr) {
    http::Client c;
    if (token_.empty()) {
      auto t = c.post_json(url("/api/v1/auth/token"), json{{"client_id", "it"}, {"secret", kSecret}}.dump());
      token_ = json::parse(t.response.body)["data"]["token"];
    }
    auto r = c.request(method, url(path), body.is_null() ? "" : body.dump(),
                       {"Authorization: Bearer " + token_, "Content-Type: application/json"});
    if (status) *status = r.response.status;
    return r.ok ? json::parse(r.response.body) : json();
  }

 private:
  int port_;
  pid_t pid_;
  std::string token_;
};

// A copy of the threads helper named `comm`, started in `cgroup_dir` (moved before exec,
// so the exec happens inside the pod: what a container runtime does).
test::Child start_process(const std::string& bin_dir, const std::string& comm, const std::string& cgroup_dir,
                          int threads = 3) {
  const std::string path = bin_dir + "/" + comm;
  if (!fs::exists(path)) fs::copy_file(GTHULHU_THREADS_HELPER, path);
  fs::permissions(path, fs::perms::owner_all);
  return test::Child::spawn([=] {
    test::CgroupTree::move(cgroup_dir, getpid());
    const std::string n = std::to_string(threads);
    execl(path.c_str(), comm.c_str(), n.c_str(), "60", nullptr);
    return 99;
  });
}

class AgentHost : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (BPF programs, cgroups)";
    if (auto why = TrackerBpf::unsupported_reason(); !why.empty()) GTEST_SKIP() << why;
    auto mount = test::cgroup2_mount();
    if (!mount) GTEST_SKIP() << "no cgroup2 filesystem mounted";
    if (auto err = test::ensure_bpffs(); !err.empty()) GTEST_SKIP() << err;
    cgroup2_ = *mount;
    tree_ = std::make_unique<test::CgroupTree>(cgroup2_);
    for (const auto& l : layouts()) dirs_[l.name] = tree_->make(l.container_dir);
  }
  std::string cgroup2_;
  std::unique_ptr<test::CgroupTree> tree_;
  std::map<std::string, std::string> dirs_;
  test::PinDir pins_;
  test::TempDir state_;
  test::TempDir bins_;
};

// One sample of the agent's /metrics ("name value" without labels); NAN when absent.
double metric_value(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return NAN;
}

json find_pod(const json& pods, const std::string& uid) {
  for (const auto& p : pods) {
    if (p["pod_uid"] == uid) return p;
  }
  return json();
}

}  // namespace

TEST_F(AgentHost, TrackerDrivenPoliciesForFourLayoutsWithoutProc) {
  AgentProcess agent(pins_.path(), state_.path().string(), cgroup2_);
  ASSERT_TRUE(agent.ready()) << "agent did not become healthy";
  // The agent's /proc is an empty tmpfs: whatever it reports did not come from /proc.
  {
    std::ifstream mi("/proc/" + std::to_string(agent.pid()) + "/mountinfo");
    std::string line, proc_fstype;
    while (std::getline(mi, line)) {
      std::istringstream fields(line);
      std::string id, parent, dev, root, mount_point;
      fields >> id >> parent >> dev >> root >> mount_point;
      const auto dash = line.find(" - ");
      if (mount_point == "/proc" && dash != std::string::npos) {
        proc_fstype = line.substr(dash + 3, line.find(' ', dash + 3) - dash - 3);  // the last mount wins
      }
    }
    ASSERT_EQ(proc_fstype, "tmpfs") << "the agent must run with an empty /proc";
  }
  const auto L = layouts();
  long status = 0;
  json body = {{"intents",
                {{{"id", "a"}, {"podID", L[0].uid}, {"podName", "a-0"}, {"priority", 7}, {"executionTime", 4000000}},
                 {{"id", "b"}, {"podID", L[1].uid}, {"priority", 12}, {"commandRegex", "^target$"}},
                 {{"id", "c"}, {"podID", L[2].uid}, {"priority", -3}, {"executionTime", 30000000}},
                 {{"id", "d"}, {"podID", L[3].uid}, {"priority", 1}}}}};
  auto posted = agent.call("POST", "/api/v1/intents", body, &status);
  ASSERT_EQ(status, 200) << posted.dump();

  // Processes started after the intents: the tracker reports them; no poll runs.
  auto pa = start_process(bins_.path(), "app-a", dirs_["systemd-containerd"]);
  auto pb_match = start_process(bins_.path(), "target", dirs_["cgroupfs-crio"], 4);
  auto pb_other = start_process(bins_.path(), "sidecar", dirs_["cgroupfs-crio"]);
  auto pc = start_process(bins_.path(), "app-c", dirs_["kind-nested"]);
  auto pd = start_process(bins_.path(), "app-d", dirs_["systemd-docker-guaranteed"]);

  // pods/pids lists every pod with its processes and container ids. Wait for the event
  // meant, each exec seen (the command is the new one), not for the processes to
  // appear: the fork is reported first, under the test binary's name.
  const std::map<std::string, std::multiset<std::string>> want_commands = {
      {L[0].uid, {"app-a"}}, {L[1].uid, {"target", "sidecar"}}, {L[2].uid, {"app-c"}},
      {L[3].uid, {"app-d"}}};
  json pods;
  ASSERT_TRUE(test::eventually([&] {
    pods = agent.call("GET", "/api/v1/pods/pids")["data"]["pods"];
    for (const auto& [uid, commands] : want_commands) {
      auto p = find_pod(pods, uid);
      if (p.is_null()) return false;
      std::multiset<std::string> seen;
      for (const auto& proc : p["processes"]) seen.insert(proc.value("command", ""));
      if (seen != commands) return false;
    }
    return true;
  }, 30s)) << pods.dump(2);
  for (const auto& l : L) {
    auto p = find_pod(pods, l.uid);
    EXPECT_EQ(p["processes"][0]["container_id"], l.container_id) << l.name;
  }
  auto pa_json = find_pod(pods, L[0].uid)["processes"][0];
  EXPECT_EQ(pa_json["pid"], pa.pid());
  EXPECT_EQ(pa_json["command"], "app-a");

  // strategies: the right priority per process; the regex matched only "target".
  std::map<int, json> rows;
  json strategies;
  ASSERT_TRUE(test::eventually([&] {
    rows.clear();
    strategies = agent.call("GET", "/api/v1/scheduling/strategies");
    for (const auto& r : strategies["scheduling"]) rows[r["pid"].get<int>()] = r;
    return rows.size() == 4;
  }, 30s)) << strategies.dump(2) << "\nintents: " << agent.call("GET", "/api/v1/intents").dump(2);
  EXPECT_EQ(rows[pa.pid()]["priority"], 7);
  EXPECT_EQ(rows[pa.pid()]["execution_time"], 4000000);
  EXPECT_EQ(rows[pb_match.pid()]["priority"], 12);
  EXPECT_FALSE(rows.count(pb_other.pid()));
  EXPECT_EQ(rows[pc.pid()]["priority"], -3);
  EXPECT_EQ(rows[pd.pid()]["priority"], 1);

  // The kernel maps: pod and container cgroup ids hold the policies; the matched
  // process has an override keyed by its tgid, which every one of its threads shares.
  std::string err;
  auto maps = PinnedPolicyMaps::open(pins_.path(), &err);
  ASSERT_TRUE(maps) << err;
  auto container_policy = maps->cgroup_policy(test::cgroup_id_of(dirs_["systemd-containerd"]));
  ASSERT_TRUE(container_policy);
  EXPECT_EQ(container_policy->priority, 7);
  auto pod_policy = maps->cgroup_policy(test::cgroup_id_of(fs::path(dirs_["systemd-containerd"]).parent_path()));
  ASSERT_TRUE(pod_policy);
  EXPECT_EQ(pod_policy->priority, 7);
  auto kind_policy = maps->cgroup_policy(test::cgroup_id_of(dirs_["kind-nested"]));
  ASSERT_TRUE(kind_policy);
  EXPECT_EQ(kind_policy->slice_ns, 30000000u);
  auto crio = maps->cgroup_policy(test::cgroup_id_of(dirs_["cgroupfs-crio"]));
  ASSERT_TRUE(crio);
  EXPECT_EQ(crio->flags, static_cast<uint32_t>(GTHULHU_POLICY_WATCH_EXEC)) << "regex-only pod: watch, no pod-wide policy";
  auto ov = maps->process_override(static_cast<uint32_t>(pb_match.pid()));
  ASSERT_TRUE(ov);
  EXPECT_EQ(ov->priority, 12);
  EXPECT_FALSE(maps->process_override(static_cast<uint32_t>(pb_other.pid())));
  // Threads: the test (not the agent) reads /proc to show each thread's tgid is the key.
  // The helper starts its threads after exec: wait until all of them exist.
  auto count_threads = [&] {
    int n = 0;
    std::error_code ec;
    for (const auto& t : fs::directory_iterator("/proc/" + std::to_string(pb_match.pid()) + "/task", ec)) {
      std::ifstream st(t.path() / "status");
      std::string line;
      while (std::getline(st, line)) {
        if (line.rfind("Tgid:", 0) == 0 && std::stoi(line.substr(5)) == pb_match.pid()) ++n;
      }
    }
    return n;
  };
  int threads = 0;
  test::eventually([&] { return (threads = count_threads()) == 5; }, 30s);
  EXPECT_EQ(threads, 5) << "leader + 4 threads, all covered by the tgid override";
}

TEST_F(AgentHost, Kill9KeepsPoliciesAndRestartRestoresIntents) {
  const auto L = layouts();
  const uint64_t container = test::cgroup_id_of(dirs_["systemd-containerd"]);
  {
    AgentProcess agent(pins_.path(), state_.path().string(), cgroup2_);
    ASSERT_TRUE(agent.ready());
    long status = 0;
    agent.call("POST", "/api/v1/intents",
               {{"generation", 41}, {"intents", {{{"id", "a"}, {"podID", L[0].uid}, {"priority", 9}}}}}, &status);
    ASSERT_EQ(status, 200);
    agent.kill(SIGKILL);
  }
  std::string err;
  auto maps = PinnedPolicyMaps::open(pins_.path(), &err);
  ASSERT_TRUE(maps) << err;
  auto kept = maps->cgroup_policy(container);
  ASSERT_TRUE(kept) << "the pinned policy must survive the agent's death";
  EXPECT_EQ(kept->priority, 9);

  AgentProcess again(pins_.path(), state_.path().string(), cgroup2_);
  ASSERT_TRUE(again.ready());
  auto listed = again.call("GET", "/api/v1/intents");
  EXPECT_EQ(listed["data"]["generation"], 41);
  EXPECT_EQ(listed["data"]["results"][0]["state"], "applied");
  // A delta against the restored generation applies.
  long status = 0;
  again.call("POST", "/api/v1/intents",
             {{"baseGeneration", 41}, {"generation", 42}, {"upserts", {{{"id", "a"}, {"podID", L[0].uid}, {"priority", 2}}}}},
             &status);
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(test::eventually([&] {
    auto p = maps->cgroup_policy(container);
    return p && p->priority == 2;
  }));
}

TEST_F(AgentHost, PodCreatedAfterTheIntentGetsItsPolicyFromTheMkdirEvent) {
  AgentProcess agent(pins_.path(), state_.path().string(), cgroup2_);
  ASSERT_TRUE(agent.ready());
  const std::string uid = "eeeeeeee-0000-4000-8000-00000000000e";
  long status = 0;
  auto r = agent.call("POST", "/api/v1/intents", {{"intents", {{{"id", "late"}, {"podID", uid}, {"priority", 5}}}}}, &status);
  ASSERT_EQ(status, 200);
  EXPECT_EQ(r["data"]["results"][0]["state"], "waiting");
  // kubelet creates the pod slice, then the runtime the container scope under it.
  const std::string pod = tree_->make("kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" +
                                      underscores(uid) + ".slice");
  const std::string ctr = tree_->make(fs::path(pod).lexically_relative(tree_->root()).string() +
                                      "/cri-containerd-" + std::string(64, 'e') + ".scope");
  std::string err;
  auto maps = PinnedPolicyMaps::open(pins_.path(), &err);
  ASSERT_TRUE(maps) << err;
  EXPECT_TRUE(test::eventually([&] {
    auto p = maps->cgroup_policy(test::cgroup_id_of(ctr));
    return p && p->priority == 5;
  })) << "the container cgroup must get the pod's policy";
  EXPECT_TRUE(test::eventually([&] {
    auto l = agent.call("GET", "/api/v1/intents");
    return l["data"]["results"][0]["state"] == "applied";
  }));
}

// gthulhu_agent_exec_to_override_seconds counts each commandRegex match once, with its
// kernel-exec-to-map-write time; an exec that does not match is not counted.
TEST_F(AgentHost, ExecToOverrideHistogramCountsEachMatch) {
  AgentProcess agent(pins_.path(), state_.path().string(), cgroup2_);
  ASSERT_TRUE(agent.ready());
  const auto L = layouts();
  long status = 0;
  agent.call("POST", "/api/v1/intents",
             {{"intents", {{{"id", "lat"}, {"podID", L[1].uid}, {"priority", 6}, {"commandRegex", "^lat-match$"}}}}},
             &status);
  ASSERT_EQ(status, 200);
  const std::string count_name = "gthulhu_agent_exec_to_override_seconds_count";
  const std::string sum_name = "gthulhu_agent_exec_to_override_seconds_sum";
  http::Client c;
  auto metrics = [&] { return c.get(agent.url("/metrics")).response.body; };
  EXPECT_EQ(metric_value(metrics(), count_name), 0) << "exported, and empty before any match";

  // A non-matching exec first, seen by the agent (its command is in pods/pids).
  auto other = start_process(bins_.path(), "lat-other", dirs_["cgroupfs-crio"], 1);
  ASSERT_TRUE(test::eventually([&] {
    auto pod = find_pod(agent.call("GET", "/api/v1/pods/pids")["data"]["pods"], L[1].uid);
    if (pod.is_null()) return false;
    for (const auto& p : pod["processes"]) {
      if (p.value("command", "") == "lat-other") return true;
    }
    return false;
  }, 30s));
  auto matching = start_process(bins_.path(), "lat-match", dirs_["cgroupfs-crio"], 1);
  std::string err;
  auto maps = PinnedPolicyMaps::open(pins_.path(), &err);
  ASSERT_TRUE(maps) << err;
  ASSERT_TRUE(test::eventually([&] { return maps->process_override(static_cast<uint32_t>(matching.pid())).has_value(); },
                               30s));
  std::string text;
  ASSERT_TRUE(test::eventually([&] {
    text = metrics();
    return metric_value(text, count_name) >= 1;
  }, 30s)) << text;
  EXPECT_EQ(metric_value(text, count_name), 1) << "one match, one observation: " << text;
  const double seconds = metric_value(text, sum_name);
  EXPECT_GT(seconds, 0) << text;
  EXPECT_LT(seconds, 5) << "kernel exec timestamp and agent clock disagree: " << text;
}

// The start-up steps are in /health and /metrics, in their order: tracker, scheduler
// (when the kernel has sched_ext), first reconcile, then serving.
TEST_F(AgentHost, StartupPhasesAreReportedInOrder) {
  AgentProcess agent(pins_.path(), state_.path().string(), cgroup2_);
  ASSERT_TRUE(agent.ready());
  http::Client c;
  auto health = json::parse(c.get(agent.url("/health")).response.body);
  const auto phases = health["startupSeconds"];
  ASSERT_TRUE(phases.is_object()) << health.dump();
  std::vector<std::string> order = {"tracker_loaded", "scheduler_attached", "first_reconcile", "serving"};
  if (!health["scheduler"]["enabled"].get<bool>()) {
    EXPECT_FALSE(phases.contains("scheduler_attached")) << "no scheduler, no attach time: " << phases.dump();
    order.erase(order.begin() + 1);
  }
  double previous = 0;
  for (const auto& name : order) {
    ASSERT_TRUE(phases.contains(name)) << name << " missing: " << phases.dump();
    const double s = phases[name].get<double>();
    EXPECT_GT(s, previous) << name << " out of order: " << phases.dump();
    EXPECT_LT(s, 60) << phases.dump();
    previous = s;
  }
  const auto text = c.get(agent.url("/metrics")).response.body;
  EXPECT_NE(text.find("gthulhu_agent_startup_phase_seconds{phase=\"serving\"}"), std::string::npos) << text;
}

}  // namespace gthulhu::agent
