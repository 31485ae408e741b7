#pragma once
// The store's error model. Every Store operation returns Result<T> (or Status):
// a value, or a StoreError whose code the API maps to an HTTP status.
#include <cassert>
#include <string>
#include <utility>
#include <variant>

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

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}             // NOLINT: implicit on purpose
  Result(StoreError error) : v_(std::move(error)) {}    // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const StoreError& error() const { assert(!ok()); return std::get<1>(v_); }
  StoreErrc code() const { return error().code; }

 private:
  std::variant<T, StoreError> v_;
};

// Result<void>.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StoreError error) : ok_(false), error_(std::move(error)) {}  // NOLINT
  static Status Ok() { return {}; }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const StoreError& error() const { assert(!ok_); return error_; }
  StoreErrc code() const { return error().code; }

 private:
  bool ok_ = true;
  StoreError error_;
};

inline StoreError not_found(std::string m) { return {StoreErrc::kNotFound, std::move(m)}; }
inline StoreError conflict(std::string m) { return {StoreErrc::kConflict, std::move(m)}; }
inline StoreError version_mismatch(std::string m) {
  return {StoreErrc::kVersionMismatch, std::move(m)};
}
inline StoreError unavailable(std::string m) { return {StoreErrc::kUnavailable, std::move(m)}; }
inline StoreError invalid(std::string m) { return {StoreErrc::kInvalid, std::move(m)}; }
inline StoreError internal_error(std::string m) { return {StoreErrc::kInternal, std::move(m)}; }

}  // namespace gthulhu::coordinator
