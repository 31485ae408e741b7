#pragma once
// Brute-force protection for logins that a stranger cannot turn against a real user.
//
// Failures are counted per (username, client address) pair, never per username alone:
// wrong passwords sent for admin@example.com from one address slow down only that
// address's attempts for that account. The first `free_failures` failures cost nothing;
// each further one doubles a delay (base_delay, 2x, 4x, ... capped at max_delay) during
// which that pair is answered 429 with Retry-After, without checking the password. A
// success forgets the pair; so does `forget_after` without a failure. A correct
// password from an address with no recent failures is therefore always accepted.
//
// Spreading guesses over many addresses is bounded by the per-address attempt limit
// (RateLimiter in AuthService) and by every address paying its own delays.
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

#include "coordinator/auth/rate_limiter.h"

namespace gthulhu::coordinator {

struct LoginThrottleOptions {
  unsigned free_failures = 5;
  std::chrono::nanoseconds base_delay = std::chrono::seconds(1);
  std::chrono::nanoseconds max_delay = std::chrono::minutes(15);
  std::chrono::nanoseconds forget_after = std::chrono::minutes(15);
  std::size_t max_entries = 100000;
};

class LoginThrottle {
 public:
  explicit LoginThrottle(LoginThrottleOptions options, SteadyClock clock = {});

  // Whether an attempt for this pair may check a password now.
  RateLimiter::Decision check(const std::string& username, const std::string& client);
  void record_failure(const std::string& username, const std::string& client);
  void record_success(const std::string& username, const std::string& client);
  std::size_t size() const;

 private:
  struct Entry {
    unsigned failures = 0;
    std::chrono::steady_clock::time_point last_failure;
    std::chrono::steady_clock::time_point blocked_until;
  };
  static std::string key(const std::string& username, const std::string& client);
  bool expired(const Entry& e, std::chrono::steady_clock::time_point now) const;
  void make_room(std::chrono::steady_clock::time_point now);

  const LoginThrottleOptions options_;
  SteadyClock clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace gthulhu::coordinator
