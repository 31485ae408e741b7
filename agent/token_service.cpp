#include "agent/token_service.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

#include "common/auth/rsa_keys.h"
#include "common/http/json_api.h"
#include "common/http/json_input.h"

namespace gthulhu::agent {


TokenService::TokenService(TokenOptions options) : options_(std::move(options)) {
  if (options_.private_key_pem.empty()) {
    spdlog::warn("auth: no [auth] private_key configured: using an ephemeral key, tokens end with this process");
    keys_ = std::async(std::launch::async, [issuer = options_.issuer] {
              const auto t0 = std::chrono::steady_clock::now();
              auto keys = make_keys(auth::generate_rsa_private_key_pem(), issuer);
              spdlog::info("auth: ephemeral token key ready after {} ms",
                           std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - t0).count());
              return keys;
            }).share();
  } else {
    // A configured key is checked now: a bad one is a start-up error.
    std::promise<std::shared_ptr<const Keys>> ready;
    ready.set_value(make_keys(options_.private_key_pem, options_.issuer));
    keys_ = ready.get_future().share();
  }
}

bool TokenService::key_ready() const {
  return keys_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

std::shared_ptr<const TokenService::Keys> TokenService::make_keys(const std::string& pem,
                                                                  const std::string& issuer) {
  auto keys = std::make_shared<Keys>();
  keys->signer = std::make_unique<auth::JwtSigner>(pem, issuer);
  keys->verifier = std::make_unique<auth::JwtVerifier>(keys->signer->public_key_pem(), issuer);
  return keys;
}

namespace {
bool constant_time_equal(const std::string& a, const std::string& b) {
  // Compare digests so the length of the secret does not leak through timing either.
  unsigned char da[32], db[32];
  unsigned int la = 0, lb = 0;
  EVP_Digest(a.data(), a.size(), da, &la, EVP_sha256(), nullptr);
  EVP_Digest(b.data(), b.size(), db, &lb, EVP_sha256(), nullptr);
  return CRYPTO_memcmp(da, db, sizeof da) == 0;
}
}  // namespace

std::optional<IssuedToken> TokenService::issue(const http::Request& req, const nlohmann::json& body,
                                               std::string* error) const {
  std::string client_id;
  if (options_.allow_client_certificate && req.peer && !req.peer->common_name.empty()) {
    client_id = req.peer->common_name;
  } else {
    const std::string secret = http::optional_string(body, "secret").value_or("");
    if (!options_.client_secret.empty() && !secret.empty() &&
        constant_time_equal(secret, options_.client_secret)) {
      client_id = http::optional_string(body, "client_id").value_or("client");
    } else if (body.is_object() && body.contains("public_key") && secret.empty()) {
      *error = "a public key is not a credential: present a client certificate (mTLS) or the client secret";
      return std::nullopt;
    } else {
      *error = options_.client_secret.empty() && !req.peer
                   ? "no credential: this agent issues tokens only to mTLS clients"
                   : "invalid credential";
      return std::nullopt;
    }
  }
  IssuedToken t;
  t.client_id = client_id;
  t.token = keys().signer->sign({{"sub", client_id}, {"client_id", client_id}}, options_.ttl);
  t.expires_at = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count() +
                 options_.ttl.count();
  return t;
}

std::optional<std::string> TokenService::authenticate(const http::Request& req,
                                                      std::string* error) const {
  const std::string header = req.header("authorization");
  if (header.empty()) {
    *error = "Authorization header is required";
    return std::nullopt;
  }
  if (header.rfind("Bearer ", 0) != 0 || header.size() <= 7) {
    *error = "Authorization header must start with 'Bearer '";
    return std::nullopt;
  }
  auto v = keys().verifier->verify(std::string_view(header).substr(7));
  if (!v) {
    *error = "invalid or expired token: " + v.error;
    return std::nullopt;
  }
  return v.claims.value("sub", "");
}

http::Handler TokenService::require(http::Handler inner) const {
  return [this, inner = std::move(inner)](http::Request& req) {
    std::string error;
    auto who = authenticate(req, &error);
    if (!who) {
      auto r = http::json_error(401, error);
      r.with_header("WWW-Authenticate", "Bearer");
      return r;
    }
    req.attributes["client_id"] = *who;
    return inner(req);
  };
}

}  // namespace gthulhu::agent
