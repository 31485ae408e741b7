#include "agent/agent_config.h"

#include <unistd.h>

#include "common/service/server_config.h"

extern "C" {
#include "bpf/gthulhu_shared.h"
}

namespace gthulhu::agent {

using namespace std::chrono_literals;

config::Schema agent_schema() {
  config::Schema s("GTHULHU");
  s.add_string("agent", "node_name", "",
               "this node's Kubernetes name; intents for other nodes are refused (default: $NODE_NAME, else the hostname)")
      .add_path("agent", "state_dir", "/var/lib/gthulhu", "where intents are persisted (intents.json)")
      .add_path("agent", "cgroup_root", "", "the cgroup2 mount as this process sees it (default: found in /proc/self/mountinfo)")
      .add_path("agent", "pin_root", GTHULHU_PIN_ROOT, "BPF filesystem directory for the pinned maps and scheduler link")
      .add_duration("agent", "resync_interval", 60s, "full re-reconciliation period (a safety net; events do the work)")
      .add_int("tracker", "ring_buffer_kib", 1024, 16, 262144,
               "kernel-to-agent event ring; only execs in watched pods, cgroup changes and exits of "
               "overridden processes use it (its pages count in the agent's RSS)")
      .add_int("tracker", "proc_table_entries", 262144, 1024, 4194304, "processes the tracker can hold")
      .add_bool("agent", "simulate", false,
                "run as a simulated node for scale tests: no BPF, policies in memory, processes from "
                "agent.sim_processes (never on a real node)")
      .add_path("agent", "sim_processes", "", "the simulated node's process table (JSON, see agent/sim/)")
      .add_bool("scheduler", "enabled", true, "attach the gthulhu sched_ext scheduler when the kernel supports it")
      .add_duration("scheduler", "slice_default", std::chrono::nanoseconds(GTHULHU_SLICE_DEFAULT_NS),
                    "time slice of tasks without a policy")
      .add_duration("scheduler", "slice_lag", std::chrono::nanoseconds(GTHULHU_SLICE_DEFAULT_NS),
                    "most CPU credit a sleeping task keeps for its wakeup")
      .add_duration("scheduler", "watchdog_timeout", 5s, "kernel watchdog: a runnable task not run for this long aborts the scheduler (max 30s)")
      .add_pem("auth", "private_key", "RSA key that signs the agent's tokens (PEM or path); unset: an ephemeral key")
      .add_string("auth", "client_secret", "", "shared secret that may be exchanged for a token (unset: mTLS clients only)")
      .add_bool("auth", "allow_client_certificate", true, "issue tokens to clients with a verified certificate (mTLS)")
      .add_duration("auth", "token_ttl", 1h, "lifetime of issued tokens");
  // A thread per connection: the coordinator's results long poll blocks its request for up
  // to 30 s, and in a thread pool it would hold up the pushes and probes whose keep-alive
  // connections share its thread (seen as 5 s push timeouts with 100 agents). The
  // connection limits bound the threads.
  service::add_server_keys(s, {":8080", 0, 256, 32, true});
  s.add_string("probe", "listen", "",
               "address:port of a second, plain-HTTP listener that serves only GET /health and GET "
               "/metrics, without TLS or a token, for kubelet probes and Prometheus (empty: off); the "
               "[server] limits apply to it too");
  return s;
}

std::optional<http::ServerOptions> probe_options(const http::ServerOptions& main, const std::string& listen) {
  if (listen.empty()) return std::nullopt;
  http::ListenAddress probe, served;
  try {
    probe = http::parse_listen(listen);
  } catch (const std::invalid_argument& e) {
    throw config::ConfigError({std::string("probe.listen: ") + e.what()});
  }
  try {
    served = http::parse_listen(main.listen);
  } catch (const std::invalid_argument&) {
    served = {};  // server.listen's own error is reported when the main server binds
  }
  if (probe.port != 0 && probe.port == served.port) {
    throw config::ConfigError({"probe.listen must name another port than server.listen (" + main.listen +
                               "): the probe listener has no TLS and serves nothing of the API"});
  }
  // The same bounds as the main listener, by construction; only where it listens,
  // its name (logs, metric labels) and the transport differ.
  http::ServerOptions o = main;
  o.listen = listen;
  o.name = main.name + "-probe";
  o.tls.reset();
  return o;
}

AgentSettings agent_settings(const config::Config& c) {
  AgentSettings a;
  a.node_name = c.get_string("agent.node_name");
  if (a.node_name.empty()) {
    if (const char* env = std::getenv("NODE_NAME"); env != nullptr && *env) {
      a.node_name = env;
    } else {
      char host[256] = "";
      gethostname(host, sizeof host - 1);
      a.node_name = host;
    }
  }
  a.state_dir = c.get_path("agent.state_dir").string();
  a.cgroup_root = c.get_path("agent.cgroup_root").string();
  a.pin_root = c.get_path("agent.pin_root").string();
  a.resync_interval = std::chrono::duration_cast<std::chrono::seconds>(c.get_duration("agent.resync_interval"));
  a.ring_buffer_kib = static_cast<uint32_t>(c.get_int("tracker.ring_buffer_kib"));
  a.proc_table_entries = static_cast<uint32_t>(c.get_int("tracker.proc_table_entries"));
  a.scheduler_enabled = c.get_bool("scheduler.enabled");
  a.simulate = c.get_bool("agent.simulate");
  a.sim_processes_file = c.get_path("agent.sim_processes").string();
  a.slice_default_ns = static_cast<uint64_t>(c.get_duration("scheduler.slice_default").count());
  a.slice_lag_ns = static_cast<uint64_t>(c.get_duration("scheduler.slice_lag").count());
  const auto wd = std::chrono::duration_cast<std::chrono::milliseconds>(c.get_duration("scheduler.watchdog_timeout"));
  std::vector<std::string> errors;
  if (wd.count() < 100 || wd.count() > 30000) errors.push_back("scheduler.watchdog_timeout must be 100ms..30s");
  if (a.slice_default_ns < GTHULHU_SLICE_MIN_NS || a.slice_default_ns > GTHULHU_SLICE_MAX_NS) {
    errors.push_back("scheduler.slice_default must be 500us..100ms");
  }
  a.watchdog_timeout_ms = static_cast<uint32_t>(wd.count());
  a.tokens.private_key_pem = c.get_pem("auth.private_key");
  a.tokens.client_secret = c.get_string("auth.client_secret");
  if (!a.tokens.client_secret.empty() && a.tokens.client_secret.size() < 16) {
    errors.push_back("auth.client_secret must be at least 16 characters");
  }
  a.tokens.allow_client_certificate = c.get_bool("auth.allow_client_certificate");
  a.tokens.ttl = std::chrono::duration_cast<std::chrono::seconds>(c.get_duration("auth.token_ttl"));
  if (!errors.empty()) throw config::ConfigError(errors);
  a.server = service::server_options_from(c, "agent");
  a.probe = probe_options(a.server, c.get_string("probe.listen"));
  return a;
}

}  // namespace gthulhu::agent
