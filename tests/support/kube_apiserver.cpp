#include "tests/support/kube_apiserver.h"

#include <openssl/rand.h>

#include <cstdlib>
#include <mutex>
#include <thread>

#include "tests/support/loopback.h"
#include "tests/support/test_pki.h"

namespace gthulhu::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::filesystem::path cache_bin() {
  if (auto v = env_or_empty("GTHULHU_CACHE"); !v.empty()) return std::filesystem::path(v) / "bin";
  if (auto x = env_or_empty("XDG_CACHE_HOME"); !x.empty()) {
    return std::filesystem::path(x) / "gthulhu" / "bin";
  }
  return std::filesystem::path(env_or_empty("HOME")) / ".cache" / "gthulhu" / "bin";
}

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// The first line `binary --version` prints, or why it could not run.
bool runs(const std::filesystem::path& bin, std::string& why) {
  const std::string cmd = "'" + bin.string() + "' --version 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    why = "cannot run " + bin.string();
    return false;
  }
  std::string out;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0 && out.size() < 4096) out.append(buf, n);
  if (::pclose(p) == 0) return true;
  why = bin.string() + " --version failed: " + out.substr(0, out.find('\n'));
  return false;
}

http::ClientOptions plain_options() {
  http::ClientOptions o;
  o.connect_timeout = milliseconds(1000);
  o.total_timeout = milliseconds(5000);
  return o;
}

}  // namespace

std::filesystem::path KubeApiServer::etcd_binary() {
  if (auto v = env_or_empty("GTHULHU_ETCD"); !v.empty()) return v;
  return cache_bin() / "etcd";
}

std::filesystem::path KubeApiServer::apiserver_binary() {
  if (auto v = env_or_empty("GTHULHU_KUBE_APISERVER"); !v.empty()) return v;
  return cache_bin() / "kube-apiserver";
}

const std::string& KubeApiServer::unavailable_reason() {
  static std::once_flag once;
  static std::string reason;
  std::call_once(once, [] {
    for (const auto& bin : {etcd_binary(), apiserver_binary()}) {
      if (::access(bin.c_str(), X_OK) != 0) {
        reason = bin.filename().string() + " not found at " + bin.string() +
                 " (run scripts/kube-apiserver.sh, or set GTHULHU_ETCD / GTHULHU_KUBE_APISERVER)";
        return;
      }
      std::string why;
      if (!runs(bin, why)) {
        reason = why;
        return;
      }
    }
  });
  return reason;
}

KubeApiServer::KubeApiServer()
    : etcd_client_port_(free_loopback_port()),
      etcd_peer_port_(free_loopback_port()),
      apiserver_port_(free_loopback_port()),
      serving_port_(apiserver_port_),
      token_(random_hex(24)) {
  write_files();
}

KubeApiServer::~KubeApiServer() { stop(); }

const std::string& KubeApiServer::ca_pem() const { return test_pki().ca.cert_pem; }

std::string KubeApiServer::server_url() const {
  return "https://127.0.0.1:" + std::to_string(apiserver_port_);
}

void KubeApiServer::write_files() {
  const KeyPair sa = generate_rsa_key_pair();
  dir_.write("sa.key", sa.private_key_pem);
  dir_.write("sa.pub", sa.public_key_pem);
  const TestPki& pki = test_pki();
  dir_.write("ca.crt", pki.ca.cert_pem);
  dir_.write("serving.crt", pki.server.cert_pem);
  dir_.write("serving.key", pki.server.key_pem);
  dir_.write("tokens.csv", token_ + ",admin,uid-admin,system:masters\n");
  std::filesystem::create_directories(dir_.path() / "etcd");
  std::filesystem::create_directories(dir_.path() / "certs");
  // A relative CA file: read relative to the kubeconfig's own directory.
  kubeconfig_ = dir_.write("kubeconfig",
                           "apiVersion: v1\n"
                           "kind: Config\n"
                           "current-context: test\n"
                           "clusters:\n"
                           "- name: test\n"
                           "  cluster:\n"
                           "    server: " + server_url() + "\n"
                           "    certificate-authority: ca.crt\n"
                           "users:\n"
                           "- name: admin\n"
                           "  user:\n"
                           "    token: " + token_ + "\n"
                           "contexts:\n"
                           "- name: test\n"
                           "  context:\n"
                           "    cluster: test\n"
                           "    user: admin\n"
                           "    namespace: default\n");
}

