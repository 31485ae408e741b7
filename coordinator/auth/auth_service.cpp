#include "coordinator/auth/auth_service.h"

#include <spdlog/spdlog.h>

#include "coordinator/api/api_error.h"

namespace gthulhu::coordinator {

namespace {
constexpr const char* kBadCredentials = "invalid username or password";
constexpr const char* kBadRefresh = "invalid refresh token";
}  // namespace

UnixMillis system_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

AuthService::AuthService(Store& store, const PasswordHasher& hasher, const TokenService& tokens,
                         PasswordPolicy policy, LoginLimits limits, MillisClock clock,
                         SteadyClock steady)
    : store_(store),
      hasher_(hasher),
      tokens_(tokens),
      policy_(policy),
      clock_(std::move(clock)),
      per_ip_(limits.attempts_per_ip, limits.ip_window, 100000, steady),
      per_user_(LoginThrottleOptions{limits.failures_per_user, limits.failure_base_delay,
                                     limits.failure_max_delay, limits.user_window, 100000},
                steady) {}

void AuthService::check_limits(const std::string& username, const std::string& client_ip) {
  auto ip = per_ip_.consume(client_ip);
  if (!ip.allowed) {
    spdlog::warn("login rate limit: client {} throttled", client_ip);
    fail(429, "too many login attempts, retry later", static_cast<int>(ip.retry_after.count()));
  }
  auto user = per_user_.check(username, client_ip);
  if (!user.allowed) {
    spdlog::warn("login rate limit: client {} is delayed after failures for one username",
                 client_ip);
    fail(429, "too many login attempts, retry later", static_cast<int>(user.retry_after.count()));
  }
}

TokenPair AuthService::issue(const User& user) {
  TokenPair pair;
  pair.access_token = tokens_.issue_access(user);
  pair.refresh_token = TokenService::new_refresh_token(user.id);
  pair.expires_in = tokens_.access_ttl().count();
  pair.need_change_password = user.status == UserStatus::kWaitChangePassword;
  RefreshSession s;
  s.id = new_id();
  s.user_id = user.id;
  s.token_hash = TokenService::hash_refresh_token(pair.refresh_token);
  s.created_at = clock_();
  s.expires_at = s.created_at + std::chrono::duration_cast<std::chrono::milliseconds>(
                                    tokens_.refresh_ttl()).count();
  check(store_.create_refresh_session(s));
  return pair;
}

TokenPair AuthService::login(const std::string& username, const std::string& password,
                             const std::string& client_ip) {
  check_limits(username, client_ip);
  auto found = store_.get_user_by_username(username);
  if (!found.ok() && found.code() != StoreErrc::kNotFound) fail_store(found.error());
  if (!found.ok()) {
    hasher_.burn_verify(password);
    per_user_.record_failure(username, client_ip);
    fail(401, kBadCredentials);
  }
  User user = std::move(found).value();
  if (!hasher_.verify(password, user.password_hash)) {
    per_user_.record_failure(username, client_ip);
    spdlog::info("login failed for user id {} from {}", user.id, client_ip);
    fail(401, kBadCredentials);
  }
  per_user_.record_success(username, client_ip);
  if (user.status == UserStatus::kInactive) fail(401, "user is inactive");
  if (hasher_.needs_rehash(user.password_hash)) {
    // Upgrade to the configured parameters; losing the race to another write is fine.
    User upgraded = user;
    upgraded.password_hash = hasher_.hash(password);
    upgraded.updated_at = clock_();
    auto r = store_.update_user(upgraded);
    if (r.ok()) user = std::move(r).value();
  }
  // Opportunistic housekeeping of dead refresh sessions.
  (void)store_.delete_expired_refresh_sessions(clock_());
  return issue(user);
}

void AuthService::revoke_everything(const std::string& user_id) {
  (void)unwrap(store_.bump_token_version(user_id, clock_()), "user not found");
  check(store_.delete_refresh_sessions_of_user(user_id));
}

TokenPair AuthService::refresh(const std::string& refresh_token) {
  const auto hash = TokenService::hash_refresh_token(refresh_token);
  auto consumed = store_.consume_refresh_session(hash, clock_());
  if (!consumed.ok()) {
    if (consumed.code() == StoreErrc::kNotFound) fail(401, kBadRefresh);
    if (consumed.code() == StoreErrc::kConflict) {
      // The token was used before: someone holds a copy. Revoke every session of its
      // user. The user id inside the token can be trusted here: the store found the
      // hash of the whole token, so this is a token we issued.
      const auto user_id = TokenService::user_of_refresh_token(refresh_token);
      spdlog::warn("refresh token reuse detected for user id {}; revoking every session",
                   user_id);
      if (!user_id.empty()) {
        auto bumped = store_.bump_token_version(user_id, clock_());
        if (!bumped.ok() && bumped.code() != StoreErrc::kNotFound) fail_store(bumped.error());
        check(store_.delete_refresh_sessions_of_user(user_id));
      }
      fail(401, "refresh token already used; every session of this user was revoked");
    }
    fail_store(consumed.error());
  }
  auto user = store_.get_user(consumed->user_id);
  if (!user.ok()) {
    if (user.code() == StoreErrc::kNotFound) fail(401, kBadRefresh);
    fail_store(user.error());
  }
  if (user->status == UserStatus::kInactive) fail(401, "user is inactive");
  return issue(*user);
}

void AuthService::logout(const std::string& refresh_token) {
  const auto hash = TokenService::hash_refresh_token(refresh_token);
  auto consumed = store_.consume_refresh_session(hash, clock_());
  if (consumed.ok() || consumed.code() == StoreErrc::kConflict) return;  // idempotent
  if (consumed.code() == StoreErrc::kNotFound) fail(401, kBadRefresh);
  fail_store(consumed.error());
}

void AuthService::logout_all(const std::string& user_id) { revoke_everything(user_id); }

TokenPair AuthService::change_own_password(const User& user, const std::string& old_password,
                                           const std::string& new_password,
                                           const std::string& client_ip) {
  check_limits(user.username, client_ip);
  if (!hasher_.verify(old_password, user.password_hash)) {
    per_user_.record_failure(user.username, client_ip);
    fail(401, "invalid password");
  }
  if (auto why = policy_.check(new_password, user.username); !why.empty()) fail(422, why);
  if (old_password == new_password) fail(422, "the new password must differ from the old one");
  User edit = user;
  edit.password_hash = hasher_.hash(new_password);
  edit.status = UserStatus::kActive;
  edit.token_version = user.token_version + 1;  // every other token dies
  edit.updated_at = clock_();
  User saved = unwrap(store_.update_user(edit), "user not found");
  check(store_.delete_refresh_sessions_of_user(user.id));
  return issue(saved);
}

}  // namespace gthulhu::coordinator
