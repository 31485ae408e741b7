#include "agent/sim/simulated_backend.h"

#include "agent/sim/memory_maps.h"
#include "agent/sim/simulated_scheduler.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <unordered_map>

namespace gthulhu::agent {

namespace fs = std::filesystem;

namespace {

class FileProcesses final : public ProcessSource {
 public:
  std::vector<ProcessInfo> processes_in(const std::set<uint64_t>& cgroup_ids) const override {
    std::lock_guard lock(mu_);
    std::vector<ProcessInfo> out;
    // By cgroup, as the kernel's cgroup.procs on a real node: the cost follows these
    // cgroups' processes, not the whole table.
    for (uint64_t cg : cgroup_ids) {
      auto members = by_cgroup_.find(cg);
      if (members == by_cgroup_.end()) continue;
      for (uint32_t tgid : members->second) out.push_back(table_.at(tgid));
    }
    return out;
  }
  // Replaces the table; returns the events that turn the old one into the new one.
  std::vector<NodeEvent> replace(std::map<uint32_t, ProcessInfo> next) {
    std::lock_guard lock(mu_);
    std::vector<NodeEvent> events;
    for (const auto& [tgid, p] : table_) {
      if (!next.count(tgid)) events.push_back({NodeEvent::Type::kExit, tgid, p.cgroup_id, 0, "", 0});
    }
    for (const auto& [tgid, p] : next) {
      auto old = table_.find(tgid);
      if (old == table_.end() || old->second.comm != p.comm || old->second.cgroup_id != p.cgroup_id) {
        events.push_back({NodeEvent::Type::kExec, tgid, p.cgroup_id, 0, p.comm, 0});
      }
    }
    table_ = std::move(next);
    by_cgroup_.clear();
    for (const auto& [tgid, p] : table_) by_cgroup_[p.cgroup_id].push_back(tgid);
    return events;
  }

 private:
  mutable std::mutex mu_;
  std::map<uint32_t, ProcessInfo> table_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> by_cgroup_;
};

class SimulatedTracker final : public TrackerView {
 public:
  TrackerStatus status() const override { return {true, ""}; }
  gthulhu_tracker_stats stats() const override { return {}; }
};

class SimulatedBackend final : public NodeBackend {
 public:
  SimulatedBackend(fs::path cgroup_root, fs::path processes_file)
      : cgroup_root_(std::move(cgroup_root)), processes_file_(std::move(processes_file)) {}

  PolicyMaps& policy_maps() override { return maps_; }
  const ProcessSource& processes() const override { return processes_; }
  const SchedulerView& scheduler() const override { return scheduler_; }
  const TrackerView& tracker() const override { return tracker_; }

  int poll(std::chrono::milliseconds timeout, const std::function<void(const NodeEvent&)>& on_event) override {
    auto events = reload_if_changed();
    if (events.empty()) {
      std::this_thread::sleep_for(timeout);  // nothing happens on a simulated node but file edits
      return 0;
    }
    for (const auto& e : events) on_event(e);
    return static_cast<int>(events.size());
  }

 private:
  std::vector<NodeEvent> reload_if_changed() {
    if (processes_file_.empty()) return {};
    struct stat st {};
    if (::stat(processes_file_.c_str(), &st) != 0) return {};
    const auto mtime = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    if (mtime == loaded_mtime_) return {};
    loaded_mtime_ = mtime;
    std::ifstream in(processes_file_);
    std::stringstream text;
    text << in.rdbuf();
    std::map<uint32_t, ProcessInfo> next;
    try {
      const auto doc = nlohmann::json::parse(text.str());
      for (const auto& p : doc.at("processes")) {
        ProcessInfo info;
        info.tgid = p.at("pid").get<uint32_t>();
        info.ppid = p.value("ppid", 1u);
        info.comm = p.at("comm").get<std::string>();
        struct stat cg {};
        const fs::path dir = cgroup_root_ / p.at("cgroup").get<std::string>();
        if (::stat(dir.c_str(), &cg) != 0) {
          spdlog::warn("simulated node: process {} names cgroup {} which does not exist", info.tgid, dir.string());
          continue;
        }
        info.cgroup_id = cg.st_ino;
        next[info.tgid] = std::move(info);
      }
    } catch (const nlohmann::json::exception& e) {
      spdlog::error("simulated node: {} is not a valid process file ({}); keeping the previous table",
                    processes_file_.string(), e.what());
      return {};
    }
    return processes_.replace(std::move(next));
  }

  fs::path cgroup_root_;
  fs::path processes_file_;
  long long loaded_mtime_ = -1;
  MemoryMaps maps_;
  FileProcesses processes_;
  SimulatedScheduler scheduler_{maps_};
  SimulatedTracker tracker_;
};

}  // namespace

std::unique_ptr<NodeBackend> make_simulated_backend(const AgentSettings& settings) {
  if (settings.cgroup_root.empty()) {
    throw std::runtime_error("agent.simulate needs agent.cgroup_root (the simulated node's pod directory tree)");
  }
  spdlog::warn("agent: SIMULATED node {}: no BPF, policies are kept in memory only", settings.node_name);
  return std::make_unique<SimulatedBackend>(settings.cgroup_root, settings.sim_processes_file);
}

}  // namespace gthulhu::agent
