#include "common/auth/jwt.h"

#include <jwt.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <strings.h>
#include <vector>

#include "common/auth/base64url.h"
#include "common/auth/rs256.h"
#include "common/auth/rsa_keys.h"

namespace gthulhu::auth {
namespace {

using json = nlohmann::json;

constexpr std::string_view kRs256 = "RS256";
constexpr int kMaxJsonDepth = 16;
constexpr const char* kSignerOwnedClaims[] = {"iss", "iat", "nbf", "exp", "jti"};

struct JwtFree {
  void operator()(jwt_t* j) const noexcept { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;

struct MallocFree {
  void operator()(char* p) const noexcept { std::free(p); }
};

WallClock or_system_clock(WallClock clock) {
  if (clock) return clock;
  return [] { return std::chrono::system_clock::now(); };
}

std::string random_jti() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  }
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

// A JSON object, refusing duplicate members: jansson (inside libjwt) and nlohmann could
// otherwise each pick a different one of two "alg" or "exp" members.
std::optional<json> parse_object(const std::string& text) {
  std::vector<std::set<std::string>> members;
  bool bad = false;
  json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxJsonDepth) bad = true;
    switch (event) {
      case json::parse_event_t::object_start:
        members.emplace_back();
        break;
      case json::parse_event_t::key:
        if (!members.empty() && !members.back().insert(parsed.get<std::string>()).second) {
          bad = true;
        }
        break;
      case json::parse_event_t::object_end:
        if (!members.empty()) members.pop_back();
        break;
      default:
        break;
    }
    return true;
  };
  json value = json::parse(text, check, /*allow_exceptions=*/false);
  if (bad || value.is_discarded() || !value.is_object()) return std::nullopt;
  return value;
}

JwtVerification refuse(std::string why) {
  JwtVerification out;
  out.error = std::move(why);
  return out;
}

double seconds_since_epoch(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

long to_epoch_seconds(std::chrono::system_clock::time_point t) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

// Empty when the header is acceptable.
std::string header_problem(const json& header) {
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || alg->get_ref<const std::string&>() != kRs256) {
    return "token algorithm must be RS256";
  }
  auto typ = header.find("typ");
  if (typ != header.end() &&
      (!typ->is_string() || strcasecmp(typ->get_ref<const std::string&>().c_str(), "JWT") != 0)) {
    return "token type must be JWT";
  }
  if (header.contains("crit")) return "token header has critical extensions we do not support";
  return {};
}

// Empty when the time claims and issuer are acceptable. `now` and `leeway` in seconds.
std::string claims_problem(const json& claims, const std::string& issuer, double now,
                           double leeway) {
  auto exp = claims.find("exp");
  if (exp == claims.end()) return "token has no exp claim";
  if (!exp->is_number()) return "token exp claim is not a number";
  if (now > exp->get<double>() + leeway) return "token has expired";

  auto nbf = claims.find("nbf");
  if (nbf != claims.end()) {
    if (!nbf->is_number()) return "token nbf claim is not a number";
    if (now + leeway < nbf->get<double>()) return "token is not valid yet (nbf)";
  }
  auto iat = claims.find("iat");
  if (iat != claims.end()) {
    if (!iat->is_number()) return "token iat claim is not a number";
    if (now + leeway < iat->get<double>()) return "token was issued in the future (iat)";
  }
  auto iss = claims.find("iss");
  if (iss == claims.end()) return "token has no iss claim";
  if (!iss->is_string() || iss->get_ref<const std::string&>() != issuer) {
    return "token issuer is not " + issuer;
  }
  return {};
}

}  // namespace

JwtSigner::JwtSigner(std::string private_key_pem, std::string issuer, WallClock clock)
    : private_key_pem_(load_rsa_private_key_pem(private_key_pem)),
      public_key_pem_(rsa_public_key_pem_of(private_key_pem_)),
      issuer_(std::move(issuer)),
      clock_(or_system_clock(std::move(clock))) {
  if (issuer_.empty()) throw std::invalid_argument("JWT issuer must not be empty");
}

