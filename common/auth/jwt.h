#pragma once
// JSON Web Tokens signed with RS256 only. Signing uses libjwt 1.10.2; verifying does
// not: libjwt picks the algorithm from the token's own header and verifies whatever it
// names (an "alg":"none" token passes with no key, an HS256 token whose HMAC key is our
// public key PEM passes as if we had signed it), and it re-reads the PEM key on every
// call (~0.9 ms with OpenSSL 3.0). The verifier instead parses its RSA key once,
// refuses everything but an RS256 header, decodes and parses every segment before any
// signature work, checks the RS256 signature with OpenSSL itself (common/auth/rs256.h,
// ~30-60 us) and then the registered claims. A forged token therefore costs the server
// one RSA public-key operation, a malformed one none; tokens whose signature already
// verified are remembered (verified_tokens.h) so a reused token skips even that.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <openssl/types.h>
#include <string>
#include <string_view>

#include "common/auth/verified_tokens.h"

namespace gthulhu::auth {

using WallClock = std::function<std::chrono::system_clock::time_point()>;

inline constexpr std::size_t kMaxJwtBytes = 8 * 1024;

// The outcome of JwtVerifier::verify. Bad tokens are ordinary input, not exceptions.
struct JwtVerification {
  bool ok = false;
  nlohmann::json claims;  // the verified payload, when ok
  std::string error;      // why the token was refused, when !ok; never echoes token text
  explicit operator bool() const { return ok; }
};

class JwtSigner {
 public:
  // Throws std::invalid_argument if the key is not an unencrypted RSA private key of at
  // least 2048 bits or the issuer is empty. `clock` defaults to the system clock.
  JwtSigner(std::string private_key_pem, std::string issuer, WallClock clock = {});

  // A compact RS256 token carrying `claims` (a JSON object) plus iss, iat, nbf (= iat),
  // exp (= iat + ttl) and a random 128-bit jti. The signer owns those five: passing any
  // of them in `claims`, a non-object, or ttl <= 0 throws std::invalid_argument.
  std::string sign(const nlohmann::json& claims, std::chrono::seconds ttl) const;

  // The matching public key (SubjectPublicKeyInfo PEM), for a JwtVerifier.
  const std::string& public_key_pem() const { return public_key_pem_; }
  const std::string& issuer() const { return issuer_; }

 private:
  std::string private_key_pem_;
  std::string public_key_pem_;
  std::string issuer_;
  WallClock clock_;
};

class JwtVerifier {
 public:
  // `public_key_pem`: "PUBLIC KEY", "RSA PUBLIC KEY" or a "CERTIFICATE", RSA >= 2048
  // bits. Throws std::invalid_argument for a bad key, an empty issuer or negative leeway.
  JwtVerifier(std::string public_key_pem, std::string issuer,
              std::chrono::seconds leeway = std::chrono::seconds(30), WallClock clock = {});

  // Accepts a token only if: it is at most kMaxJwtBytes of three strict base64url
  // segments; the header is a JSON object with alg exactly "RS256", typ (if present)
  // "JWT", no "crit", no duplicate members; the RS256 signature verifies with our key;
  // the payload is a JSON object without duplicate members whose exp (required) is not
  // past, nbf (if present) not ahead, iat (if present) not ahead, each by more than the
  // leeway, and whose iss equals our issuer. Safe to call from many threads at once.
  JwtVerification verify(std::string_view token) const;

 private:
  std::shared_ptr<EVP_PKEY> public_key_;  // parsed once; shared by copies
  std::string issuer_;
  std::chrono::seconds leeway_;
  WallClock clock_;
  std::shared_ptr<VerifiedTokens> verified_ = std::make_shared<VerifiedTokens>();
};

}  // namespace gthulhu::auth
