#pragma once
// The agent's bearer tokens. Unlike upstream (which issued a token to anyone who could
// show the agent's *public* key), a token is issued only against a real credential:
//   * a client certificate verified by the server's mTLS layer (client_id = its CN), or
//   * the configured client secret (compared in constant time).
// Tokens are RS256 JWTs signed with the agent's key (pinned algorithm, iss checked).
#include <chrono>
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

  const std::string& public_key_pem() const { return signer_->public_key_pem(); }

 private:
  TokenOptions options_;
  std::unique_ptr<auth::JwtSigner> signer_;
  std::unique_ptr<auth::JwtVerifier> verifier_;
};

}  // namespace gthulhu::agent
