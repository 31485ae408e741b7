// HTTPS and mTLS on the shared server, with the shared client, using certificates the
// test generates. libmicrohttpd only requests a client certificate; these tests prove
// the server refuses requests that come without one or with one from another CA.
#include <gtest/gtest.h>

#include "common/http/client.h"
#include "common/http/json_api.h"
#include "common/http/server.h"
#include "tests/support/test_pki.h"

using namespace gthulhu::http;
using gthulhu::test::test_pki;

namespace {

Router whoami_routes() {
  Router r;
  r.get("/whoami", [](Request& req) {
    return json_ok({{"cn", req.peer ? req.peer->common_name : ""},
                    {"issuer", req.peer ? req.peer->issuer : ""}});
  });
  return r;
}

std::unique_ptr<Server> start_tls(bool require_client_cert) {
  const auto& pki = test_pki();
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.name = "mtls-test";
  TlsOptions tls{pki.server.cert_pem, pki.server.key_pem,
                 require_client_cert ? pki.ca.cert_pem : std::string()};
  o.tls = tls;
  auto s = std::make_unique<Server>(o, whoami_routes());
  s->start();
  return s;
}

ClientOptions client_with(const gthulhu::test::CertifiedKey* cert) {
  ClientOptions o;
  o.ca_pem = test_pki().ca.cert_pem;
  if (cert != nullptr) {
    o.client_cert_pem = cert->cert_pem;
    o.client_key_pem = cert->key_pem;
  }
  return o;
}

std::string url(const Server& s) {
  return "https://localhost:" + std::to_string(s.port()) + "/whoami";
}

}  // namespace

TEST(Mtls, NoClientCertificateIsRefused) {
  auto server = start_tls(true);
  Client c(client_with(nullptr));
  auto r = c.get(url(*server));
  // Refused either at the TLS layer or with 403; never served.
  if (r.ok) {
    EXPECT_EQ(r.response.status, 403);
    EXPECT_NE(r.response.body.find("client certificate required"), std::string::npos);
  }
}

TEST(Mtls, CertificateFromAnotherCaIsRefused) {
  auto server = start_tls(true);
  Client c(client_with(&test_pki().other_client));
  auto r = c.get(url(*server));
  if (r.ok) {
    EXPECT_EQ(r.response.status, 403);
    EXPECT_NE(r.response.body.find("not trusted"), std::string::npos) << r.response.body;
  }
}

TEST(Mtls, CertificateFromTheCaIsServedWithIdentity) {
  auto server = start_tls(true);
  Client c(client_with(&test_pki().client));
  auto r = c.get(url(*server));
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.response.status, 200) << r.response.body;
  auto j = json::parse(r.response.body);
  EXPECT_EQ(j["data"]["cn"], gthulhu::test::kTestClientName);
  // A second request on the same (kept-alive) connection is served too.
  EXPECT_EQ(c.get(url(*server)).response.status, 200);
}

TEST(Tls, ServerWithoutClientCaServesAnyTlsClient) {
  auto server = start_tls(false);
  Client c(client_with(nullptr));
  auto r = c.get(url(*server));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.response.status, 200);
  EXPECT_EQ(json::parse(r.response.body)["data"]["cn"], "");
}

TEST(Tls, ClientPinnedToAnotherCaRejectsTheServer) {
  auto server = start_tls(false);
  ClientOptions o;
  o.ca_pem = test_pki().other_ca.cert_pem;
  Client c(o);
  auto r = c.get(url(*server));
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.error.empty());
}

TEST(Tls, PlainHttpToTlsPortIsNotServed) {
  auto server = start_tls(true);
  ClientOptions o;
  o.total_timeout = std::chrono::milliseconds(2000);
  Client c(o);
  auto r = c.get("http://127.0.0.1:" + std::to_string(server->port()) + "/whoami");
  EXPECT_FALSE(r.ok && r.response.status == 200);
}

TEST(Tls, StartFailsOnBadKeyMaterial) {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.tls = TlsOptions{"not a cert", "not a key", ""};
  Server s(o, Router{});
  EXPECT_THROW(s.start(), std::runtime_error);
}
