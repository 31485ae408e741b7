#pragma once
// RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 3.3) signature checks with OpenSSL on
// a key parsed once. libjwt 1.10 re-reads the PEM key on every verification (~0.9 ms
// with OpenSSL 3.0, 30x the RSA operation itself), which made each forged token cost
// the server a millisecond; here a refusal costs one RSA public-key operation at most.
#include <openssl/types.h>

#include <string_view>

namespace gthulhu::auth {

// True only when `signature` (raw bytes, already base64url-decoded) is a valid RS256
// signature of `signing_input` under `key`. A signature whose length is not the
// modulus size is refused before any RSA work. Safe to call from many threads with
// one key. Leaves nothing on OpenSSL's error queue.
bool rs256_verifies(EVP_PKEY* key, std::string_view signing_input, std::string_view signature);

}  // namespace gthulhu::auth
