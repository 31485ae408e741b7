#pragma once
// A real Kubernetes API server for tests: etcd + kube-apiserver as child processes on
// free loopback ports, with everything they need generated at run time in a private
// temporary directory (no secrets in the repository):
//   - a service-account signing key pair,
//   - a serving certificate for 127.0.0.1 from the test PKI, whose CA also
//     authenticates client certificates (CN = user, as Kubernetes reads them),
//   - tokens.csv with one random admin token (group system:masters),
//   - a kubeconfig (token + CA file) for the client under test.
// There is no controller-manager or scheduler: create_namespace() also creates the
// namespace's "default" ServiceAccount (pods are refused without it), tests set
// spec.nodeName themselves and set the phase through the status subresource.
//
// Binaries: $GTHULHU_ETCD / $GTHULHU_KUBE_APISERVER, else $GTHULHU_CACHE/bin/{etcd,
// kube-apiserver} (built by scripts/kube-apiserver.sh). Tests call
// KubeApiServer::unavailable_reason() and GTEST_SKIP with it when non-empty.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/http/client.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace gthulhu::test {

class KubeApiServer {
 public:
  static std::filesystem::path etcd_binary();
  static std::filesystem::path apiserver_binary();
  // "" when both binaries exist and run; else a sentence for GTEST_SKIP. Checked once.
  static const std::string& unavailable_reason();

  KubeApiServer();   // ports, keys, token, kubeconfig; starts nothing
  ~KubeApiServer();  // stop()
  KubeApiServer(const KubeApiServer&) = delete;
  KubeApiServer& operator=(const KubeApiServer&) = delete;

  // etcd, then the API server, waiting for /readyz. False with last_error() (including
  // the tails of both logs) on failure or when `timeout` passes.
  bool start(std::chrono::milliseconds timeout = std::chrono::seconds(120));
  void stop();

  // The API server alone (etcd and its data stay). start_apiserver(port) serves on
  // another port than the kubeconfig names, so changes can be made while clients of
  // the kubeconfig see the server as down; start_apiserver() uses the usual port.
  void stop_apiserver();
  bool start_apiserver(std::optional<uint16_t> port = std::nullopt,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60));
  bool restart_apiserver(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Freezes / thaws the API server process (SIGSTOP / SIGCONT): connections stay open
  // and nothing arrives on them, as with a hung server or a dead network path.
  void pause_apiserver() { apiserver_.pause(); }
  void resume_apiserver() { apiserver_.resume(); }

  // etcd's current revision (its kv range header); 0 with last_error() on failure.
  std::int64_t etcd_revision();
  // Compacts etcd's history up to its current revision (physical), so every older
  // resourceVersion is gone. Returns the revision compacted at, 0 on failure.
  std::int64_t compact_etcd();

  // Namespace + its default ServiceAccount (existing ones are fine). False on failure.
  bool create_namespace(const std::string& name);
  // Binds a user name (a client certificate's CN) to the cluster-admin role.
  bool grant_cluster_admin(const std::string& user);

  // An admin request to the running API server (the port it currently serves on).
  // `content_type` matters for PATCH: application/merge-patch+json.
  http::ClientResult request(const std::string& method, const std::string& path,
                             const std::string& body = {},
                             const std::string& content_type = "application/json");
  // The parsed body of a 2xx answer; nullopt (and last_error()) otherwise.
  std::optional<nlohmann::json> request_json(const std::string& method, const std::string& path,
                                             const std::string& body = {},
                                             const std::string& content_type = "application/json");

  const std::filesystem::path& kubeconfig() const { return kubeconfig_; }
  std::string server_url() const;  // https://127.0.0.1:<port> (the usual port)
  uint16_t port() const { return apiserver_port_; }
  const std::string& admin_token() const { return token_; }
  const std::string& ca_pem() const;
  const std::filesystem::path& dir() const { return dir_.path(); }
  const std::string& last_error() const { return last_error_; }
  std::string logs() const;  // tails of both logs

 private:
  bool start_etcd(std::chrono::milliseconds timeout);
  bool wait_ready(uint16_t port, std::chrono::steady_clock::time_point deadline);
  void write_files();

  TempDir dir_;
  uint16_t etcd_client_port_ = 0;
  uint16_t etcd_peer_port_ = 0;
  uint16_t apiserver_port_ = 0;
  uint16_t serving_port_ = 0;  // where the API server runs now
  std::string token_;
  std::filesystem::path kubeconfig_;
  ChildProcess etcd_;
  ChildProcess apiserver_;
  std::string last_error_;
};

}  // namespace gthulhu::test
