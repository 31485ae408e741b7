#pragma once
// How the coordinator's handlers and services report failure: throw ApiError with the
// HTTP status and the message for the {"success":false,"error":...} envelope. The route
// wrapper (api/route_support.h) turns it into the response; anything else thrown is a
// 500 "Internal Server Error" (logged, not shown).
#include <stdexcept>
#include <string>
#include <utility>

#include "coordinator/store/result.h"

namespace gthulhu::coordinator {

struct ApiError : std::runtime_error {
  ApiError(int status_code, std::string msg, int retry_after_seconds = 0)
      : std::runtime_error(msg),
        status(status_code),
        message(std::move(msg)),
        retry_after(retry_after_seconds) {}
  int status;
  std::string message;
  int retry_after;  // > 0: a Retry-After header (429, 503)
};

[[noreturn]] inline void fail(int status, std::string message, int retry_after = 0) {
  throw ApiError(status, std::move(message), retry_after);
}

// Maps a store error: kNotFound -> 404 `not_found_message`, kConflict -> 409 (the
// `conflict_message` if given), kVersionMismatch -> 409, kUnavailable -> 503 with
// Retry-After, kInvalid -> 422, kInternal -> 500.
[[noreturn]] void fail_store(const StoreError& error, const std::string& not_found_message = "not found",
                             const std::string& conflict_message = "");

template <typename T>
T unwrap(Result<T>&& r, const std::string& not_found_message = "not found",
         const std::string& conflict_message = "") {
  if (!r.ok()) fail_store(r.error(), not_found_message, conflict_message);
  return std::move(r).value();
}

inline void check(const Status& s, const std::string& not_found_message = "not found",
                  const std::string& conflict_message = "") {
  if (!s.ok()) fail_store(s.error(), not_found_message, conflict_message);
}

}  // namespace gthulhu::coordinator
