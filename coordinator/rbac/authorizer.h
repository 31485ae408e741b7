#pragma once
// Who is calling and may they: the bearer token -> user -> roles -> permission check,
// in the upstream's order (upstream-gthulhu.md 1.2), with its messages:
//   401 "Missing Authorization header" / "Invalid Authorization header format"
//   401 "invalid or expired token" (bad signature, wrong algorithm, expired, ...)
//   401 "invalid token type" (not an access token)
//   401 "user not found" / "token revoked" (tokenVersion moved on) / "user is inactive"
//   403 "password change required" (every route but the password change itself)
//   403 "permission denied" (no role of the user grants the key)
// Differences from the upstream, on purpose: the stored user status decides "password
// change required" (not a claim frozen into the token), and when several of the user's
// roles grant the key the broadest wins (self-scoped only if every grant is self).
//
// Cost per request: one token check (signature verifications are remembered by the
// JwtVerifier), the user record (from the CachingStore when one is given: a write
// through this process is seen at once, another replica's or a direct database write
// within its ttl, `store.cache_ttl`; without one, a store read per request), and the
// user's roles from a small cache: a role's grants are reused for at most
// `role_cache_ttl` (default 1 s), and every role write through this process empties
// the cache at once. With several coordinators on one MongoDB, a role change made
// through another instance takes effect here within that TTL.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "coordinator/auth/token_service.h"
#include "coordinator/domain/types.h"
#include "coordinator/store/caching_store.h"
#include "coordinator/store/store.h"

namespace gthulhu::coordinator {

struct Principal {
  // The caller's record as the cache holds it (shared, never null): copying a User per
  // request cost several allocations on the hot path.
  std::shared_ptr<const User> user;
  // The granting policy has `self`: the caller may act only on their own resources.
  bool self_only = false;
};

// Permission "" = any authenticated user; perm::kUserPasswordChange is always granted
// and is the only one allowed while a password change is pending.
class Authorizer {
 public:
  // `users` (may be null): where the caller's user record is read from per request.
  Authorizer(Store& store, const TokenService& tokens,
             std::chrono::milliseconds role_cache_ttl = std::chrono::seconds(1),
             CachingStore* users = nullptr)
      : store_(store), tokens_(tokens), role_cache_ttl_(role_cache_ttl), users_(users) {}

  // Throws ApiError (401/403/503) as listed above.
  Principal authorize(const std::string& authorization_header, const std::string& permission) const;

  // Forget cached roles (call after creating, updating or deleting a role).
  void invalidate_roles() const;

 private:
  // permission key -> granted without `self` by at least one policy of the role.
  // Immutable once built and shared with the requests using it (no copy per request).
  using Grants = std::unordered_map<std::string, bool>;
  using SharedGrants = std::shared_ptr<const Grants>;
  struct CachedRole {
    SharedGrants grants;
    std::chrono::steady_clock::time_point fetched;
  };
  // The caller's user record; throws ApiError 401 "user not found" / 503.
  std::shared_ptr<const User> read_user(const std::string& id) const;
  // The grants of each named role (absent roles grant nothing); throws ApiError 503.
  std::vector<SharedGrants> grants_of(const std::vector<std::string>& role_names) const;

  Store& store_;
  const TokenService& tokens_;
  std::chrono::milliseconds role_cache_ttl_;
  CachingStore* users_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, CachedRole> roles_;
  mutable std::uint64_t generation_ = 0;
};

}  // namespace gthulhu::coordinator
