#pragma once
// Process-wide logging through spdlog: one line per event on stderr (journald and
// kubectl logs both read stderr), level and format from configuration.
#include <string>

namespace gthulhu::service {

// level: trace|debug|info|warn|error; format: "text" or "json" (one JSON object a line).
// Throws std::invalid_argument naming the bad value.
void init_logging(const std::string& level, const std::string& format = "text");

}  // namespace gthulhu::service
