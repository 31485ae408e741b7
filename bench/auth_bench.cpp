// Authentication costs (issue 13, targets 4 and 5):
//   1. refusing forged tokens: a well-formed RS256 token with a wrong signature, and a
//      malformed one, per second on one thread, with the verifier (key parsed once,
//      RS256 checked with OpenSSL) beside the previous verifier's signature step
//      (libjwt's jwt_decode, which re-reads the PEM key on every call) in this run;
//   2. a login's password check: Argon2id verify p50 with the production parameters
//      beside the previous defaults (m = 64 MiB, t = 3), and the memory each costs.
#include <jwt.h>
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench/figures.h"
#include "common/auth/base64url.h"
#include "common/auth/jwt.h"
#include "coordinator/auth/password_hasher.h"
#include "tests/support/test_pki.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace gthulhu;

// Calls per second of `f` over about `seconds` of wall time.
template <typename F>
double rate(double seconds, F&& f) {
  const auto start = Clock::now();
  long n = 0;
  double elapsed = 0;
  do {
    for (int i = 0; i < 16; ++i) f();
    n += 16;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  return static_cast<double>(n) / elapsed;
}

std::string forged_token(const std::string& good) {
  // The real header and payload, 256 random bytes as the signature.
  std::string sig(256, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(sig.data()), static_cast<int>(sig.size()));
  return good.substr(0, good.rfind('.') + 1) + auth::base64url_encode(sig);
}

double login_p50_ms(const coordinator::Argon2Params& params, int n) {
  coordinator::PasswordHasher hasher(params);
  const std::string phc = hasher.hash("bench-Password-2026!");
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    if (!hasher.verify("bench-Password-2026!", phc)) throw std::runtime_error("verify failed");
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const double secs = quick ? 0.5 : 2.0;
  const auto& keys = test::rsa_key_pair();
  auth::JwtSigner signer(keys.private_key_pem, "bench");
  auth::JwtVerifier verifier(keys.public_key_pem, "bench");
  const std::string good = signer.sign({{"sub", "alice"}}, std::chrono::seconds(600));
  const std::string forged = forged_token(good);
  const std::string malformed = good.substr(0, good.find('.')) + ".%%%." + "c2ln";

  const double forged_now = rate(secs, [&] {
    if (verifier.verify(forged).ok) std::abort();
  });
  const double forged_libjwt = rate(secs, [&] {
    jwt_t* raw = nullptr;
    int rc = jwt_decode(&raw, forged.c_str(), reinterpret_cast<const unsigned char*>(keys.public_key_pem.data()),
                        static_cast<int>(keys.public_key_pem.size()));
    jwt_free(raw);
    if (rc == 0) std::abort();
  });
  const double malformed_now = rate(secs, [&] {
    if (verifier.verify(malformed).ok) std::abort();
  });
  const double valid_cached = rate(secs, [&] {
    if (!verifier.verify(good).ok) std::abort();
  });
  std::printf("tokens (one thread, RS256 2048-bit)\n");
  std::printf("  forged signature refused:   %9.0f /s (previous verifier, libjwt re-reading the PEM key: %.0f /s, %.1fx)\n",
              forged_now, forged_libjwt, forged_now / forged_libjwt);
  std::printf("  malformed token refused:    %9.0f /s (no signature work)\n", malformed_now);
  std::printf("  valid token, reused:        %9.0f /s\n", valid_cached);
  using bench::Figure;
  bench::record(Figure{"auth", "forged RS256 tokens refused per second (one thread)", forged_now, "per s",
                       "previous verifier (libjwt, PEM per call)", forged_libjwt, true});
  bench::record(Figure{"auth", "malformed tokens refused per second (one thread)", malformed_now, "per s",
                       "forged RS256 refusals", forged_now, true});
  bench::record(Figure{"auth", "valid reused token verified per second (one thread)", valid_cached, "per s", "", NAN,
                       true});

  coordinator::Argon2Params now;  // the production defaults
  coordinator::Argon2Params before;
  before.memory_kib = 64 * 1024;
  before.iterations = 3;
  const int n = quick ? 5 : 15;
  const double now_ms = login_p50_ms(now, n);
  const double before_ms = login_p50_ms(before, n);
  std::printf("login password check (Argon2id verify, p50 of %d)\n", n);
  std::printf("  production m=%u KiB t=%u p=%u: %.1f ms, %.1f MiB per login (at most %u at once: %.0f MiB)\n",
              now.memory_kib, now.iterations, now.parallelism, now_ms, now.memory_kib / 1024.0,
              now.max_concurrent, now.max_concurrent * now.memory_kib / 1024.0);
  std::printf("  previous   m=%u KiB t=%u p=%u: %.1f ms, %.1f MiB per login\n", before.memory_kib,
              before.iterations, before.parallelism, before_ms, before.memory_kib / 1024.0);
  bench::record(Figure{"auth", "login Argon2id verify p50", now_ms, "ms", "previous parameters (64 MiB, t=3)",
                       before_ms});
  bench::record(Figure{"auth", "memory per login", now.memory_kib / 1024.0, "MiB",
                       "previous parameters (64 MiB, t=3)", before.memory_kib / 1024.0});
  return 0;
}
