#include "common/auth/jwt.h"

#include <gtest/gtest.h>
#include <jwt.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <atomic>
#include <cstdlib>
#include <thread>
#include <vector>
#include <memory>
#include <stdexcept>

#include "common/auth/base64url.h"
#include "common/crypto/openssl_ptr.h"
#include "tests/support/test_pki.h"

namespace gthulhu::auth {
namespace {

using json = nlohmann::json;
using std::chrono::seconds;
using std::chrono::system_clock;

constexpr const char* kIssuer = "gthulhu-test";

const test::KeyPair& keys() { return test::rsa_key_pair(); }

WallClock fixed_clock(system_clock::time_point t) {
  return [t] { return t; };
}

long epoch_now() {
  return static_cast<long>(
      std::chrono::duration_cast<seconds>(system_clock::now().time_since_epoch()).count());
}

JwtVerifier verifier() { return JwtVerifier(keys().public_key_pem, kIssuer); }

std::string signing_input(const json& header, const json& payload) {
  return base64url_encode(header.dump()) + "." + base64url_encode(payload.dump());
}

// An RS256 signature made directly with OpenSSL, so tests can sign exactly the bytes
// they want (claims the JwtSigner would never produce, duplicate members, ...).
std::string rs256(const std::string& private_key_pem, const std::string& input) {
  crypto::BioPtr bio = crypto::memory_bio(private_key_pem);
  crypto::EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t len = 0;
  if (!key || !ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    throw std::runtime_error("cannot sign");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    throw std::runtime_error("cannot sign");
  }
  sig.resize(len);
  return sig;
}

std::string signed_raw(const std::string& header_text, const std::string& payload_text) {
  std::string input = base64url_encode(header_text) + "." + base64url_encode(payload_text);
  return input + "." + base64url_encode(rs256(keys().private_key_pem, input));
}

json valid_claims() {
  long now = epoch_now();
  return {{"sub", "alice"}, {"iss", kIssuer}, {"iat", now}, {"nbf", now}, {"exp", now + 600}};
}

std::string signed_claims(const json& claims) {
  return signed_raw(R"({"alg":"RS256","typ":"JWT"})", claims.dump());
}

// libjwt on its own, as a caller who trusted it would use it: 0 means "accepted".
int libjwt_alone_decode(const std::string& token, const std::string& key) {
  jwt_t* raw = nullptr;
  int rc = jwt_decode(&raw, token.c_str(), reinterpret_cast<const unsigned char*>(key.data()),
                      static_cast<int>(key.size()));
  jwt_free(raw);
  return rc;
}

TEST(Jwt, AcceptsAGoodTokenAndRoundTripsClaims) {
  JwtSigner signer(keys().private_key_pem, kIssuer);
  json claims = {{"sub", "alice"}, {"roles", {"admin", "viewer"}}, {"n", 5},
                 {"nested", {{"ok", true}}}};
  std::string token = signer.sign(claims, seconds(900));

  JwtVerification result = verifier().verify(token);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_TRUE(result);
  EXPECT_EQ(result.claims["sub"], "alice");
  EXPECT_EQ(result.claims["roles"], json({"admin", "viewer"}));
  EXPECT_EQ(result.claims["n"], 5);
  EXPECT_EQ(result.claims["nested"]["ok"], true);
  EXPECT_EQ(result.claims["iss"], kIssuer);
  EXPECT_EQ(result.claims["exp"].get<long>() - result.claims["iat"].get<long>(), 900);
  EXPECT_EQ(result.claims["nbf"], result.claims["iat"]);
  EXPECT_EQ(result.claims["jti"].get<std::string>().size(), 22u);  // 128 bits, base64url
}

TEST(Jwt, EveryTokenGetsItsOwnJti) {
  JwtSigner signer(keys().private_key_pem, kIssuer);
  auto a = verifier().verify(signer.sign({{"sub", "a"}}, seconds(60)));
  auto b = verifier().verify(signer.sign({{"sub", "a"}}, seconds(60)));
  ASSERT_TRUE(a.ok && b.ok);
  EXPECT_NE(a.claims["jti"], b.claims["jti"]);
}

TEST(Jwt, SignerPublicKeyMatchesTheKeyPair) {
  JwtSigner signer(keys().private_key_pem, kIssuer);
  EXPECT_EQ(signer.public_key_pem(), keys().public_key_pem);
  JwtVerifier own(signer.public_key_pem(), kIssuer);
  EXPECT_TRUE(own.verify(signer.sign(json::object(), seconds(60))).ok);
}

TEST(Jwt, RejectsAlgNone) {
  std::string unsigned_input = signing_input({{"alg", "none"}, {"typ", "JWT"}}, valid_claims());
  for (const std::string& token : {unsigned_input + ".", unsigned_input + ".c2ln"}) {
    auto result = verifier().verify(token);
    EXPECT_FALSE(result.ok) << token;
  }
  for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
    std::string input = signing_input({{"alg", alg}}, valid_claims());
    std::string token = input + "." + base64url_encode(rs256(keys().private_key_pem, input));
    auto result = verifier().verify(token);
    EXPECT_FALSE(result.ok) << alg;
    EXPECT_EQ(result.error, "token algorithm must be RS256");
  }
  // Without our header check, libjwt accepts an unsigned token whenever no key is given.
  EXPECT_EQ(libjwt_alone_decode(unsigned_input + ".", ""), 0);
}

TEST(Jwt, RejectsHs256KeyConfusionWithThePublicKeyAsHmacSecret) {
  const std::string& public_pem = keys().public_key_pem;
  std::string input = signing_input({{"alg", "HS256"}, {"typ", "JWT"}}, valid_claims());
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  ASSERT_NE(HMAC(EVP_sha256(), public_pem.data(), static_cast<int>(public_pem.size()),
                 reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len),
            nullptr);
  std::string token =
      input + "." + base64url_encode(std::string(reinterpret_cast<char*>(mac), mac_len));

  // The forged token is real: libjwt, given our public key, accepts it as HS256.
  ASSERT_EQ(libjwt_alone_decode(token, public_pem), 0);

  auto result = verifier().verify(token);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "token algorithm must be RS256");
}