std::string KubeApiServer::logs() const {
  return "--- etcd log tail ---\n" + file_tail(dir_.path() / "etcd.log", 2048) +
         "\n--- kube-apiserver log tail ---\n" + file_tail(dir_.path() / "kube-apiserver.log", 4096);
}

bool KubeApiServer::start(milliseconds timeout) {
  last_error_.clear();
  if (const auto& why = unavailable_reason(); !why.empty()) {
    last_error_ = why;
    return false;
  }
  const auto deadline = Clock::now() + timeout;
  if (!start_etcd(timeout)) return false;
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
  return start_apiserver(std::nullopt, std::max(left, milliseconds(1000)));
}

bool KubeApiServer::start_etcd(milliseconds timeout) {
  if (etcd_.running()) return true;
  const std::string client = "http://127.0.0.1:" + std::to_string(etcd_client_port_);
  const std::string peer = "http://127.0.0.1:" + std::to_string(etcd_peer_port_);
  const std::vector<std::string> args = {
      etcd_binary().string(),
      "--name=test",
      "--data-dir=" + (dir_.path() / "etcd").string(),
      "--listen-client-urls=" + client,
      "--advertise-client-urls=" + client,
      "--listen-peer-urls=" + peer,
      "--initial-advertise-peer-urls=" + peer,
      "--initial-cluster=test=" + peer,
      "--log-level=warn",
  };
  if (!etcd_.start(args, dir_.path() / "etcd.log")) {
    last_error_ = etcd_.error();
    return false;
  }
  http::Client c(plain_options());
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (!etcd_.running()) {
      last_error_ = "etcd exited during start-up (status " + std::to_string(etcd_.exit_status()) + ")\n" + logs();
      return false;
    }
    auto r = c.get(client + "/health");
    if (r.ok && r.response.status == 200 && r.response.body.find("true") != std::string::npos) return true;
    std::this_thread::sleep_for(milliseconds(100));
  }
  last_error_ = "etcd was not healthy within " + std::to_string(timeout.count()) + " ms\n" + logs();
  etcd_.stop();
  return false;
}

bool KubeApiServer::start_apiserver(std::optional<uint16_t> port, milliseconds timeout) {
  last_error_.clear();
  if (apiserver_.running()) return true;
  serving_port_ = port.value_or(apiserver_port_);
  const auto d = [&](const char* name) { return (dir_.path() / name).string(); };
  const std::vector<std::string> args = {
      apiserver_binary().string(),
      "--etcd-servers=http://127.0.0.1:" + std::to_string(etcd_client_port_),
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      "--secure-port=" + std::to_string(serving_port_),
      "--cert-dir=" + d("certs"),
      "--tls-cert-file=" + d("serving.crt"),
      "--tls-private-key-file=" + d("serving.key"),
      "--client-ca-file=" + d("ca.crt"),
      "--service-account-issuer=https://kubernetes.default.svc",
      "--service-account-key-file=" + d("sa.pub"),
      "--service-account-signing-key-file=" + d("sa.key"),
      "--token-auth-file=" + d("tokens.csv"),
      "--authorization-mode=Node,RBAC",
      "--service-cluster-ip-range=10.96.0.0/16",
      "--endpoint-reconciler-type=none",
      "--enable-priority-and-fairness=false",
  };
  if (!apiserver_.start(args, dir_.path() / "kube-apiserver.log")) {
    last_error_ = apiserver_.error();
    return false;
  }
  if (wait_ready(serving_port_, Clock::now() + timeout)) return true;
  apiserver_.stop();
  return false;
}

bool KubeApiServer::wait_ready(uint16_t port, Clock::time_point deadline) {
  http::ClientOptions o = plain_options();
  o.ca_pem = ca_pem();
  http::Client c(o);
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/readyz";
  std::string last;
  while (Clock::now() < deadline) {
    if (!apiserver_.running()) {
      last_error_ = "kube-apiserver exited during start-up (status " +
                    std::to_string(apiserver_.exit_status()) + ")\n" + logs();
      return false;
    }
    auto r = c.get(url, {"Authorization: Bearer " + token_});
    if (r.ok && r.response.status == 200) return true;
    last = r.ok ? "HTTP " + std::to_string(r.response.status) + ": " + r.response.body.substr(0, 300) : r.error;
    std::this_thread::sleep_for(milliseconds(200));
  }
  last_error_ = "kube-apiserver not ready on port " + std::to_string(port) + " (last answer: " + last +
                ")\n" + logs();
  return false;
}

