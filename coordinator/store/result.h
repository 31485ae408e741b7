#pragma once
// The store's error model. Every Store operation returns Result<T> (or Status):
// a value, or a StoreError whose code the API maps to an HTTP status. Result and
// StatusOf themselves are common/result.h, shared with the agent's BPF layer.
#include <string>
#include <utility>

#include "common/result.h"

namespace gthulhu::coordinator {

enum class StoreErrc {
  kNotFound,         // no such record (or not visible to the caller's scope)   -> 404
  kConflict,         // a unique key is taken (username, role name, ...)        -> 409
  kVersionMismatch,  // optimistic concurrency: the record changed since read    -> 409
  kUnavailable,      // the database cannot be reached / timed out / is locked   -> 503
  kInvalid,          // the caller passed something the store cannot hold        -> 422
  kInternal,         // a bug or corrupt data                                   -> 500
};

const char* to_string(StoreErrc code);

struct StoreError {
  StoreErrc code = StoreErrc::kInternal;
  std::string message;  // for logs; safe to show to the caller (no secrets, no SQL)
};

// The shared Result (common/result.h) with the store's error.
template <typename T>
using Result = gthulhu::Result<T, StoreError>;
using Status = gthulhu::StatusOf<StoreError>;

inline StoreError not_found(std::string m) { return {StoreErrc::kNotFound, std::move(m)}; }
inline StoreError conflict(std::string m) { return {StoreErrc::kConflict, std::move(m)}; }
inline StoreError version_mismatch(std::string m) {
  return {StoreErrc::kVersionMismatch, std::move(m)};
}
inline StoreError unavailable(std::string m) { return {StoreErrc::kUnavailable, std::move(m)}; }
inline StoreError invalid(std::string m) { return {StoreErrc::kInvalid, std::move(m)}; }
inline StoreError internal_error(std::string m) { return {StoreErrc::kInternal, std::move(m)}; }

}  // namespace gthulhu::coordinator
