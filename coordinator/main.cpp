// gthulhu-coordinator: the central REST API (users, roles, strategies, intents).
//
//   gthulhu-coordinator [--config FILE]   run (SIGTERM / SIGINT: graceful stop)
//   gthulhu-coordinator --help-config     every configuration key, as a Markdown table
//   gthulhu-coordinator --version
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>

#include "common/config/config.h"
#include "common/service/logging.h"
#include "common/service/server_config.h"
#include "common/service/signals.h"
#include "coordinator/app.h"

namespace {

void usage(std::ostream& out) {
  out << "usage: gthulhu-coordinator [--config FILE] | --help-config | --version | --help\n"
         "Configuration: defaults < FILE (INI) < GTHULHU_<SECTION>_<KEY> environment "
         "variables.\n";
}

}  // namespace

int main(int argc, char** argv) {
  using gthulhu::coordinator::App;
  std::optional<std::filesystem::path> config_file;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_file = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      config_file = arg.substr(std::strlen("--config="));
    } else if (arg == "--help-config") {
      std::cout << gthulhu::config::render_markdown(App::schema());
      return 0;
    } else if (arg == "--version") {
      std::cout << "gthulhu-coordinator " << GTHULHU_VERSION << "\n";
      return 0;
    } else if (arg == "--help" || arg == "-h") {
      usage(std::cout);
      return 0;
    } else {
      std::cerr << "unknown argument: " << arg << "\n";
      usage(std::cerr);
      return 2;
    }
  }

  gthulhu::service::block_termination_signals();
  const auto schema = App::schema();
  gthulhu::config::Config cfg;
  try {
    cfg = gthulhu::config::Config::load(schema, config_file, gthulhu::config::process_environment());
    gthulhu::service::init_logging_from(cfg);
  } catch (const std::exception& e) {
    std::cerr << "gthulhu-coordinator: configuration: " << e.what() << "\n";
    return 2;
  }
  for (const auto& w : cfg.warnings()) spdlog::warn("configuration: {}", w);

  std::optional<App> app;
  try {
    app.emplace(cfg);
    app->on_fatal([](const std::string&) { kill(getpid(), SIGTERM); });
    app->start();
  } catch (const std::exception& e) {
    spdlog::critical("gthulhu-coordinator: {}", e.what());
    return 1;
  }
  const int sig = gthulhu::service::wait_for_termination().value_or(SIGTERM);
  const bool failed = app->fatal_error().has_value();
  spdlog::info("{}: stopping", failed ? "start-up failed" : strsignal(sig));
  app->stop();
  app.reset();
  spdlog::info("stopped");
  return failed ? 1 : 0;
}