TEST(Jwt, RejectsOtherAlgorithmsAndHeaders) {
  json claims = valid_claims();
  for (const json& header :
       {json{{"alg", "RS512"}}, json{{"alg", "PS256"}}, json{{"alg", "rs256"}},
        json{{"alg", "RS256 "}}, json{{"alg", json::array({"RS256"})}}, json{{"typ", "JWT"}},
        json{{"alg", "RS256"}, {"typ", "JWE"}}, json{{"alg", "RS256"}, {"typ", 1}},
        json{{"alg", "RS256"}, {"crit", {"exp"}}, {"exp", 1}}}) {
    auto result = verifier().verify(signed_raw(header.dump(), claims.dump()));
    EXPECT_FALSE(result.ok) << header.dump();
  }
  // typ is optional; when present it is compared case-insensitively (RFC 7519 5.1).
  EXPECT_TRUE(verifier().verify(signed_raw(R"({"alg":"RS256"})", claims.dump())).ok);
  EXPECT_TRUE(verifier().verify(signed_raw(R"({"alg":"RS256","typ":"jwt"})", claims.dump())).ok);
}

TEST(Jwt, RejectsDuplicateMembers) {
  // jansson and nlohmann must never disagree about which "alg" or "exp" counts.
  json claims = valid_claims();
  std::string dup_alg = R"({"alg":"HS256","alg":"RS256"})";
  EXPECT_FALSE(verifier().verify(signed_raw(dup_alg, claims.dump())).ok);
  std::string payload = claims.dump();
  payload.insert(1, R"("exp":1,)");
  EXPECT_FALSE(verifier().verify(signed_raw(R"({"alg":"RS256"})", payload)).ok);
}

TEST(Jwt, RejectsExpiredTokens) {
  auto now = system_clock::now();
  JwtSigner old_signer(keys().private_key_pem, kIssuer, fixed_clock(now - std::chrono::hours(2)));
  auto result = verifier().verify(old_signer.sign({{"sub", "alice"}}, seconds(3600)));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "token has expired");
}

TEST(Jwt, AppliesLeewayToExpiry) {
  auto now = system_clock::now();
  JwtSigner signer(keys().private_key_pem, kIssuer, fixed_clock(now - seconds(70)));
  std::string token = signer.sign({{"sub", "alice"}}, seconds(60));  // expired 10 s ago
  EXPECT_TRUE(JwtVerifier(keys().public_key_pem, kIssuer, seconds(30)).verify(token).ok);
  EXPECT_FALSE(JwtVerifier(keys().public_key_pem, kIssuer, seconds(0)).verify(token).ok);
}

TEST(Jwt, RejectsTokensNotValidYet) {
  auto later = system_clock::now() + std::chrono::hours(1);
  JwtSigner future_signer(keys().private_key_pem, kIssuer, fixed_clock(later));
  auto result = verifier().verify(future_signer.sign({{"sub", "alice"}}, seconds(7200)));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "token is not valid yet (nbf)");

  json claims = valid_claims();
  claims.erase("nbf");
  claims["iat"] = epoch_now() + 3600;
  result = verifier().verify(signed_claims(claims));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "token was issued in the future (iat)");
}

