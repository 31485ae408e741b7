#include "coordinator/api/api_error.h"

#include <spdlog/spdlog.h>

namespace gthulhu::coordinator {

void fail_store(const StoreError& e, const std::string& not_found_message,
                const std::string& conflict_message) {
  switch (e.code) {
    case StoreErrc::kNotFound:
      throw ApiError(404, not_found_message);
    case StoreErrc::kConflict:
      throw ApiError(409, conflict_message.empty() ? e.message : conflict_message);
    case StoreErrc::kVersionMismatch:
      throw ApiError(409, "the resource was changed by another request; read it again and retry");
    case StoreErrc::kUnavailable:
      spdlog::warn("store unavailable: {}", e.message);
      throw ApiError(503, "storage unavailable, retry later", 1);
    case StoreErrc::kInvalid:
      throw ApiError(422, e.message);
    case StoreErrc::kInternal:
      break;
  }
  spdlog::error("store error: {}", e.message);
  throw ApiError(500, "Internal Server Error");
}

}  // namespace gthulhu::coordinator
