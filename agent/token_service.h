#pragma once
// The agent's bearer tokens. Unlike upstream (which issued a token to anyone who could
// show the agent's *public* key), a token is issued only against a real credential:
//   * a client certificate verified by the server's mTLS layer (client_id = its CN), or
//   * the configured client secret (compared in constant time).
// Tokens are RS256 JWTs signed with the agent's key (pinned algorithm, iss checked).
// Without a configured key an ephemeral RSA key is generated off the serving path (it
// keeps a CPU busy for ~5 s in a TCG VM): the agent serves /health and applies intents
// meanwhile; only token requests and authenticated calls wait for it.
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "common/auth/jwt.h"
#include "common/http/request.h"

namespace gthulhu::agent {

struct TokenOptions {
  std::string private_key_pem;  // empty: an ephemeral key is generated (tokens die with the process)
  std::string client_secret;    // empty: secret login disabled
  bool allow_client_certificate = true;
  std::chrono::seconds ttl{3600};
  std::string issuer = "gthulhu-agent";
};

struct IssuedToken {
  std::string token;
  int64_t expires_at = 0;  // unix seconds
  std::string client_id;
};

class TokenService {
 public:
  explicit TokenService(TokenOptions options);

  // Decides from the request (peer certificate) and its JSON body
  // {"client_id","secret"} whether to issue; on refusal returns nullopt and *error.
  std::optional<IssuedToken> issue(const http::Request& req, const nlohmann::json& body,
                                   std::string* error) const;
  // Checks "Authorization: Bearer <jwt>"; returns the client id or nullopt and *error.
  std::optional<std::string> authenticate(const http::Request& req, std::string* error) const;

  // Wraps a handler so it runs only with a valid token (401 JSON otherwise).
  http::Handler require(http::Handler inner) const;

  // Waits for the key when it is still being generated.
  const std::string& public_key_pem() const { return keys().signer->public_key_pem(); }
  // True once the key exists (generated or configured).
  bool key_ready() const;

 private:
  struct Keys {
    std::unique_ptr<auth::JwtSigner> signer;
    std::unique_ptr<auth::JwtVerifier> verifier;
  };
  const Keys& keys() const { return *keys_.get(); }
  static std::shared_ptr<const Keys> make_keys(const std::string& pem, const std::string& issuer);

  TokenOptions options_;
  std::shared_future<std::shared_ptr<const Keys>> keys_;
};

}  // namespace gthulhu::agent
