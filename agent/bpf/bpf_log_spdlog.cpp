// The agent's sink for the BPF layer's log lines (see bpf_support.h).
#include <spdlog/spdlog.h>

#include "agent/bpf/bpf_support.h"

namespace gthulhu::agent::bpf_support {

bool log_enabled(LogLevel level) {
  return level != LogLevel::kDebug || spdlog::should_log(spdlog::level::debug);
}

void log_line(LogLevel level, const std::string& line) {
  switch (level) {
    case LogLevel::kWarn: spdlog::warn("{}", line); break;
    case LogLevel::kInfo: spdlog::info("{}", line); break;
    case LogLevel::kDebug: spdlog::debug("{}", line); break;
  }
}

}  // namespace gthulhu::agent::bpf_support
