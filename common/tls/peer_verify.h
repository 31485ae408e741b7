#pragma once
// libmicrohttpd only *requests* a client certificate during the TLS handshake; it
// never refuses a client that sends none or one from another CA. This checks the
// peer of a GnuTLS session against the trust list MHD was given.
#include <optional>
#include <string>

#include "common/http/request.h"

namespace gthulhu::tls {

struct PeerVerification {
  bool ok = false;
  std::string error;  // why the peer was refused, for the log and the 403 body
  http::PeerIdentity identity;
};

// `session` is a gnutls_session_t (void* so callers need no GnuTLS headers).
PeerVerification verify_client_certificate(void* session);

}  // namespace gthulhu::tls
