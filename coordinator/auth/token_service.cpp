#include "coordinator/auth/token_service.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>

#include "common/auth/base64url.h"

namespace gthulhu::coordinator {

TokenService::TokenService(const std::string& private_key_pem, std::string issuer,
                           std::chrono::seconds access_ttl, std::chrono::seconds refresh_ttl,
                           auth::WallClock clock)
    : signer_(private_key_pem, issuer, clock),
      verifier_(signer_.public_key_pem(), issuer, std::chrono::seconds(30), clock),
      access_ttl_(access_ttl),
      refresh_ttl_(refresh_ttl),
      clock_(clock ? std::move(clock) : [] { return std::chrono::system_clock::now(); }) {
  if (access_ttl_.count() <= 0 || refresh_ttl_.count() <= 0) {
    throw std::invalid_argument("token lifetimes must be positive");
  }
}

std::string TokenService::issue_access(const User& user) const {
  nlohmann::json claims = {
      {"uid", user.id},
      {"sub", user.id},
      {"needChangePassword", user.status == UserStatus::kWaitChangePassword},
      {"tokenVersion", user.token_version},
      {"tokenType", "access"},
  };
  return signer_.sign(claims, access_ttl_);
}

AccessVerification TokenService::verify_access(std::string_view token) const {
  AccessVerification out;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       clock_().time_since_epoch()).count();
  {
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(token);
    if (it != cache_.end()) {
      if (it->second.exp > now) {
        out.ok = true;
        out.claims = it->second.claims;
        return out;
      }
      cache_.erase(it);
    }
  }
  auto v = verifier_.verify(token);
  if (!v.ok) {
    out.error = v.error;
    return out;
  }
  const auto& c = v.claims;
  auto type = c.find("tokenType");
  if (type == c.end() || !type->is_string() || *type != "access") {
    out.error = "invalid token type";
    return out;
  }
  auto uid = c.find("uid");
  auto ver = c.find("tokenVersion");
  if (uid == c.end() || !uid->is_string() || ver == c.end() || !ver->is_number_integer()) {
    out.error = "invalid token claims";
    return out;
  }
  out.claims.uid = uid->get<std::string>();
  out.claims.token_version = ver->get<std::int64_t>();
  auto ncp = c.find("needChangePassword");
  out.claims.need_change_password = ncp != c.end() && ncp->is_boolean() && ncp->get<bool>();
  out.ok = true;
  auto exp = c.find("exp");
  if (exp != c.end() && exp->is_number_integer()) {
    std::lock_guard lock(cache_mu_);
    if (cache_.size() >= kCacheCapacity) {
      for (auto it = cache_.begin(); it != cache_.end();) {
        it = it->second.exp <= now ? cache_.erase(it) : std::next(it);
      }
      if (cache_.size() >= kCacheCapacity) cache_.clear();
    }
    cache_[std::string(token)] = Verified{out.claims, exp->get<std::int64_t>()};
  }
  return out;
}

std::string TokenService::new_refresh_token(const std::string& user_id) {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("RAND_bytes failed");
  return user_id + "." +
         auth::base64url_encode(
             std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

std::string TokenService::user_of_refresh_token(const std::string& token) {
  const auto dot = token.find('.');
  if (dot == std::string::npos) return {};
  std::string id = token.substr(0, dot);
  return is_valid_id(id) ? id : std::string();
}

std::string TokenService::hash_refresh_token(std::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * sizeof digest);
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

}  // namespace gthulhu::coordinator
