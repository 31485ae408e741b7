#pragma once
// The agent's configuration: every key declared once (README "Agent configuration" is
// generated from this schema by `gthulhu-agent --help-config`).
#include <chrono>
#include <optional>
#include <string>

#include "agent/token_service.h"
#include "common/config/config.h"
#include "common/http/server.h"

namespace gthulhu::agent {

struct AgentSettings {
  std::string node_name;
  std::string state_dir;
  std::string cgroup_root;  // empty: the cgroup2 mount from /proc/self/mountinfo
  std::string pin_root;
  bool scheduler_enabled = true;
  bool simulate = false;           // agent/sim/simulated_backend.h: no BPF (scale tests)
  std::string sim_processes_file;  // the simulated node's process table (JSON)
  uint64_t slice_default_ns = 0;
  uint64_t slice_lag_ns = 0;
  uint32_t watchdog_timeout_ms = 5000;
  std::chrono::seconds resync_interval{60};
  uint32_t ring_buffer_kib = 1024;
  uint32_t proc_table_entries = 262144;
  http::ServerOptions server;
  // The optional plain-HTTP listener for kubelet probes and Prometheus ([probe]):
  // the main listener's time and size bounds, no TLS, only /health and /metrics.
  std::optional<http::ServerOptions> probe;
  TokenOptions tokens;
};

config::Schema agent_schema();
// Throws config::ConfigError listing every problem.
AgentSettings agent_settings(const config::Config& config);
// The probe listener's options: `main`'s limits and timeouts on `listen`, without TLS;
// nullopt when `listen` is empty. Throws config::ConfigError for a bad `listen` or one
// on the main listener's port.
std::optional<http::ServerOptions> probe_options(const http::ServerOptions& main, const std::string& listen);

}  // namespace gthulhu::agent
