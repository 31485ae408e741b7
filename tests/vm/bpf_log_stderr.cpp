// The VM test binaries' sink for the BPF layer's log lines (static binaries, no
// spdlog): warnings to stderr, where the VM runner collects the guest's console.
#include <cstdio>

#include "agent/bpf/bpf_support.h"

namespace gthulhu::agent::bpf_support {

bool log_enabled(LogLevel level) { return level == LogLevel::kWarn; }

void log_line(LogLevel level, const std::string& line) {
  if (level == LogLevel::kWarn) std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace gthulhu::agent::bpf_support
