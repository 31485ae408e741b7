#include "tests/support/test_pki.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <sstream>

#include "common/crypto/openssl_ptr.h"
#include "tests/support/temp_dir.h"

namespace gthulhu::test {
namespace {

crypto::X509Ptr read_cert(const std::string& pem) {
  crypto::BioPtr in = crypto::memory_bio(pem);
  return crypto::X509Ptr(PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr));
}

// X509_verify_cert of `leaf` against a store holding only `ca`, for `purpose`.
bool verifies(const std::string& leaf_pem, const std::string& ca_pem, int purpose) {
  crypto::X509Ptr leaf = read_cert(leaf_pem);
  crypto::X509Ptr ca = read_cert(ca_pem);
  crypto::X509StorePtr store(X509_STORE_new());
  crypto::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!leaf || !ca || !store || !ctx) return false;
  X509_STORE_add_cert(store.get(), ca.get());
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr);
  X509_STORE_CTX_set_purpose(ctx.get(), purpose);
  return X509_verify_cert(ctx.get()) == 1;
}

TEST(TestPki, ServerCertificateVerifiesAgainstItsCaOnly) {
  const TestPki& pki = test_pki();
  EXPECT_TRUE(verifies(pki.server.cert_pem, pki.ca.cert_pem, X509_PURPOSE_SSL_SERVER));
  EXPECT_FALSE(verifies(pki.server.cert_pem, pki.other_ca.cert_pem, X509_PURPOSE_SSL_SERVER));
}

TEST(TestPki, ClientCertificatesVerifyAgainstTheirOwnCa) {
  const TestPki& pki = test_pki();
  EXPECT_TRUE(verifies(pki.client.cert_pem, pki.ca.cert_pem, X509_PURPOSE_SSL_CLIENT));
  EXPECT_FALSE(verifies(pki.client.cert_pem, pki.other_ca.cert_pem, X509_PURPOSE_SSL_CLIENT));
  EXPECT_TRUE(verifies(pki.other_client.cert_pem, pki.other_ca.cert_pem, X509_PURPOSE_SSL_CLIENT));
  EXPECT_FALSE(verifies(pki.other_client.cert_pem, pki.ca.cert_pem, X509_PURPOSE_SSL_CLIENT));
  // Extended key usage keeps the roles apart.
  EXPECT_FALSE(verifies(pki.client.cert_pem, pki.ca.cert_pem, X509_PURPOSE_SSL_SERVER));
  EXPECT_FALSE(verifies(pki.server.cert_pem, pki.ca.cert_pem, X509_PURPOSE_SSL_CLIENT));
}

TEST(TestPki, ServerCertificateNamesLocalhostAndLoopback) {
  crypto::X509Ptr server = read_cert(test_pki().server.cert_pem);
  ASSERT_TRUE(server);
  EXPECT_EQ(X509_check_host(server.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(server.get(), "127.0.0.1", 0), 1);
  EXPECT_NE(X509_check_host(server.get(), "example.com", 0, 0, nullptr), 1);
}

TEST(TestPki, ClientCertificateCarriesTheGivenCommonName) {
  const TestPki& pki = test_pki();
  CertifiedKey alice = issue_client_certificate(pki.ca, "alice");
  crypto::X509Ptr cert = read_cert(alice.cert_pem);
  ASSERT_TRUE(cert);
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof cn);
  EXPECT_STREQ(cn, "alice");
  EXPECT_TRUE(verifies(alice.cert_pem, pki.ca.cert_pem, X509_PURPOSE_SSL_CLIENT));
}

TEST(TestPki, MaterialIsCachedPerProcess) {
  EXPECT_EQ(&test_pki(), &test_pki());
  EXPECT_EQ(rsa_key_pair().private_key_pem, rsa_key_pair().private_key_pem);
  EXPECT_NE(rsa_key_pair().public_key_pem, other_rsa_key_pair().public_key_pem);
}

TEST(TestPki, WritesPemFilesWithPrivateKeysReadableOnlyByOwner) {
  TempDir dir;
  PkiFiles files = write_pki(test_pki(), dir.path());
  std::ifstream in(files.server_cert);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), test_pki().server.cert_pem);
  auto perms = std::filesystem::status(files.server_key).permissions();
  EXPECT_EQ(perms & std::filesystem::perms::group_read, std::filesystem::perms::none);
  EXPECT_EQ(perms & std::filesystem::perms::others_read, std::filesystem::perms::none);
  EXPECT_TRUE(std::filesystem::exists(files.other_client_key));
}

}  // namespace
}  // namespace gthulhu::test