// kube-apiserver drains for about 10 s after SIGTERM while watches are open; tests do
// not need a graceful drain, so it gets 2 s and is then killed (as a crash would be).
void KubeApiServer::stop_apiserver() { apiserver_.stop(std::chrono::seconds(2)); }

bool KubeApiServer::restart_apiserver(milliseconds timeout) {
  stop_apiserver();
  return start_apiserver(std::nullopt, timeout);
}

void KubeApiServer::stop() {
  stop_apiserver();
  etcd_.stop();
}

std::int64_t KubeApiServer::etcd_revision() {
  http::Client c(plain_options());
  // Any range request answers with the store's current revision in its header; key
  // "\0" (base64 "AAA=") is never used by Kubernetes.
  auto r = c.post_json("http://127.0.0.1:" + std::to_string(etcd_client_port_) + "/v3/kv/range",
                       R"({"key":"AA=="})");
  if (!r.ok || r.response.status != 200) {
    last_error_ = "etcd range: " + (r.ok ? "HTTP " + std::to_string(r.response.status) : r.error);
    return 0;
  }
  auto doc = nlohmann::json::parse(r.response.body, nullptr, false);
  const auto rev = doc.is_object() ? doc.value("header", nlohmann::json::object()).value("revision", "") : "";
  if (rev.empty()) {
    last_error_ = "etcd range answer has no header.revision: " + r.response.body.substr(0, 200);
    return 0;
  }
  return std::stoll(rev);
}

std::int64_t KubeApiServer::compact_etcd() {
  const std::int64_t rev = etcd_revision();
  if (rev == 0) return 0;
  http::Client c(plain_options());
  auto r = c.post_json("http://127.0.0.1:" + std::to_string(etcd_client_port_) + "/v3/kv/compaction",
                       R"({"revision":")" + std::to_string(rev) + R"(","physical":true})");
  if (!r.ok || r.response.status != 200) {
    last_error_ = "etcd compaction at " + std::to_string(rev) + ": " +
                  (r.ok ? "HTTP " + std::to_string(r.response.status) + " " + r.response.body : r.error);
    return 0;
  }
  return rev;
}

http::ClientResult KubeApiServer::request(const std::string& method, const std::string& path,
                                          const std::string& body, const std::string& content_type) {
  http::ClientOptions o = plain_options();
  o.ca_pem = ca_pem();
  o.total_timeout = milliseconds(15000);
  http::Client c(o);
  std::vector<std::string> headers = {"Authorization: Bearer " + token_, "Accept: application/json"};
  if (!body.empty()) headers.push_back("Content-Type: " + content_type);
  return c.request(method, "https://127.0.0.1:" + std::to_string(serving_port_) + path, body, headers);
}

std::optional<nlohmann::json> KubeApiServer::request_json(const std::string& method,
                                                          const std::string& path,
                                                          const std::string& body,
                                                          const std::string& content_type) {
  auto r = request(method, path, body, content_type);
  if (!r.ok || r.response.status < 200 || r.response.status >= 300) {
    last_error_ = method + " " + path + ": " +
                  (r.ok ? "HTTP " + std::to_string(r.response.status) + " " + r.response.body.substr(0, 500)
                        : r.error);
    return std::nullopt;
  }
  auto doc = nlohmann::json::parse(r.response.body, nullptr, false);
  if (doc.is_discarded()) {
    last_error_ = method + " " + path + ": the answer is not JSON";
    return std::nullopt;
  }
  return doc;
}

bool KubeApiServer::create_namespace(const std::string& name) {
  const auto ok_or_exists = [&](const http::ClientResult& r, const std::string& what) {
    if (r.ok && (r.response.status == 201 || r.response.status == 409)) return true;
    last_error_ = what + ": " + (r.ok ? "HTTP " + std::to_string(r.response.status) + " " + r.response.body : r.error);
    return false;
  };
  nlohmann::json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
  if (!ok_or_exists(request("POST", "/api/v1/namespaces", ns.dump()), "create namespace " + name)) return false;
  nlohmann::json sa = {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", "default"}}}};
  return ok_or_exists(request("POST", "/api/v1/namespaces/" + name + "/serviceaccounts", sa.dump()),
                      "create the default ServiceAccount of " + name);
}

bool KubeApiServer::grant_cluster_admin(const std::string& user) {
  nlohmann::json binding = {
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "ClusterRoleBinding"},
      {"metadata", {{"name", "test-admin-" + user}}},
      {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", "cluster-admin"}}},
      {"subjects", {{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "User"}, {"name", user}}}}};
  return request_json("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", binding.dump())
      .has_value();
}

}  // namespace gthulhu::test
