#include "tests/support/test_pki.h"

#include <openssl/pem.h>
#include <openssl/rand.h>

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <vector>

#include "common/crypto/openssl_ptr.h"

namespace gthulhu::test {
namespace {

using crypto::BioPtr;
using crypto::EvpPkeyPtr;
using crypto::X509Ptr;

constexpr long kValidBeforeNow = 60L * 60;         // tolerate small clock differences
constexpr long kValidAfterNow = 7L * 24 * 60 * 60;  // longer than any test run

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("test PKI: " + crypto::take_openssl_error(what));
}

EvpPkeyPtr fresh_key(int bits) {
  EvpPkeyPtr key(EVP_RSA_gen(static_cast<unsigned int>(bits)));
  if (!key) fail("RSA key generation failed");
  return key;
}

std::string private_pem(EVP_PKEY* key);

std::filesystem::path key_pool_dir() {
  if (const char* dir = std::getenv("GTHULHU_TEST_KEY_POOL")) return dir;
#ifdef GTHULHU_TEST_KEY_POOL_DIR
  return GTHULHU_TEST_KEY_POOL_DIR;
#else
  return {};
#endif
}

std::optional<std::string> read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// ctest runs every test in a process of its own and an RSA key costs 0.1-1 s of CPU, so
// keys come from a pool of files in the build tree, made by whichever process needs a
// slot first (written aside and renamed: concurrent makers each leave a whole key).
// Within one process every call takes the next slot, so keys that must differ do.
EvpPkeyPtr generate_key(int bits) {
  const std::filesystem::path dir = key_pool_dir();
  if (dir.empty()) return fresh_key(bits);
  static std::mutex mutex;
  static std::map<int, int> next_slot;
  int slot = 0;
  {
    std::lock_guard lock(mutex);
    slot = next_slot[bits]++;
  }
  const std::filesystem::path path =
      dir / ("rsa" + std::to_string(bits) + "-" + std::to_string(slot) + ".pem");
  if (std::optional<std::string> pem = read_text(path)) {
    BioPtr in = crypto::memory_bio(*pem);
    EvpPkeyPtr key(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
    if (key && EVP_PKEY_get_bits(key.get()) == bits) return key;
  }
  EvpPkeyPtr key = fresh_key(bits);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::filesystem::path aside =
      path.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(slot);
  {
    std::ofstream out(aside, std::ios::binary | std::ios::trunc);
    out << private_pem(key.get());
  }
  ::chmod(aside.c_str(), 0600);
  std::filesystem::rename(aside, path, ec);
  if (ec) std::filesystem::remove(aside, ec);
  return key;
}

std::string private_pem(EVP_PKEY* key) {
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out ||
      PEM_write_bio_PrivateKey(out.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    fail("cannot write private key");
  }
  return crypto::bio_contents(out.get());
}

std::string public_pem(EVP_PKEY* key) {
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_PUBKEY(out.get(), key) != 1) fail("cannot write public key");
  return crypto::bio_contents(out.get());
}

std::string cert_pem(X509* cert) {
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_X509(out.get(), cert) != 1) fail("cannot write certificate");
  return crypto::bio_contents(out.get());
}

X509Ptr read_cert(const std::string& pem) {
  BioPtr in = crypto::memory_bio(pem);
  X509Ptr cert(PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr));
  if (!cert) fail("cannot read certificate");
  return cert;
}

EvpPkeyPtr read_key(const std::string& pem) {
  BioPtr in = crypto::memory_bio(pem);
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
  if (!key) fail("cannot read private key");
  return key;
}

struct Extension {
  int nid;
  const char* value;
};

// Signs a v3 certificate for `subject_key`. With no issuer it is self-signed.
X509Ptr make_certificate(EVP_PKEY* subject_key, const std::string& common_name,
                         X509* issuer_cert, EVP_PKEY* issuer_key,
                         const std::vector<Extension>& extensions) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) fail("X509_new failed");

  uint64_t serial = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof serial) != 1) {
    fail("RAND_bytes");
  }
  // Random serials: two runs' certificates never share issuer+serial, which TLS
  // libraries may cache. Kept positive and non-zero as RFC 5280 requires.
  serial = (serial & 0x7FFFFFFFFFFFFFFFULL) | 1;
  if (ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), serial) != 1) fail("serial");

  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kValidBeforeNow) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValidAfterNow) == nullptr) {
    fail("validity");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  const auto* organisation = reinterpret_cast<const unsigned char*>("Gthulhu tests");
  const auto* cn = reinterpret_cast<const unsigned char*>(common_name.c_str());
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, organisation, -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, cn, -1, -1, 0) != 1) {
    fail("subject name");
  }
  X509* issuer = issuer_cert != nullptr ? issuer_cert : cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer)) != 1 ||
      X509_set_pubkey(cert.get(), subject_key) != 1) {
    fail("issuer or public key");
  }

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert.get(), nullptr, nullptr, 0);
  for (const Extension& e : extensions) {
    crypto::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, e.nid, e.value));
    if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1) {
      fail(std::string("extension ") + OBJ_nid2sn(e.nid) + "=" + e.value);
    }
  }
  EVP_PKEY* signer = issuer_key != nullptr ? issuer_key : subject_key;
  if (X509_sign(cert.get(), signer, EVP_sha256()) <= 0) fail("X509_sign failed");
  return cert;
}

