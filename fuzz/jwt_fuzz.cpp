// JWT parsing and verification: any bytes as a token must be refused cleanly (never a
// crash, never accepted without our signature). The input is also signed as claims
// when it is a JSON object, and that token must verify with exactly those claims.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/auth/jwt.h"
#include "tests/support/test_pki.h"

using namespace gthulhu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auth::JwtSigner signer(test::rsa_key_pair().private_key_pem, "fuzz");
  static const auth::JwtVerifier verifier(signer.public_key_pem(), "fuzz");
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto v = verifier.verify(text);
  // Only tokens this process signed can verify; the fuzzer cannot forge RS256.
  if (v.ok && text.find('.') == std::string_view::npos) std::abort();
  auto claims = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (claims.is_object() && size < 4096) {
    std::string token;
    try {
      token = signer.sign(claims, std::chrono::seconds(60));
    } catch (const std::invalid_argument&) {
      return 0;  // reserved claims (iss, exp, ...) are refused by design
    }
    auto back = verifier.verify(token);
    if (!back.ok) std::abort();
  }
  return 0;
}
