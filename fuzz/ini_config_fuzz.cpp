// INI configuration: any file text against the coordinator's and the agent's real
// schemas either loads or is refused with ConfigError (never another exception).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "agent/agent_config.h"
#include "common/config/config.h"
#include "coordinator/app.h"

using namespace gthulhu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const config::Schema schemas[] = {coordinator::App::schema(), agent::agent_schema()};
  static const std::string path = [] {
    static std::string p = "/tmp/gthulhu-ini-fuzz-" + std::to_string(getpid()) + ".ini";
    std::atexit([] { std::remove(p.c_str()); });
    return p;
  }();
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  for (const auto& schema : schemas) {
    try {
      (void)config::Config::load(schema, path, {});
    } catch (const config::ConfigError&) {
    } catch (const std::exception& e) {
      std::fprintf(stderr, "fuzz: config load threw %s\n", e.what());
      std::abort();
    }
  }
  return 0;
}
