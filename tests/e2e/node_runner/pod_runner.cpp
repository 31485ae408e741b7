#include "tests/e2e/node_runner/pod_runner.h"

#include <csignal>
#include <ctime>
#include <fstream>
#include <system_error>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

namespace gthulhu::e2e {
namespace fs = std::filesystem;
using coordinator::kube::ObjectDelta;

namespace {

bool write_file(const fs::path& p, const std::string& value) {
  std::ofstream f(p);
  f << value;
  f.flush();
  return static_cast<bool>(f);
}

// Creates every level of `rel` under root, enabling the cpu controller for the children
// of each parent (the kubelet's slices all have cpu in cgroup.subtree_control).
void make_cgroup(const fs::path& root, const std::string& rel) {
  fs::path at = root;
  for (const auto& part : fs::path(rel)) {
    write_file(at / "cgroup.subtree_control", "+cpu");
    at /= part;
    std::error_code ec;
    fs::create_directory(at, ec);
    if (ec) throw std::runtime_error("mkdir " + at.string() + ": " + ec.message());
  }
}

std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// The shell command line of a container: command + args, each word single-quoted.
std::string command_line(const nlohmann::json& c) {
  std::string out;
  for (const char* field : {"command", "args"}) {
    for (const auto& w : c.value(field, nlohmann::json::array())) {
      std::string s = w.is_string() ? w.get<std::string>() : w.dump();
      std::string q = "'";
      for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
      out += (out.empty() ? "" : " ") + q + "'";
    }
  }
  return out;
}

}  // namespace

PodRunner::PodRunner(coordinator::kube::KubeClient& client, PodRunnerOptions options)
    : client_(client), options_(std::move(options)) {}

PodRunner::~PodRunner() { stop_all(); }

void PodRunner::apply(const std::vector<ObjectDelta>& deltas, bool /*initial*/) {
  for (const auto& d : deltas) {
    bool mine = d.kind == ObjectDelta::Kind::Upsert &&
                d.object.value("/spec/nodeName"_json_pointer, std::string{}) == options_.node_name &&
                !d.object.contains("/metadata/deletionTimestamp"_json_pointer);
    if (mine) {
      start_pod(d.key, d.object);
    } else {
      stop_pod(d.key);
    }
  }
}

void PodRunner::start_pod(const std::string& key, const nlohmann::json& pod) {
  {
    std::lock_guard lock(mu_);
    if (pods_.count(key)) {
      // Already running: only repair a status someone reset.
      if (pod.value("/status/phase"_json_pointer, std::string{}) == "Running") return;
    } else {
      Running r;
      try {
        r.plan = plan_pod_cgroups(pod);
      } catch (const std::exception& e) {
        spdlog::error("pod {}: {}", key, e.what());
        return;
      }
      make_cgroup(options_.cgroup_root, r.plan.pod_dir);
      write_file(options_.cgroup_root / r.plan.pod_dir / "cpu.weight", std::to_string(r.plan.cpu_weight));
      write_file(options_.cgroup_root / r.plan.pod_dir / "cpu.max", r.plan.cpu_max);
      const auto& containers = pod["spec"]["containers"];
      for (size_t i = 0; i < containers.size(); ++i) {
        const std::string& dir = r.plan.container_dirs[i];
        make_cgroup(options_.cgroup_root, dir);
        std::string cmd = command_line(containers[i]);
        if (cmd.empty()) {
          spdlog::warn("pod {} container {}: no command (images are not run here)", key, i);
          continue;
        }
        std::string procs = (options_.cgroup_root / dir / "cgroup.procs").string();
        pid_t pid = fork();
        if (pid == 0) {
          // Join the container cgroup before exec, so every task of the workload is in it.
          std::ofstream f(procs);
          f << getpid();
          f.flush();
          if (!f) _exit(126);
          setsid();
          execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
          _exit(127);
        }
        if (pid > 0) r.pids.push_back(pid);
        spdlog::info("pod {} container {}: pid {} in {}: {}", key, i, pid, dir, cmd);
      }
      spdlog::info("pod {}: {} cgroups, cpu.weight {}, cpu.max {}", key, r.plan.pod_dir, r.plan.cpu_weight,
                   r.plan.cpu_max);
      pods_.emplace(key, std::move(r));
    }
  }
  report_running(pod);
}

void PodRunner::report_running(const nlohmann::json& pod) {
  std::string ns = pod["metadata"].value("namespace", "default");
  std::string name = pod["metadata"].value("name", "");
  std::string path = "/api/v1/namespaces/" + ns + "/pods/" + name + "/status";
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto cur = client_.get(path);
    if (!cur.ok) {
      spdlog::warn("pod {}/{}: GET status: {}", ns, name, cur.error);
      return;
    }
    nlohmann::json obj = cur.body;
    std::string t = now_rfc3339();
    nlohmann::json conds = nlohmann::json::array();
    for (const char* c : {"PodScheduled", "Initialized", "ContainersReady", "Ready"}) {
      conds.push_back({{"type", c}, {"status", "True"}, {"lastTransitionTime", t}});
    }
    nlohmann::json statuses = nlohmann::json::array();
    for (const auto& c : obj["spec"]["containers"]) {
      statuses.push_back({{"name", c.value("name", "")}, {"ready", true}, {"restartCount", 0},
                          {"image", c.value("image", "")}, {"imageID", ""},
                          {"state", {{"running", {{"startedAt", t}}}}}});
    }
    obj["status"]["phase"] = "Running";
    obj["status"]["podIP"] = options_.pod_ip;
    obj["status"]["podIPs"] = nlohmann::json::array({{{"ip", options_.pod_ip}}});
    obj["status"]["hostIP"] = options_.pod_ip;
    obj["status"]["startTime"] = t;
    obj["status"]["conditions"] = conds;
    obj["status"]["containerStatuses"] = statuses;
    auto r = client_.replace(path, obj);
    if (r.ok) {
      spdlog::info("pod {}/{}: status Running, podIP {}", ns, name, options_.pod_ip);
      return;
    }
    if (r.status != 409) {
      spdlog::warn("pod {}/{}: PUT status: {} {}", ns, name, r.status, r.error);
      return;
    }
  }
}

void PodRunner::stop_pod(const std::string& key) {
  Running r;
  {
    std::lock_guard lock(mu_);
    auto it = pods_.find(key);
    if (it == pods_.end()) return;
    r = std::move(it->second);
    pods_.erase(it);
  }
  for (const auto& dir : r.plan.container_dirs) write_file(options_.cgroup_root / dir / "cgroup.kill", "1");
  for (pid_t p : r.pids) {
    kill(p, SIGKILL);
    waitpid(p, nullptr, 0);
  }
  // cgroup.kill is asynchronous: rmdir succeeds once the last task has gone.
  for (auto it = r.plan.container_dirs.rbegin(); it != r.plan.container_dirs.rend(); ++it) {
    fs::path d = options_.cgroup_root / *it;
    for (int i = 0; i < 200 && fs::exists(d); ++i) {
      if (rmdir(d.c_str()) == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  rmdir((options_.cgroup_root / r.plan.pod_dir).c_str());
  spdlog::info("pod {}: stopped, cgroups removed", key);
}

void PodRunner::stop_all() {
  std::vector<std::string> keys;
  {
    std::lock_guard lock(mu_);
    for (const auto& [k, v] : pods_) keys.push_back(k);
  }
  for (const auto& k : keys) stop_pod(k);
}

}  // namespace gthulhu::e2e