TEST(Jwt, RejectsWrongIssuer) {
  JwtSigner signer(keys().private_key_pem, "someone-else");
  auto result = verifier().verify(signer.sign({{"sub", "alice"}}, seconds(60)));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, std::string("token issuer is not ") + kIssuer);
}

TEST(Jwt, RejectsMissingOrMalformedRegisteredClaims) {
  json no_exp = valid_claims();
  no_exp.erase("exp");
  auto result = verifier().verify(signed_claims(no_exp));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "token has no exp claim");

  json no_iss = valid_claims();
  no_iss.erase("iss");
  EXPECT_EQ(verifier().verify(signed_claims(no_iss)).error, "token has no iss claim");

  json string_exp = valid_claims();
  string_exp["exp"] = std::to_string(epoch_now() + 600);
  EXPECT_EQ(verifier().verify(signed_claims(string_exp)).error, "token exp claim is not a number");

  EXPECT_FALSE(verifier().verify(signed_raw(R"({"alg":"RS256"})", "[1,2]")).ok);
  EXPECT_FALSE(verifier().verify(signed_raw(R"({"alg":"RS256"})", "not json")).ok);
}

TEST(Jwt, RejectsTamperedPayload) {
  JwtSigner signer(keys().private_key_pem, kIssuer);
  std::string token = signer.sign({{"sub", "alice"}, {"role", "viewer"}}, seconds(600));
  auto dot1 = token.find('.');
  auto dot2 = token.find('.', dot1 + 1);
  json payload = json::parse(*base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1)));
  payload["role"] = "admin";
  std::string forged =
      token.substr(0, dot1 + 1) + base64url_encode(payload.dump()) + token.substr(dot2);
  auto result = verifier().verify(forged);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "token signature does not verify");
}

TEST(Jwt, RejectsTamperedOrDecoratedSignature) {
  JwtSigner signer(keys().private_key_pem, kIssuer);
  std::string token = signer.sign({{"sub", "alice"}}, seconds(600));
  ASSERT_TRUE(verifier().verify(token).ok);

  std::string flipped = token;
  flipped[flipped.size() - 10] = flipped[flipped.size() - 10] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verifier().verify(flipped).ok);

  // libjwt's base64 decoder skips unknown characters, so it accepts a signature with
  // junk appended; the strict decoder here does not.
  EXPECT_EQ(libjwt_alone_decode(token + "!!!", keys().public_key_pem), 0);
  EXPECT_FALSE(verifier().verify(token + "!!!").ok);
  EXPECT_FALSE(verifier().verify(token + "=").ok);
}

TEST(Jwt, RejectsTokensSignedByAnotherKey) {
  JwtSigner stranger(test::other_rsa_key_pair().private_key_pem, kIssuer);
  auto result = verifier().verify(stranger.sign({{"sub", "alice"}}, seconds(600)));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "token signature does not verify");
}

TEST(Jwt, RejectsGarbage) {
  std::string good = JwtSigner(keys().private_key_pem, kIssuer).sign({{"a", 1}}, seconds(60));
  std::string header = good.substr(0, good.find('.'));
  for (const std::string& token :
       {std::string(), std::string("abc"), std::string("a.b"), std::string("a.b.c.d"),
        std::string(".."), std::string("!!!.###.$$$"), std::string("eyJ=.eyJ=.c2ln"),
        std::string("e.e.e"), header + ".e30.", header + ".%%%.c2ln",
        std::string("eyJhbGciOiJSUzI1NiJ9\n.e30.c2ln"), std::string("W10.e30.c2ln"),
        std::string("bm90IGpzb24.e30.c2ln"), good.substr(0, good.size() - 1) + "\x01",
        std::string(" ") + good, good + ".", std::string(1, '\0') + good}) {
    auto result = verifier().verify(token);
    EXPECT_FALSE(result.ok) << token;
    EXPECT_FALSE(result.error.empty());
  }
}

TEST(Jwt, RejectsOversizedTokens) {
  JwtSigner signer(keys().private_key_pem, kIssuer);
  std::string token = signer.sign({{"blob", std::string(kMaxJwtBytes, 'x')}}, seconds(60));
  auto result = verifier().verify(token);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "token is too large");
}

