#include "common/auth/rsa_keys.h"

#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <stdexcept>
#include <string_view>

#include "common/crypto/openssl_ptr.h"

namespace gthulhu::auth {
namespace {

using crypto::BioPtr;
using crypto::EvpPkeyPtr;

// Without a callback OpenSSL would prompt on the terminal for an encrypted key's
// passphrase; services must fail instead.
int refuse_passphrase(char*, int, int, void*) { return -1; }

std::string pem_label(const std::string& pem) {
  static constexpr std::string_view kBegin = "-----BEGIN ";
  auto start = pem.find(kBegin);
  if (start == std::string::npos) return {};
  start += kBegin.size();
  auto end = pem.find("-----", start);
  if (end == std::string::npos) return {};
  return pem.substr(start, end - start);
}

void require_strong_rsa(EVP_PKEY* key, const char* what) {
  if (EVP_PKEY_is_a(key, "RSA") != 1) {
    throw std::invalid_argument(std::string(what) + " is not an RSA key (RS256 needs RSA)");
  }
  int bits = EVP_PKEY_get_bits(key);
  if (bits < kMinRsaBits) {
    throw std::invalid_argument(std::string(what) + " has " + std::to_string(bits) +
                                " bits; at least " + std::to_string(kMinRsaBits) +
                                " are required");
  }
}

std::string spki_pem(EVP_PKEY* key) {
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_PUBKEY(out.get(), key) != 1) {
    throw std::runtime_error(crypto::take_openssl_error("cannot encode public key"));
  }
  return crypto::bio_contents(out.get());
}

EvpPkeyPtr parse_private_key(const std::string& pem) {
  if (pem.empty()) throw std::invalid_argument("RSA private key is empty");
  if (pem_label(pem).find("ENCRYPTED") != std::string::npos) {
    throw std::invalid_argument("RSA private key is encrypted; provide it unencrypted");
  }
  BioPtr bio = crypto::memory_bio(pem);
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_passphrase, nullptr));
  if (!key) {
    throw std::invalid_argument("RSA private key is not a readable PEM private key: " +
                                crypto::take_openssl_error("no PEM data"));
  }
  require_strong_rsa(key.get(), "private key");
  return key;
}

EvpPkeyPtr public_key_from_certificate(const std::string& pem) {
  BioPtr bio = crypto::memory_bio(pem);
  crypto::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, refuse_passphrase, nullptr));
  if (!cert) {
    throw std::invalid_argument("certificate is not readable: " +
                                crypto::take_openssl_error("bad PEM"));
  }
  EvpPkeyPtr key(X509_get_pubkey(cert.get()));
  if (!key) throw std::invalid_argument("certificate carries no usable public key");
  return key;
}

EvpPkeyPtr decode_public_key(const std::string& pem) {
  EVP_PKEY* raw = nullptr;
  // The decoder reads both SubjectPublicKeyInfo and PKCS#1 RSAPublicKey PEM without
  // the deprecated RSA-specific readers.
  OSSL_DECODER_CTX* ctx = OSSL_DECODER_CTX_new_for_pkey(&raw, "PEM", nullptr, "RSA",
                                                        EVP_PKEY_PUBLIC_KEY, nullptr, nullptr);
  if (ctx == nullptr) throw std::runtime_error("cannot create OpenSSL decoder");
  const auto* data = reinterpret_cast<const unsigned char*>(pem.data());
  size_t len = pem.size();
  int ok = OSSL_DECODER_from_data(ctx, &data, &len);
  OSSL_DECODER_CTX_free(ctx);
  EvpPkeyPtr key(raw);
  if (ok != 1 || !key) {
    throw std::invalid_argument("RSA public key is not a readable PEM public key: " +
                                crypto::take_openssl_error("no PEM data"));
  }
  return key;
}

}  // namespace

std::string load_rsa_private_key_pem(const std::string& pem) {
  EvpPkeyPtr key = parse_private_key(pem);
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    throw std::runtime_error(crypto::take_openssl_error("cannot encode private key"));
  }
  return crypto::bio_contents(out.get());
}

std::shared_ptr<EVP_PKEY> parse_rsa_public_key(const std::string& pem) {
  if (pem.empty()) throw std::invalid_argument("RSA public key is empty");
  std::string label = pem_label(pem);
  if (label.empty()) {
    throw std::invalid_argument("RSA public key is not PEM (no -----BEGIN line)");
  }
  if (label.find("PRIVATE KEY") != std::string::npos) {
    throw std::invalid_argument(
        "a private key was given where the RSA public key belongs; give the public key");
  }
  EvpPkeyPtr key = label == "CERTIFICATE" ? public_key_from_certificate(pem)
                                          : decode_public_key(pem);
  require_strong_rsa(key.get(), "public key");
  return std::shared_ptr<EVP_PKEY>(key.release(), EVP_PKEY_free);
}

std::string load_rsa_public_key_pem(const std::string& pem) {
  return spki_pem(parse_rsa_public_key(pem).get());
}

std::string rsa_public_key_pem_of(const std::string& private_key_pem) {
  EvpPkeyPtr key = parse_private_key(private_key_pem);
  return spki_pem(key.get());
}

std::string generate_rsa_private_key_pem(int bits) {
  EvpPkeyPtr key(EVP_RSA_gen(static_cast<unsigned int>(bits)));
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!key || !out ||
      PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw std::runtime_error(crypto::take_openssl_error("RSA key generation failed"));
  }
  return crypto::bio_contents(out.get());
}

}  // namespace gthulhu::auth
