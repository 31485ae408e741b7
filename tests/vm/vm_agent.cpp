// The agent and the scheduler together in the sched_ext VM: the real gthulhu-agent
// binary (put in the image with its libraries) attaches the scheduler, receives an
// intent for a synthetic pod's cgroup, and the per-policy statistics it exports show
// the pod's tasks running under the policy. Then `kill -9` of the agent leaves the
// scheduler enabled, and a restarted agent re-adopts it and its stored intents.
// Both starts report their start-up steps (/health "startupSeconds"): printed as
// "startup <run>: ..." lines, which `make bench` quotes side by side, and checked for
// their order only (TCG makes absolute times meaningless as a pass/fail bound).
#include <net/if.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "common/http/client.h"
#include "tests/vm/sched_vm_util.h"

using namespace gthulhu;
using namespace gthulhu::vmtest;
using nlohmann::json;

namespace {

const char* kAgent = "/tests/gthulhu-agent";
const char* kUid = "a9e1b2c3-0000-4000-8000-000000000a9e";
const char* kSecret = "vm-agent-secret-0123456789";
const std::string kBase = "http://127.0.0.1:8080";

// The guest boots with no network device; the agent serves on loopback, so bring lo up.
bool loopback_up() {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  bool ok = fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  ok = ok && ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
  if (fd >= 0) close(fd);
  return ok;
}

pid_t start_agent() {
  pid_t pid = fork();
  if (pid == 0) {
    setenv("GTHULHU_AGENT_STATE_DIR", "/tmp/agent-state", 1);
    setenv("GTHULHU_AGENT_CGROUP_ROOT", "/sys/fs/cgroup", 1);
    setenv("GTHULHU_AGENT_NODE_NAME", "vm-node", 1);
    setenv("GTHULHU_SERVER_LISTEN", "127.0.0.1:8080", 1);
    setenv("GTHULHU_AUTH_CLIENT_SECRET", kSecret, 1);
    setenv("GTHULHU_LOG_LEVEL", "warn", 1);
    execl(kAgent, "gthulhu-agent", nullptr);
    _exit(98);
  }
  return pid;
}

json get_json(http::Client& c, const std::string& path, const std::string& token = "") {
  std::vector<std::string> h;
  if (!token.empty()) h.push_back("Authorization: Bearer " + token);
  auto r = c.get(kBase + path, h);
  if (!r.ok) return json();
  try {
    return json::parse(r.response.body);
  } catch (...) {
    return json();
  }
}

bool wait_healthy(http::Client& c, bool want_scheduler, double timeout_s = 20) {
  const double end = now_s() + timeout_s;
  while (now_s() < end) {
    auto h = get_json(c, "/health");
    if (!h.is_null() && (!want_scheduler || h["scheduler"]["enabled"] == true)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

// The agent's start-up steps from /health, in their order: tracker, scheduler,
// first reconcile (the stored intents are in the maps), serving.
void check_startup(Checker& c, http::Client& client, const char* run) {
  auto h = get_json(client, "/health");
  const auto phases = h.is_null() ? json() : h["startupSeconds"];
  const char* order[] = {"tracker_loaded", "scheduler_attached", "first_reconcile", "serving"};
  std::string line;
  double previous = 0;
  bool ordered = phases.is_object();
  for (const char* name : order) {
    if (!phases.is_object() || !phases.contains(name)) {
      ordered = false;
      continue;
    }
    const double s = phases[name].get<double>();
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%s %.3f s", line.empty() ? "" : ", ", name, s);
    line += buf;
    ordered = ordered && s > previous;
    previous = s;
  }
  c.info("startup %s: %s", run, line.c_str());
  c.check(ordered, "%s: every start-up step reported, in order (%s)", run, phases.dump().c_str());
}

// Sums a metric's samples whose labels contain `pod_uid="<uid>"`.
double pod_metric(const std::string& text, const std::string& name) {
  double sum = 0;
  std::regex line("^" + name + "\\{[^}]*pod_uid=\"" + kUid + "\"[^}]*\\} ([0-9.e+-]+)$");
  std::istringstream in(text);
  std::string l;
  std::smatch m;
  while (std::getline(in, l)) {
    if (std::regex_match(l, m, line)) sum += std::stod(m[1]);
  }
  return sum;
}

void body(Checker& c, const std::vector<std::string>&) {
  if (access(kAgent, X_OK) != 0) {
    c.check(false, "%s is not in the image", kAgent);
    return;
  }
  c.check(loopback_up(), "loopback interface up");
  // Parents first (each Cgroup makes one directory); destroyed in reverse order.
  Cgroup kubepods("kubepods");
  Cgroup qos("kubepods/burstable");
  Cgroup pod(std::string("kubepods/burstable/pod") + kUid);
  Cgroup ctr(std::string("kubepods/burstable/pod") + kUid + "/" + std::string(64, 'c'));
  if (!c.check(pod.ok() && ctr.ok(), "synthetic pod cgroups created")) return;

  http::ClientOptions co;
  co.total_timeout = std::chrono::seconds(10);
  http::Client client(co);
  pid_t agent = start_agent();
  if (!c.check(wait_healthy(client, true), "agent healthy with the scheduler enabled")) {
    kill(agent, SIGKILL);
    waitpid(agent, nullptr, 0);
    return;
  }
  c.check(read_text("/sys/kernel/sched_ext/root/ops").rfind("gthulhu", 0) == 0, "root/ops is gthulhu");
  check_startup(c, client, "fresh load");
  auto tok = client.post_json(kBase + "/api/v1/auth/token", json{{"secret", kSecret}}.dump());
  const std::string token = json::parse(tok.response.body)["data"]["token"];
  auto posted = client.post_json(
      kBase + "/api/v1/intents",
      json{{"intents", {{{"id", "vm"}, {"podID", kUid}, {"podName", "vm-pod"}, {"priority", 5}, {"executionTime", 8000000}}}}}.dump(),
      {"Authorization: Bearer " + token});
  auto pj = json::parse(posted.response.body);
  c.check(posted.response.status == 200 && pj["data"]["results"][0]["state"] == "applied",
          "intent applied: %s", posted.response.body.c_str());

  // CPU-bound work in the pod's container cgroup, started after the intent.
  const double start = now_s() + 0.2;
  pid_t w = spawn_worker(ctr, {"spin", "2", std::to_string(start), "2", "/tmp/vm-agent-work"});
  c.check(w > 0 && wait_worker(w) == 0, "workers ran in the pod");
  auto metrics = client.get(kBase + "/metrics").response.body;
  const double cpu = pod_metric(metrics, "gthulhu_pod_cpu_seconds_total");
  const double runs = pod_metric(metrics, "gthulhu_pod_runs_total");
  const double first = pod_metric(metrics, "gthulhu_pod_first_enqueue_policy_total");
  c.info("per-policy statistics for the pod: cpu %.3f s, runs %.0f, first enqueues under the policy %.0f", cpu, runs,
         first);
  c.check(cpu > 1.0, "the pod's tasks ran under the policy (cpu %.3f s > 1 s)", cpu);
  c.check(first >= 2, "its new tasks had the policy from their first enqueue (%.0f)", first);

  // kill -9: the pinned struct_ops link keeps the scheduler, with its policies.
  kill(agent, SIGKILL);
  waitpid(agent, nullptr, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  c.check(read_text("/sys/kernel/sched_ext/state").rfind("enabled", 0) == 0, "scheduler still enabled after kill -9");
  c.check(read_text("/sys/kernel/sched_ext/root/ops").rfind("gthulhu", 0) == 0, "still gthulhu");

  agent = start_agent();
  c.check(wait_healthy(client, true), "restarted agent healthy with the scheduler enabled (re-adopted)");
  check_startup(c, client, "re-adoption");
  auto tok2 = client.post_json(kBase + "/api/v1/auth/token", json{{"secret", kSecret}}.dump());
  const std::string token2 = json::parse(tok2.response.body)["data"]["token"];
  auto listed = get_json(client, "/api/v1/intents", token2);
  c.check(!listed.is_null() && listed["data"]["results"].size() == 1 &&
              listed["data"]["results"][0]["state"] == "applied",
          "stored intent restored and applied: %s", listed.dump().c_str());
  pid_t w2 = spawn_worker(ctr, {"spin", "1", std::to_string(now_s() + 0.2), "1", "/tmp/vm-agent-work2"});
  c.check(w2 > 0 && wait_worker(w2) == 0, "more work in the pod");
  const double cpu2 = pod_metric(client.get(kBase + "/metrics").response.body, "gthulhu_pod_cpu_seconds_total");
  c.info("after the restart: pod cpu %.3f s (was %.3f s)", cpu2, cpu);
  c.check(cpu2 > cpu + 0.5, "statistics continue in the re-adopted scheduler");
  kill(agent, SIGTERM);
  waitpid(agent, nullptr, 0);

  // The agent leaves the scheduler running by design; detach it here the way an
  // operator would (adopt the pinned link, unregister) so the VM ends clean.
  agent::SchedulerOptions o;
  o.pin_root = GTHULHU_PIN_ROOT;
  o.adopt_running = true;
  agent::SchedulerBpf sched(o);
  c.check(sched.adopted(), "the agent's scheduler is adoptable from %s", GTHULHU_PIN_ROOT);
  sched.detach();
  auto exit = sched.exit_info();
  c.check(exit.has_value() && exit->kind == 64, "detached: exit kind %u", exit ? exit->kind : 0u);
  remove_pin_root(GTHULHU_PIN_ROOT);
}

}  // namespace

int main(int argc, char** argv) { return test_main(argc, argv, "vm_agent", body); }