TEST(Jwt, RejectsBadKeysAtConstruction) {
  EXPECT_THROW(JwtSigner("", kIssuer), std::invalid_argument);
  EXPECT_THROW(JwtSigner("not a key", kIssuer), std::invalid_argument);
  EXPECT_THROW(JwtSigner(keys().public_key_pem, kIssuer), std::invalid_argument);
  EXPECT_THROW(JwtSigner(keys().private_key_pem, ""), std::invalid_argument);
  EXPECT_THROW(JwtVerifier("", kIssuer), std::invalid_argument);
  EXPECT_THROW(JwtVerifier("garbage", kIssuer), std::invalid_argument);
  EXPECT_THROW(JwtVerifier(keys().private_key_pem, kIssuer), std::invalid_argument);
  EXPECT_THROW(JwtVerifier(keys().public_key_pem, ""), std::invalid_argument);
  EXPECT_THROW(JwtVerifier(keys().public_key_pem, kIssuer, seconds(-1)), std::invalid_argument);

  test::KeyPair weak = test::generate_rsa_key_pair(1024);
  try {
    JwtSigner signer(weak.private_key_pem, kIssuer);
    ADD_FAILURE() << "a 1024-bit key was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("1024 bits"), std::string::npos) << e.what();
  }
  EXPECT_THROW(JwtVerifier(weak.public_key_pem, kIssuer), std::invalid_argument);

  crypto::EvpPkeyPtr ec(EVP_EC_gen("P-256"));
  ASSERT_TRUE(ec);
  crypto::BioPtr out(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_PUBKEY(out.get(), ec.get()), 1);
  EXPECT_THROW(JwtVerifier(crypto::bio_contents(out.get()), kIssuer), std::invalid_argument);
}

TEST(Jwt, RefusesEncryptedPrivateKeysWithoutPrompting) {
  crypto::BioPtr in = crypto::memory_bio(keys().private_key_pem);
  crypto::EvpPkeyPtr key(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
  crypto::BioPtr out(BIO_new(BIO_s_mem()));
  const char* pass = "secret";
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(out.get(), key.get(), EVP_aes_256_cbc(), pass, 6,
                                          nullptr, nullptr),
            1);
  EXPECT_THROW(JwtSigner(crypto::bio_contents(out.get()), kIssuer), std::invalid_argument);
}

TEST(Jwt, VerifierAcceptsPkcs1KeysAndCertificates) {
  const test::TestPki& pki = test::test_pki();
  JwtSigner signer(pki.server.key_pem, kIssuer);
  std::string token = signer.sign({{"sub", "svc"}}, seconds(60));
  EXPECT_TRUE(JwtVerifier(pki.server.cert_pem, kIssuer).verify(token).ok);

  crypto::BioPtr in = crypto::memory_bio(keys().public_key_pem);
  crypto::EvpPkeyPtr key(PEM_read_bio_PUBKEY(in.get(), nullptr, nullptr, nullptr));
  crypto::BioPtr out(BIO_new(BIO_s_mem()));
  OSSL_ENCODER_CTX* enc = OSSL_ENCODER_CTX_new_for_pkey(key.get(), EVP_PKEY_PUBLIC_KEY, "PEM",
                                                        "type-specific", nullptr);
  ASSERT_NE(enc, nullptr);
  ASSERT_EQ(OSSL_ENCODER_to_bio(enc, out.get()), 1);
  OSSL_ENCODER_CTX_free(enc);
  std::string pkcs1 = crypto::bio_contents(out.get());
  ASSERT_NE(pkcs1.find("BEGIN RSA PUBLIC KEY"), std::string::npos);
  JwtSigner own(keys().private_key_pem, kIssuer);
  EXPECT_TRUE(JwtVerifier(pkcs1, kIssuer).verify(own.sign({{"sub", "x"}}, seconds(60))).ok);
}

TEST(Jwt, SignerRefusesClaimsItOwns) {
  JwtSigner signer(keys().private_key_pem, kIssuer);
  for (const char* owned : {"iss", "iat", "nbf", "exp", "jti"}) {
    EXPECT_THROW(signer.sign({{owned, 1}}, seconds(60)), std::invalid_argument) << owned;
  }
  EXPECT_THROW(signer.sign(json::array(), seconds(60)), std::invalid_argument);
  EXPECT_THROW(signer.sign(json::object(), seconds(0)), std::invalid_argument);
}

