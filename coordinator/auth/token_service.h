#pragma once
// The coordinator's tokens.
//
// Access token: a JWT signed RS256 with the configured key (algorithm pinned by
// common/auth/jwt.h), short-lived (15 min default). Claims, as upstream:
//   uid, sub (= uid), needChangePassword, tokenVersion, tokenType "access",
//   plus iss, iat, nbf, exp, jti from the signer.
// A token is only as good as its tokenVersion: every request compares it with the
// user's current one, so bumping the user's version revokes every token at once.
//
// Refresh token: "<user id>.<256 random bits, base64url>", not a JWT: it is only ever
// compared with the sha256 hash the store keeps and rotates on every use (single use).
// The user id lets a replayed (already used) token revoke its user's sessions; it is
// trusted only after the store has found the hash of the whole token.
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/auth/jwt.h"
#include "coordinator/domain/types.h"

namespace gthulhu::coordinator {

struct AccessClaims {
  std::string uid;
  bool need_change_password = false;
  std::int64_t token_version = 0;
};

struct AccessVerification {
  bool ok = false;
  AccessClaims claims;
  std::string error;  // for logs: why it was refused
};

class TokenService {
 public:
  // Throws std::invalid_argument for a bad key or issuer (see JwtSigner).
  TokenService(const std::string& private_key_pem, std::string issuer,
               std::chrono::seconds access_ttl, std::chrono::seconds refresh_ttl,
               auth::WallClock clock = {});

  std::string issue_access(const User& user) const;
  // Full verification the first time a token is seen; afterwards (same bytes) the
  // decoded claims are reused until the token's exp. Revocation is not affected: the
  // caller still compares tokenVersion with the stored user on every request.
  AccessVerification verify_access(std::string_view token) const;

  static std::string new_refresh_token(const std::string& user_id);
  // The user id part of a refresh token ("" when malformed).
  static std::string user_of_refresh_token(const std::string& token);
  static std::string hash_refresh_token(std::string_view token);  // sha256, lower hex

  std::chrono::seconds access_ttl() const { return access_ttl_; }
  std::chrono::seconds refresh_ttl() const { return refresh_ttl_; }
  const std::string& public_key_pem() const { return signer_.public_key_pem(); }

 private:
  auth::JwtSigner signer_;
  auth::JwtVerifier verifier_;
  std::chrono::seconds access_ttl_;
  std::chrono::seconds refresh_ttl_;
  auth::WallClock clock_;

  struct Verified {
    AccessClaims claims;
    std::int64_t exp = 0;  // unix seconds
  };
  static constexpr std::size_t kCacheCapacity = 8192;
  // Looked up by the request's string_view: no copy of the (~600 byte) token per request.
  struct TokenHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, Verified, TokenHash, std::equal_to<>> cache_;
};

}  // namespace gthulhu::coordinator
