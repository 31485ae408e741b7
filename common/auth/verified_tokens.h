#pragma once
// Remembers which exact tokens already passed RS256 signature verification.
//
// A signature is a pure function of (token bytes, key), so a hit may skip the RSA
// operation (~30-60 us; a SHA-256 of the token is the lookup key); the time and issuer
// checks still run on every use. Only valid tokens are stored, so forged tokens cannot
// push good ones out faster than real logins can.
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

namespace gthulhu::auth {

class VerifiedTokens {
 public:
  explicit VerifiedTokens(std::size_t capacity = 4096) : capacity_(capacity) {}

  bool contains(std::string_view token) const;
  void insert(std::string_view token);  // evicts the oldest entry when full

 private:
  static std::string digest(std::string_view token);

  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_set<std::string> digests_;
  std::deque<std::string> oldest_first_;
};

}  // namespace gthulhu::auth