TEST(Jwt, RepeatedTokensAreStillCheckedForExpiry) {
  auto issued = system_clock::now();
  auto now = std::make_shared<system_clock::time_point>(issued);
  JwtVerifier v(keys().public_key_pem, kIssuer, seconds(0), [now] { return *now; });
  JwtSigner signer(keys().private_key_pem, kIssuer, fixed_clock(issued));
  std::string token = signer.sign({{"sub", "alice"}}, seconds(60));
  EXPECT_TRUE(v.verify(token).ok);
  EXPECT_TRUE(v.verify(token).ok);  // the signature is remembered now
  *now += seconds(61);
  auto late = v.verify(token);
  EXPECT_FALSE(late.ok);
  EXPECT_EQ(late.error, "token has expired");
}

// Forged tokens: well-formed RS256 tokens whose signature is not ours are refused by
// the key parsed at construction, whatever the signature's bytes or length.
TEST(Jwt, RefusesForgedSignaturesOfAnyLength) {
  JwtSigner signer(keys().private_key_pem, kIssuer);
  std::string good = signer.sign({{"sub", "alice"}}, seconds(600));
  std::string input = good.substr(0, good.rfind('.'));
  for (size_t len : {1u, 255u, 256u, 257u, 512u}) {
    std::string sig(len, '\x5a');
    auto result = verifier().verify(input + "." + base64url_encode(sig));
    EXPECT_FALSE(result.ok) << len;
    EXPECT_EQ(result.error, "token signature does not verify") << len;
  }
  // Our own key's RSA-PSS signature over the same bytes is not RS256 (PKCS#1 v1.5).
  crypto::BioPtr bio = crypto::memory_bio(keys().private_key_pem);
  crypto::EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_PKEY_CTX* pctx = nullptr;
  size_t len = 0;
  ASSERT_EQ(EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key.get()), 1);
  ASSERT_EQ(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  ASSERT_EQ(EVP_DigestSign(ctx.get(), nullptr, &len, in, input.size()), 1);
  std::string pss(len, '\0');
  ASSERT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(pss.data()), &len, in, input.size()), 1);
  pss.resize(len);
  auto result = verifier().verify(input + "." + base64url_encode(pss));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "token signature does not verify");
  EXPECT_TRUE(verifier().verify(good).ok);
}

// Malformed tokens are refused by the checks that need no key, before the signature:
// a bad signature never hides what else is wrong.
TEST(Jwt, RefusesMalformedTokensBeforeAnySignatureWork) {
  const std::string forged_sig = base64url_encode(std::string(256, '\x01'));
  const std::string header = base64url_encode(R"({"alg":"RS256","typ":"JWT"})");
  auto refusal = [&](const std::string& token) { return verifier().verify(token).error; };
  EXPECT_EQ(refusal(header + "." + base64url_encode("[1,2]") + "." + forged_sig),
            "token payload is not a JSON object");
  EXPECT_EQ(refusal(header + "." + base64url_encode(R"({"a":1,"a":2})") + "." + forged_sig),
            "token payload is not a JSON object");
  EXPECT_EQ(refusal(header + ".e30." + forged_sig + "*"), "token is not valid base64url");
  EXPECT_EQ(refusal(base64url_encode(R"({"alg":"none"})") + ".e30." + forged_sig),
            "token algorithm must be RS256");
  EXPECT_EQ(refusal(base64url_encode(R"({"alg":"HS256"})") + ".e30." + forged_sig),
            "token algorithm must be RS256");
}

// One verifier, its key parsed once, used from several threads at once.
TEST(Jwt, OneVerifierVerifiesConcurrently) {
  JwtSigner signer(keys().private_key_pem, kIssuer);
  JwtVerifier shared(keys().public_key_pem, kIssuer);
  std::vector<std::string> tokens;
  for (int i = 0; i < 8; ++i) tokens.push_back(signer.sign({{"n", i}}, seconds(600)));
  std::atomic<int> accepted{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string& good = tokens[static_cast<size_t>((t + i) % 8)];
        if (shared.verify(good).ok) ++accepted;
        if (!shared.verify(good.substr(0, good.size() - 4) + "AAAA").ok) ++refused;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(accepted.load(), 200);
  EXPECT_EQ(refused.load(), 200);
}

TEST(VerifiedTokens, RemembersUpToItsCapacity) {
  VerifiedTokens cache(2);
  cache.insert("a");
  cache.insert("b");
  EXPECT_TRUE(cache.contains("a"));
  cache.insert("c");
  EXPECT_FALSE(cache.contains("a"));
  EXPECT_TRUE(cache.contains("b"));
  EXPECT_TRUE(cache.contains("c"));
  EXPECT_FALSE(cache.contains("d"));
}

}  // namespace
}  // namespace gthulhu::auth
