#include "common/tls/peer_verify.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <memory>

namespace gthulhu::tls {
namespace {

std::string dn_string(gnutls_x509_crt_t crt, bool issuer) {
  gnutls_datum_t dn{};
  int rc = issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0)
                  : gnutls_x509_crt_get_dn3(crt, &dn, 0);
  if (rc < 0) return {};
  std::string out(reinterpret_cast<const char*>(dn.data), dn.size);
  gnutls_free(dn.data);
  return out;
}

std::string common_name(gnutls_x509_crt_t crt) {
  char buf[256];
  size_t size = sizeof buf;
  if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &size) < 0) {
    return {};
  }
  return std::string(buf, size);
}

}  // namespace

PeerVerification verify_client_certificate(void* raw_session) {
  PeerVerification out;
  auto session = static_cast<gnutls_session_t>(raw_session);
  if (session == nullptr) {
    out.error = "not a TLS connection";
    return out;
  }
  unsigned int list_size = 0;
  const gnutls_datum_t* chain = gnutls_certificate_get_peers(session, &list_size);
  if (chain == nullptr || list_size == 0) {
    out.error = "client certificate required";
    return out;
  }
  unsigned int status = 0;
  // Verifies the chain against the trust list given to MHD (HTTPS_MEM_TRUST),
  // including validity dates and signatures.
  int rc = gnutls_certificate_verify_peers2(session, &status);
  if (rc < 0) {
    out.error = std::string("client certificate verification failed: ") + gnutls_strerror(rc);
    return out;
  }
  if (status != 0) {
    gnutls_datum_t reason{};
    std::string why = "client certificate not trusted";
    if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &reason, 0) == 0) {
      why += std::string(": ") + reinterpret_cast<const char*>(reason.data);
      gnutls_free(reason.data);
    }
    out.error = why;
    return out;
  }
  gnutls_x509_crt_t crt = nullptr;
  if (gnutls_x509_crt_init(&crt) < 0) {
    out.error = "out of memory";
    return out;
  }
  std::unique_ptr<gnutls_x509_crt_int, decltype(&gnutls_x509_crt_deinit)> guard(
      crt, gnutls_x509_crt_deinit);
  if (gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER) < 0) {
    out.error = "client certificate cannot be parsed";
    return out;
  }
  out.identity.common_name = common_name(crt);
  out.identity.subject = dn_string(crt, false);
  out.identity.issuer = dn_string(crt, true);
  out.ok = true;
  return out;
}

}  // namespace gthulhu::tls
