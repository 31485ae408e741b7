// gthulhu-agent: the node agent. Loads the BPF tracker (and the sched_ext scheduler
// when the kernel has it), applies intents, serves the REST API until SIGTERM.
#include <spdlog/spdlog.h>

#include <cstring>
#include <iostream>
#include <optional>

#include "agent/agent_config.h"
#include "agent/bpf/bpf_backend.h"
#include "agent/daemon.h"
#include "agent/sim/simulated_backend.h"
#include "common/service/server_config.h"
#include "common/service/signals.h"

namespace {

void usage() {
  std::cout << "usage: gthulhu-agent [--config FILE] [--help-config] [--version]\n"
               "Every key can also be set with an environment variable (see --help-config).\n";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gthulhu;
  std::optional<std::filesystem::path> config_file;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--config") && i + 1 < argc) {
      config_file = argv[++i];
    } else if (!std::strcmp(argv[i], "--help-config")) {
      std::cout << config::render_markdown(agent::agent_schema());
      return 0;
    } else if (!std::strcmp(argv[i], "--version")) {
      std::cout << "gthulhu-agent " << GTHULHU_VERSION << "\n";
      return 0;
    } else {
      usage();
      return std::strcmp(argv[i], "--help") ? 2 : 0;
    }
  }
  service::block_termination_signals();
  try {
    const auto cfg = config::Config::load(agent::agent_schema(), config_file, config::process_environment());
    service::init_logging_from(cfg);
    for (const auto& w : cfg.warnings()) spdlog::warn("config: {}", w);
    const auto settings = agent::agent_settings(cfg);
    // Start-up timings (agent/startup_phases.h): the backend marks tracker and
    // scheduler, the daemon the first reconcile and serving, and logs them all.
    agent::StartupPhases phases;
    auto backend =
        settings.simulate ? agent::make_simulated_backend(settings) : agent::make_bpf_backend(settings, &phases);
    agent::AgentDaemon daemon(settings, *backend);
    daemon.start(phases);
    const int sig = *service::wait_for_termination();
    spdlog::info("agent: signal {} received, stopping (the scheduler keeps running)", sig);
    daemon.stop();
    return 0;
  } catch (const config::ConfigError& e) {
    std::cerr << "gthulhu-agent: configuration errors:\n";
    for (const auto& m : e.errors()) std::cerr << "  " << m << "\n";
    return 2;
  } catch (const std::exception& e) {
    spdlog::critical("gthulhu-agent: {}", e.what());
    std::cerr << "gthulhu-agent: " << e.what() << "\n";
    return 1;
  }
}
