#pragma once
// Login, refresh, logout and password changes. Failures are ApiError (api/api_error.h).
//
//   login         rate limited per client IP (every attempt) and slowed down per
//                 (username, client IP) after failures (LoginThrottle: exponential
//                 delay, never a lockout a stranger can cause) -> 429 with Retry-After;
//                 one message for unknown user and wrong password ("invalid username or
//                 password"), and an unknown user costs the same Argon2 verify as a
//                 known one.
//   refresh       single use: the presented token is consumed and a new pair issued.
//                 Presenting an already-used token is treated as theft: every session
//                 of that user is revoked (tokenVersion bump) and 401 returned.
//   logout        consumes the refresh token (idempotent for an already used one).
//   logout-all    bumps tokenVersion (every access token dies at once) and deletes all
//                 refresh sessions.
//   change own    needs the old password (rate limited like a login), applies the
//   password      policy, refuses the same password, sets status Active, revokes every
//                 other token and returns a fresh pair.
#include <chrono>
#include <functional>
#include <string>

#include "coordinator/auth/password_hasher.h"
#include "coordinator/auth/password_policy.h"
#include "coordinator/auth/login_throttle.h"
#include "coordinator/auth/rate_limiter.h"
#include "coordinator/auth/token_service.h"
#include "coordinator/store/store.h"

namespace gthulhu::coordinator {

struct LoginLimits {
  unsigned attempts_per_ip = 20;                                   // burst per IP
  std::chrono::nanoseconds ip_window = std::chrono::minutes(1);    // ... refilled over
  // Per (username, client IP): failures without delay, then a delay doubling from
  // failure_base_delay up to failure_max_delay; forgotten after user_window without one.
  unsigned failures_per_user = 5;
  std::chrono::nanoseconds user_window = std::chrono::minutes(15);
  std::chrono::nanoseconds failure_base_delay = std::chrono::seconds(1);
  std::chrono::nanoseconds failure_max_delay = std::chrono::minutes(15);
};

struct TokenPair {
  std::string access_token;
  std::string refresh_token;
  std::int64_t expires_in = 0;  // access token lifetime, seconds
  bool need_change_password = false;
};

using MillisClock = std::function<UnixMillis()>;
UnixMillis system_millis();

class AuthService {
 public:
  AuthService(Store& store, const PasswordHasher& hasher, const TokenService& tokens,
              PasswordPolicy policy, LoginLimits limits, MillisClock clock = system_millis,
              SteadyClock steady = {});

  TokenPair login(const std::string& username, const std::string& password,
                  const std::string& client_ip);
  TokenPair refresh(const std::string& refresh_token);
  void logout(const std::string& refresh_token);
  void logout_all(const std::string& user_id);
  TokenPair change_own_password(const User& user, const std::string& old_password,
                                const std::string& new_password, const std::string& client_ip);

  // A new access token and refresh session for `user`.
  TokenPair issue(const User& user);

  const PasswordPolicy& policy() const { return policy_; }
  const PasswordHasher& hasher() const { return hasher_; }
  UnixMillis now() const { return clock_(); }

 private:
  void check_limits(const std::string& username, const std::string& client_ip);
  void revoke_everything(const std::string& user_id);

  Store& store_;
  const PasswordHasher& hasher_;
  const TokenService& tokens_;
  PasswordPolicy policy_;
  MillisClock clock_;
  RateLimiter per_ip_;
  LoginThrottle per_user_;
};

}  // namespace gthulhu::coordinator
