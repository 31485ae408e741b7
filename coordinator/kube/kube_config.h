#pragma once
// Where the Kubernetes API server is and how to authenticate to it, from either
//   - in-cluster: the pod's service-account files (token, ca.crt, namespace) and the
//     KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT environment variables, or
//   - a kubeconfig file: the current context or a named one; the cluster's server and
//     CA (inline data or a file), the user's bearer token (inline or a token file) or
//     client certificate and key (inline data or files).
// Relative file names in a kubeconfig are relative to the kubeconfig's directory, as
// kubectl reads them. Exec plugins and auth providers are not supported: they fail
// with a message saying so instead of silently connecting unauthenticated.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "common/config/config.h"

namespace gthulhu::coordinator::kube {

struct KubeCredentials {
  std::string server;  // base URL, e.g. "https://10.96.0.1:443", no trailing slash
  std::string ca_pem;  // "" = the system trust store
  bool insecure_skip_tls_verify = false;
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string token;                  // a fixed bearer token ("" = none)
  std::filesystem::path token_file;   // re-read periodically (projected tokens rotate)
  std::string default_namespace;      // the pod's / context's namespace; "" = unknown
  std::string origin;                 // "in-cluster" or "kubeconfig FILE, context C"
};

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

// Throws std::runtime_error naming the missing variable or unreadable file.
KubeCredentials load_in_cluster(const std::filesystem::path& service_account_dir,
                                const config::Environment& env);

// The kubeconfig to read when none is configured: the first entry of $KUBECONFIG, else
// $HOME/.kube/config.
std::filesystem::path default_kubeconfig_path(const config::Environment& env);

// context "" = the file's current-context. Throws std::runtime_error naming the file,
// the context and the field that is missing or wrong.
KubeCredentials load_kubeconfig(const std::filesystem::path& file, const std::string& context);

// The same on an already-parsed document; `base_dir` resolves relative file names.
KubeCredentials kubeconfig_credentials(const nlohmann::json& doc, const std::string& context,
                                       const std::filesystem::path& base_dir,
                                       const std::string& origin);

}  // namespace gthulhu::coordinator::kube