CertifiedKey make_ca(const std::string& common_name) {
  EvpPkeyPtr key = generate_key(2048);
  X509Ptr cert = make_certificate(key.get(), common_name, nullptr, nullptr,
                                  {{NID_basic_constraints, "critical,CA:TRUE"},
                                   {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                   {NID_subject_key_identifier, "hash"}});
  return {cert_pem(cert.get()), private_pem(key.get())};
}

CertifiedKey issue(const CertifiedKey& ca, const std::string& common_name,
                   std::initializer_list<Extension> usage) {
  X509Ptr ca_cert = read_cert(ca.cert_pem);
  EvpPkeyPtr ca_key = read_key(ca.key_pem);
  EvpPkeyPtr key = generate_key(2048);
  std::vector<Extension> extensions = {{NID_basic_constraints, "critical,CA:FALSE"},
                                       {NID_subject_key_identifier, "hash"},
                                       {NID_authority_key_identifier, "keyid:always"}};
  extensions.insert(extensions.end(), usage.begin(), usage.end());
  X509Ptr cert =
      make_certificate(key.get(), common_name, ca_cert.get(), ca_key.get(), extensions);
  return {cert_pem(cert.get()), private_pem(key.get())};
}

CertifiedKey issue_server(const CertifiedKey& ca) {
  return issue(ca, "localhost",
               {{NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                {NID_ext_key_usage, "serverAuth"},
                {NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"}});
}

void write_file(const std::filesystem::path& path, const std::string& text, bool secret) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("test PKI: cannot write " + path.string());
  if (secret) ::chmod(path.c_str(), 0600);
}

}  // namespace

KeyPair generate_rsa_key_pair(int bits) {
  EvpPkeyPtr key = generate_key(bits);
  return {private_pem(key.get()), public_pem(key.get())};
}

const KeyPair& rsa_key_pair() {
  static const KeyPair pair = generate_rsa_key_pair();
  return pair;
}

const KeyPair& other_rsa_key_pair() {
  static const KeyPair pair = generate_rsa_key_pair();
  return pair;
}

CertifiedKey issue_client_certificate(const CertifiedKey& ca, const std::string& common_name) {
  return issue(ca, common_name,
               {{NID_key_usage, "critical,digitalSignature"}, {NID_ext_key_usage, "clientAuth"}});
}

CertifiedKey issue_server_certificate(const CertifiedKey& ca, const std::string& dns_name) {
  const std::string san = "DNS:" + dns_name;
  return issue(ca, dns_name,
               {{NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                {NID_ext_key_usage, "serverAuth"},
                {NID_subject_alt_name, san.c_str()}});
}

const TestPki& test_pki() {
  static const TestPki pki = [] {
    TestPki p;
    p.ca = make_ca("Gthulhu Test CA");
    p.server = issue_server(p.ca);
    p.client = issue_client_certificate(p.ca, kTestClientName);
    p.other_ca = make_ca("Gthulhu Other CA");
    p.other_client = issue_client_certificate(p.other_ca, kTestClientName);
    return p;
  }();
  return pki;
}

PkiFiles write_pki(const TestPki& pki, const std::filesystem::path& dir) {
  PkiFiles f{dir / "ca.crt",           dir / "server.crt",      dir / "server.key",
             dir / "client.crt",       dir / "client.key",      dir / "other-ca.crt",
             dir / "other-client.crt", dir / "other-client.key"};
  write_file(f.ca_cert, pki.ca.cert_pem, false);
  write_file(f.server_cert, pki.server.cert_pem, false);
  write_file(f.server_key, pki.server.key_pem, true);
  write_file(f.client_cert, pki.client.cert_pem, false);
  write_file(f.client_key, pki.client.key_pem, true);
  write_file(f.other_ca_cert, pki.other_ca.cert_pem, false);
  write_file(f.other_client_cert, pki.other_client.cert_pem, false);
  write_file(f.other_client_key, pki.other_client.key_pem, true);
  return f;
}

}  // namespace gthulhu::test
