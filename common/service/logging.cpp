#include "common/service/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

namespace gthulhu::service {

void init_logging(const std::string& level, const std::string& format) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    throw std::invalid_argument("log level '" + level +
                                "' is not one of trace, debug, info, warn, error, off");
  }
  spdlog::drop("gthulhu");  // re-initialising (tests, config reload) replaces the logger
  auto logger = spdlog::stderr_logger_mt("gthulhu");
  if (format == "json") {
    // Messages are escaped by our call sites' formatting; keep the pattern minimal.
    logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":"%v"})",
                        spdlog::pattern_time_type::utc);
  } else if (format == "text") {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  } else {
    throw std::invalid_argument("log format '" + format + "' is not one of text, json");
  }
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

}  // namespace gthulhu::service
