// Kubernetes connection settings: kubeconfig files (YAML, contexts, inline data and
// files, tokens and client certificates) and the in-cluster service-account files.
#include <gtest/gtest.h>

#include <thread>

#include "coordinator/kube/base64.h"
#include "coordinator/kube/bearer_token.h"
#include "coordinator/kube/kube_config.h"
#include "coordinator/kube/yaml_document.h"
#include "tests/support/temp_dir.h"

using namespace gthulhu::coordinator::kube;
using gthulhu::test::TempDir;

namespace {

const std::string kCa = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
const std::string kCert = "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n";
const std::string kKey = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n";

// A kubeconfig as kubectl writes it: two clusters, two users, two contexts.
std::string two_context_kubeconfig() {
  return "apiVersion: v1\n"
         "kind: Config\n"
         "current-context: dev\n"
         "clusters:\n"
         "- name: dev-cluster\n"
         "  cluster:\n"
         "    server: https://127.0.0.1:6443/\n"
         "    certificate-authority-data: " + base64_encode(kCa) + "\n"
         "- cluster:\n"
         "    server: \"https://prod.example:443\"\n"
         "    certificate-authority: ca.crt\n"
         "    insecure-skip-tls-verify: false\n"
         "  name: prod-cluster\n"
         "users:\n"
         "- name: dev-user\n"
         "  user:\n"
         "    token: 'abc.def'\n"
         "- name: prod-user\n"
         "  user:\n"
         "    client-certificate: certs/client.crt\n"
         "    client-key-data: " + base64_encode(kKey) + "\n"
         "contexts:\n"
         "- name: dev\n"
         "  context: {cluster: dev-cluster, user: dev-user, namespace: team-a}\n"
         "- name: prod\n"
         "  context:\n"
         "    cluster: prod-cluster\n"
         "    user: prod-user\n";
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(YamlDocument, MappingsSequencesScalarsAndNull) {
  auto doc = parse_yaml("a: 1\nb: [x, 'y']\nc:\n  d: ~\n  e: \"\"\nf:\n", "t");
  EXPECT_EQ(doc["a"], "1");
  EXPECT_EQ(doc["b"][1], "y");
  EXPECT_TRUE(doc["c"]["d"].is_null());
  EXPECT_EQ(doc["c"]["e"], "");
  EXPECT_TRUE(doc["f"].is_null());
  EXPECT_TRUE(parse_yaml("", "t").is_null());
  EXPECT_EQ(parse_yaml(R"({"k": {"v": "w"}})", "t")["k"]["v"], "w");  // JSON is YAML
}

TEST(YamlDocument, ErrorsNameTheOriginAndLine) {
  const auto e = error_of([] { parse_yaml("a: 1\nb: [unclosed\n", "kubeconfig /x"); });
  EXPECT_NE(e.find("kubeconfig /x: line"), std::string::npos) << e;
  EXPECT_NE(error_of([] { parse_yaml("a: &x 1\nb: *x\n", "t"); }).find("aliases"), std::string::npos);
}

TEST(Base64, RoundTripAndRejectsGarbage) {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "\x01\xff\x80 binary"}) {
    std::string back;
    ASSERT_TRUE(base64_decode(base64_encode(s), back));
    EXPECT_EQ(back, s);
  }
  std::string out;
  EXPECT_TRUE(base64_decode("YWJj\nZGVm", out));  // wrapped lines
  EXPECT_EQ(out, "abcdef");
  EXPECT_FALSE(base64_decode("YW!j", out));
  EXPECT_FALSE(base64_decode("YQ==YQ==", out));
}

TEST(Kubeconfig, CurrentContextWithInlineCaAndToken) {
  TempDir dir;
  const auto file = dir.write("config", two_context_kubeconfig());
  const KubeCredentials c = load_kubeconfig(file, "");
  EXPECT_EQ(c.server, "https://127.0.0.1:6443");  // trailing slash dropped
  EXPECT_EQ(c.ca_pem, kCa);
  EXPECT_EQ(c.token, "abc.def");
  EXPECT_EQ(c.default_namespace, "team-a");
  EXPECT_TRUE(c.client_cert_pem.empty());
  EXPECT_FALSE(c.insecure_skip_tls_verify);
  EXPECT_NE(c.origin.find("context \"dev\""), std::string::npos);
}

TEST(Kubeconfig, NamedContextWithFilesRelativeToTheKubeconfig) {
  TempDir dir;
  dir.write("ca.crt", kCa);
  std::filesystem::create_directories(dir.path() / "certs");
  dir.write("certs/client.crt", kCert);
  const auto file = dir.write("config", two_context_kubeconfig());
  const KubeCredentials c = load_kubeconfig(file, "prod");
  EXPECT_EQ(c.server, "https://prod.example:443");
  EXPECT_EQ(c.ca_pem, kCa);
  EXPECT_EQ(c.client_cert_pem, kCert);
  EXPECT_EQ(c.client_key_pem, kKey);
  EXPECT_TRUE(c.token.empty());
  EXPECT_TRUE(c.default_namespace.empty());
}