std::string JwtSigner::sign(const json& claims, std::chrono::seconds ttl) const {
  if (!claims.is_object()) throw std::invalid_argument("JWT claims must be a JSON object");
  for (const char* owned : kSignerOwnedClaims) {
    if (claims.contains(owned)) {
      throw std::invalid_argument(std::string("JWT claim ") + owned + " is set by the signer");
    }
  }
  if (ttl <= std::chrono::seconds::zero()) {
    throw std::invalid_argument("JWT ttl must be positive");
  }
  long now = to_epoch_seconds(clock_());
  json full = claims;
  full["iss"] = issuer_;
  full["iat"] = now;
  full["nbf"] = now;
  full["exp"] = now + static_cast<long>(ttl.count());
  full["jti"] = random_jti();

  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw std::bad_alloc();
  JwtPtr token(raw);
  if (jwt_add_grants_json(token.get(), full.dump().c_str()) != 0) {
    throw std::runtime_error("libjwt refused the claims");
  }
  const auto* key = reinterpret_cast<const unsigned char*>(private_key_pem_.data());
  if (jwt_set_alg(token.get(), JWT_ALG_RS256, key, static_cast<int>(private_key_pem_.size())) !=
      0) {
    throw std::runtime_error("libjwt refused the RS256 key");
  }
  std::unique_ptr<char, MallocFree> encoded(jwt_encode_str(token.get()));
  if (!encoded) throw std::runtime_error("libjwt could not sign the token");
  return encoded.get();
}

JwtVerifier::JwtVerifier(std::string public_key_pem, std::string issuer,
                         std::chrono::seconds leeway, WallClock clock)
    : public_key_(parse_rsa_public_key(public_key_pem)),
      issuer_(std::move(issuer)),
      leeway_(leeway),
      clock_(or_system_clock(std::move(clock))) {
  if (issuer_.empty()) throw std::invalid_argument("JWT issuer must not be empty");
  if (leeway_ < std::chrono::seconds::zero()) {
    throw std::invalid_argument("JWT leeway must not be negative");
  }
}

JwtVerification JwtVerifier::verify(std::string_view token) const {
  if (token.empty()) return refuse("token is empty");
  if (token.size() > kMaxJwtBytes) return refuse("token is too large");

  auto first_dot = token.find('.');
  auto second_dot =
      first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos) {
    return refuse("token is not three dot-separated segments");
  }
  std::string_view header_text = token.substr(0, first_dot);
  std::string_view payload_text = token.substr(first_dot + 1, second_dot - first_dot - 1);
  std::string_view signature_text = token.substr(second_dot + 1);
  if (signature_text.empty()) return refuse("token is unsigned");

  // Everything that needs no key comes first, so malformed tokens cost no RSA work.
  auto header_bytes = base64url_decode(header_text);
  auto payload_bytes = base64url_decode(payload_text);
  auto signature = base64url_decode(signature_text);
  if (!header_bytes || !payload_bytes || !signature) {
    return refuse("token is not valid base64url");
  }
  auto header = parse_object(*header_bytes);
  if (!header) return refuse("token header is not a JSON object");
  if (std::string problem = header_problem(*header); !problem.empty()) return refuse(problem);
  auto claims = parse_object(*payload_bytes);
  if (!claims) return refuse("token payload is not a JSON object");

  // Only now, with the algorithm pinned to RS256, is the signature checked, with the
  // key parsed at construction.
  bool signature_known_good = verified_->contains(token);
  if (!signature_known_good &&
      !rs256_verifies(public_key_.get(), token.substr(0, second_dot), *signature)) {
    return refuse("token signature does not verify");
  }

  double now = seconds_since_epoch(clock_());
  if (std::string problem =
          claims_problem(*claims, issuer_, now, static_cast<double>(leeway_.count()));
      !problem.empty()) {
    return refuse(problem);
  }
  if (!signature_known_good) verified_->insert(token);
  JwtVerification out;
  out.ok = true;
  out.claims = std::move(*claims);
  return out;
}

}  // namespace gthulhu::auth
