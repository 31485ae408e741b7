#pragma once
// Keys and certificates for tests, generated at run time with OpenSSL so the repository
// holds no private keys. RSA key generation takes a noticeable fraction of a second, so
// keys are kept in a pool of files in the build tree (GTHULHU_TEST_KEY_POOL overrides
// the directory; set it empty for fresh keys every time) and shared by the test
// processes; within one process every key is a different one. Certificates are signed
// anew in every process.
#include <filesystem>
#include <string>

namespace gthulhu::test {

struct KeyPair {
  std::string private_key_pem;  // PKCS#8, unencrypted
  std::string public_key_pem;   // SubjectPublicKeyInfo
};

struct CertifiedKey {
  std::string cert_pem;
  std::string key_pem;  // PKCS#8, unencrypted
};

struct TestPki {
  CertifiedKey ca;            // self-signed, CN "Gthulhu Test CA"
  CertifiedKey server;        // CN localhost, SAN DNS:localhost + IP:127.0.0.1, serverAuth
  CertifiedKey client;        // CN kTestClientName, clientAuth, issued by `ca`
  CertifiedKey other_ca;      // an unrelated self-signed CA, CN "Gthulhu Other CA"
  CertifiedKey other_client;  // CN kTestClientName, clientAuth, issued by `other_ca`
};

inline constexpr const char* kTestClientName = "gthulhu-test-client";

// An RSA key pair that no earlier call of this process returned.
KeyPair generate_rsa_key_pair(int bits = 2048);

// Two independent RSA-2048 key pairs, generated once per process (e.g. for JWT tests).
const KeyPair& rsa_key_pair();
const KeyPair& other_rsa_key_pair();

// The shared PKI, generated once per process.
const TestPki& test_pki();

// A fresh client certificate with the given CN (extendedKeyUsage clientAuth), issued by
// `ca`, with a key that no earlier call of this process returned.
CertifiedKey issue_client_certificate(const CertifiedKey& ca, const std::string& common_name);

// A fresh server certificate for one DNS name (CN and the only SAN; serverAuth),
// issued by `ca`: an agent's certificate, named after its node.
CertifiedKey issue_server_certificate(const CertifiedKey& ca, const std::string& dns_name);

struct PkiFiles {
  std::filesystem::path ca_cert, server_cert, server_key, client_cert, client_key,
      other_ca_cert, other_client_cert, other_client_key;
};

// Writes every PEM of `pki` into `dir` (which must exist) with fixed names
// (ca.crt, server.crt, server.key, ...); key files get mode 0600.
PkiFiles write_pki(const TestPki& pki, const std::filesystem::path& dir);

}  // namespace gthulhu::test