TEST(Kubeconfig, TokenFileIsReadAndRemembered) {
  TempDir dir;
  const auto token = dir.write("token", "tok-1\n");
  nlohmann::json doc = {
      {"current-context", "c"},
      {"clusters", {{{"name", "k"}, {"cluster", {{"server", "https://127.0.0.1:1"}, {"insecure-skip-tls-verify", "true"}}}}}},
      {"users", {{{"name", "u"}, {"user", {{"tokenFile", "token"}}}}}},
      {"contexts", {{{"name", "c"}, {"context", {{"cluster", "k"}, {"user", "u"}}}}}}};
  const KubeCredentials c = kubeconfig_credentials(doc, "", dir.path(), "test");
  EXPECT_EQ(c.token, "tok-1");
  EXPECT_EQ(c.token_file, token);
  EXPECT_TRUE(c.insecure_skip_tls_verify);
}

TEST(Kubeconfig, ErrorsNameTheFileContextAndField) {
  TempDir dir;
  const auto file = dir.write("config", two_context_kubeconfig());
  auto e = error_of([&] { load_kubeconfig(file, "nope"); });
  EXPECT_NE(e.find(file.string()), std::string::npos) << e;
  EXPECT_NE(e.find("no context named \"nope\""), std::string::npos) << e;

  e = error_of([&] { load_kubeconfig(file, "prod"); });  // ca.crt and certs/client.crt missing
  EXPECT_NE(e.find("certificate-authority"), std::string::npos) << e;
  EXPECT_NE(e.find("ca.crt"), std::string::npos) << e;

  e = error_of([&] { load_kubeconfig(dir.path() / "missing", ""); });
  EXPECT_NE(e.find("cannot read"), std::string::npos) << e;

  nlohmann::json doc = nlohmann::json::parse(R"({
    "current-context": "c",
    "clusters": [{"name": "k", "cluster": {}}],
    "users": [{"name": "u", "user": {"exec": {"command": "aws"}}}],
    "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}]})");
  e = error_of([&] { kubeconfig_credentials(doc, "", dir.path(), "kc"); });
  EXPECT_NE(e.find("cluster \"k\": field \"server\" is missing"), std::string::npos) << e;
  doc["clusters"][0]["cluster"]["server"] = "https://x:1";
  e = error_of([&] { kubeconfig_credentials(doc, "", dir.path(), "kc"); });
  EXPECT_NE(e.find("exec credential plugins are not supported"), std::string::npos) << e;
  doc["users"][0]["user"] = {{"client-certificate-data", base64_encode(kCert)}};
  e = error_of([&] { kubeconfig_credentials(doc, "", dir.path(), "kc"); });
  EXPECT_NE(e.find("needs its key"), std::string::npos) << e;
  doc["users"][0]["user"] = {{"client-key-data", "!!!"}};
  e = error_of([&] { kubeconfig_credentials(doc, "", dir.path(), "kc"); });
  EXPECT_NE(e.find("client-key-data\" is not valid base64"), std::string::npos) << e;
  doc.erase("current-context");
  e = error_of([&] { kubeconfig_credentials(doc, "", dir.path(), "kc"); });
  EXPECT_NE(e.find("no current-context"), std::string::npos) << e;
}

TEST(Kubeconfig, DefaultPathFromKubeconfigVariableOrHome) {
  EXPECT_EQ(default_kubeconfig_path({{"KUBECONFIG", "/a/one:/b/two"}, {"HOME", "/h"}}), "/a/one");
  EXPECT_EQ(default_kubeconfig_path({{"HOME", "/h"}}), "/h/.kube/config");
}

TEST(InCluster, ServiceAccountFilesAndServiceVariables) {
  TempDir dir;
  dir.write("token", "sa-token\n");
  dir.write("ca.crt", kCa);
  dir.write("namespace", "gthulhu-system");
  const auto c = load_in_cluster(dir.path(), {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                                              {"KUBERNETES_SERVICE_PORT", "443"}});
  EXPECT_EQ(c.server, "https://10.96.0.1:443");
  EXPECT_EQ(c.token, "sa-token");
  EXPECT_EQ(c.token_file, dir.path() / "token");
  EXPECT_EQ(c.ca_pem, kCa);
  EXPECT_EQ(c.default_namespace, "gthulhu-system");
  const auto v6 = load_in_cluster(dir.path(), {{"KUBERNETES_SERVICE_HOST", "fd00::1"},
                                               {"KUBERNETES_SERVICE_PORT", "443"}});
  EXPECT_EQ(v6.server, "https://[fd00::1]:443");
}

TEST(InCluster, ClearErrors) {
  TempDir dir;
  auto e = error_of([&] { load_in_cluster(dir.path(), {}); });
  EXPECT_NE(e.find("KUBERNETES_SERVICE_HOST"), std::string::npos) << e;
  e = error_of([&] {
    load_in_cluster(dir.path(), {{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "1"}});
  });
  EXPECT_NE(e.find((dir.path() / "token").string()), std::string::npos) << e;
}

TEST(BearerToken, ATokenFileIsReReadAfterTheRefreshInterval) {
  TempDir dir;
  const auto file = dir.write("token", "first");
  BearerToken fixed("inline", {}, std::chrono::seconds(0));
  EXPECT_EQ(fixed.current(), "inline");

  BearerToken rotating("first", file, std::chrono::seconds(0));  // re-read on every use
  EXPECT_EQ(rotating.current(), "first");
  dir.write("token", "second\n");
  EXPECT_EQ(rotating.current(), "second");
  std::filesystem::remove(file);
  EXPECT_EQ(rotating.current(), "second");  // a failed read keeps the last good token

  BearerToken slow("first", dir.write("token2", "first"), std::chrono::seconds(3600));
  dir.write("token2", "second");
  EXPECT_EQ(slow.current(), "first");  // not yet due
}
