#pragma once
// Loading RSA keys for JWT RS256. Keys are checked once, when a service starts, so a
// wrong or weak key is a startup error instead of every token failing later. The
// normalised PEM handed on to libjwt is always in the one form libjwt can read.
#include <openssl/types.h>

#include <memory>
#include <string>

namespace gthulhu::auth {

inline constexpr int kMinRsaBits = 2048;

// An unencrypted RSA private key (PKCS#1 or PKCS#8 PEM) of at least kMinRsaBits,
// returned re-encoded as PKCS#8 PEM. Throws std::invalid_argument saying what is wrong.
std::string load_rsa_private_key_pem(const std::string& pem);

// An RSA public key of at least kMinRsaBits given as "PUBLIC KEY" (SubjectPublicKeyInfo),
// "RSA PUBLIC KEY" (PKCS#1) or an X.509 "CERTIFICATE", returned as SubjectPublicKeyInfo
// PEM (the only form libjwt's PEM_read_bio_PUBKEY accepts). A private key is refused:
// a verifier must never need one. Throws std::invalid_argument.
std::string load_rsa_public_key_pem(const std::string& pem);

// The same checks as load_rsa_public_key_pem, returning the parsed key: a verifier
// parses its key once and verifies every token with it (OpenSSL allows concurrent
// verifications with one EVP_PKEY).
std::shared_ptr<EVP_PKEY> parse_rsa_public_key(const std::string& pem);

// The SubjectPublicKeyInfo PEM of a private key accepted by load_rsa_private_key_pem.
std::string rsa_public_key_pem_of(const std::string& private_key_pem);

// A fresh unencrypted RSA private key in PEM (PKCS#8). Throws std::runtime_error.
std::string generate_rsa_private_key_pem(int bits = 2048);

}  // namespace gthulhu::auth
