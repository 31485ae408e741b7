#pragma once
// One way to report an expected failure, for the coordinator's store (StoreError) and
// the agent's BPF layer (BpfError) alike: a Result<T, E> holds a value or an error E,
// a StatusOf<E> is the same without a value. Errors are values, not exceptions, so a
// caller sees in the signature that an operation can fail and handles it where it
// knows what to do (answer 503, refuse to start, log and go on).
#include <cassert>
#include <utility>
#include <variant>

namespace gthulhu {

template <typename T, typename E>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}   // NOLINT: implicit on purpose
  Result(E error) : v_(std::move(error)) {}   // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const E& error() const { assert(!ok()); return std::get<1>(v_); }
  auto code() const { return error().code; }  // for error types with a code

 private:
  std::variant<T, E> v_;
};

// Result<void, E>.
template <typename E>
class [[nodiscard]] StatusOf {
 public:
  StatusOf() = default;
  StatusOf(E error) : ok_(false), error_(std::move(error)) {}  // NOLINT
  static StatusOf Ok() { return {}; }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const E& error() const { assert(!ok_); return error_; }
  auto code() const { return error().code; }

 private:
  bool ok_ = true;
  E error_{};
};

}  // namespace gthulhu
