#include "coordinator/kube/kube_config.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "coordinator/kube/base64.h"
#include "coordinator/kube/yaml_document.h"

namespace gthulhu::coordinator::kube {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(what + ": cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  const auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::string env_value(const config::Environment& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

// A string field of a kubeconfig object; "" when absent or null.
std::string text_field(const nlohmann::json& obj, const char* name, const std::string& where) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_boolean()) return it->get<bool>() ? "true" : "false";
  throw std::runtime_error(where + ": field \"" + name + "\" must be a string");
}

bool bool_field(const nlohmann::json& obj, const char* name, const std::string& where) {
  const std::string v = text_field(obj, name, where);
  if (v.empty() || v == "false") return false;
  if (v == "true") return true;
  throw std::runtime_error(where + ": field \"" + name + "\" must be true or false, not \"" + v + "\"");
}

// Finds {name: N, <kind>: {...}} in the list `list_name` (clusters, users, contexts).
const nlohmann::json& named_entry(const nlohmann::json& doc, const char* list_name,
                                  const char* kind, const std::string& name,
                                  const std::string& origin) {
  auto list = doc.find(list_name);
  if (list == doc.end() || !list->is_array()) {
    throw std::runtime_error(origin + ": no \"" + list_name + "\" list");
  }
  for (const auto& e : *list) {
    if (e.is_object() && e.value("name", nlohmann::json()).is_string() &&
        e["name"].get<std::string>() == name) {
      auto body = e.find(kind);
      if (body == e.end() || !body->is_object()) {
        throw std::runtime_error(origin + ": " + list_name + " entry \"" + name + "\" has no \"" +
                                 kind + "\" object");
      }
      return *body;
    }
  }
  throw std::runtime_error(origin + ": no " + kind + " named \"" + name + "\" in \"" + list_name + "\"");
}

fs::path resolve(const fs::path& base_dir, const std::string& file) {
  fs::path p(file);
  return p.is_relative() ? base_dir / p : p;
}

// "<name>-data" (base64 PEM) wins over "<name>" (a file), as in kubectl.
std::string pem_from(const nlohmann::json& obj, const char* file_field, const char* data_field,
                     const fs::path& base_dir, const std::string& where) {
  const std::string data = text_field(obj, data_field, where);
  if (!data.empty()) {
    std::string pem;
    if (!base64_decode(data, pem)) {
      throw std::runtime_error(where + ": field \"" + data_field + "\" is not valid base64");
    }
    return pem;
  }
  const std::string file = text_field(obj, file_field, where);
  if (file.empty()) return {};
  return read_file(resolve(base_dir, file), where + ": " + file_field);
}

void read_cluster(const nlohmann::json& cluster, const fs::path& base_dir, const std::string& where,
                  KubeCredentials& out) {
  out.server = text_field(cluster, "server", where);
  if (out.server.empty()) throw std::runtime_error(where + ": field \"server\" is missing");
  if (out.server.rfind("https://", 0) != 0 && out.server.rfind("http://", 0) != 0) {
    throw std::runtime_error(where + ": server \"" + out.server + "\" is not an http(s) URL");
  }
  while (!out.server.empty() && out.server.back() == '/') out.server.pop_back();
  out.ca_pem = pem_from(cluster, "certificate-authority", "certificate-authority-data", base_dir, where);
  out.insecure_skip_tls_verify = bool_field(cluster, "insecure-skip-tls-verify", where);
}

void read_user(const nlohmann::json& user, const fs::path& base_dir, const std::string& where,
               KubeCredentials& out) {
  if (user.contains("exec")) {
    throw std::runtime_error(where + ": exec credential plugins are not supported; use a token, "
                             "a token file or a client certificate");
  }
  if (user.contains("auth-provider")) {
    throw std::runtime_error(where + ": auth-provider is not supported; use a token, a token "
                             "file or a client certificate");
  }
  if (!text_field(user, "username", where).empty()) {
    throw std::runtime_error(where + ": basic authentication (username/password) is not supported");
  }
  out.token = text_field(user, "token", where);
  const std::string token_file = text_field(user, "tokenFile", where);
  if (!token_file.empty()) {
    out.token_file = resolve(base_dir, token_file);
    if (out.token.empty()) {
      out.token = trim(read_file(out.token_file, where + ": tokenFile"));
    }
  }
  out.client_cert_pem = pem_from(user, "client-certificate", "client-certificate-data", base_dir, where);
  out.client_key_pem = pem_from(user, "client-key", "client-key-data", base_dir, where);
  if (out.client_cert_pem.empty() != out.client_key_pem.empty()) {
    throw std::runtime_error(where + ": a client certificate needs its key and a key its "
                             "certificate (client-certificate[-data] and client-key[-data])");
  }
}

}  // namespace

KubeCredentials load_in_cluster(const fs::path& dir, const config::Environment& env) {
  const std::string where = "in-cluster configuration";
  std::string host = env_value(env, "KUBERNETES_SERVICE_HOST");
  const std::string port = env_value(env, "KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty()) {
    throw std::runtime_error(where + ": KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
                             "must be set (is this running in a pod? otherwise use "
                             "kubernetes.mode = kubeconfig)");
  }
  if (host.find(':') != std::string::npos) host = "[" + host + "]";  // IPv6
  KubeCredentials c;
  c.origin = "in-cluster";
  c.server = "https://" + host + ":" + port;
  c.token_file = dir / "token";
  c.token = trim(read_file(c.token_file, where + ": service-account token"));
  if (c.token.empty()) throw std::runtime_error(where + ": " + c.token_file.string() + " is empty");
  c.ca_pem = read_file(dir / "ca.crt", where + ": cluster CA");
  std::error_code ec;
  if (fs::exists(dir / "namespace", ec)) {
    c.default_namespace = trim(read_file(dir / "namespace", where + ": namespace"));
  }
  return c;
}

fs::path default_kubeconfig_path(const config::Environment& env) {
  const std::string list = env_value(env, "KUBECONFIG");
  if (!list.empty()) return fs::path(list.substr(0, list.find(':')));
  return fs::path(env_value(env, "HOME")) / ".kube" / "config";
}

KubeCredentials load_kubeconfig(const fs::path& file, const std::string& context) {
  const std::string text = read_file(file, "kubeconfig");
  const nlohmann::json doc = parse_yaml(text, "kubeconfig " + file.string());
  return kubeconfig_credentials(doc, context, file.parent_path(), "kubeconfig " + file.string());
}

KubeCredentials kubeconfig_credentials(const nlohmann::json& doc, const std::string& context,
                                       const fs::path& base_dir, const std::string& origin) {
  if (!doc.is_object()) throw std::runtime_error(origin + ": not a kubeconfig (expected a mapping)");
  std::string name = context;
  if (name.empty()) {
    name = text_field(doc, "current-context", origin);
    if (name.empty()) {
      throw std::runtime_error(origin + ": no current-context set; name one with kubernetes.context");
    }
  }
  const auto& ctx = named_entry(doc, "contexts", "context", name, origin);
  const std::string where = origin + ", context \"" + name + "\"";
  const std::string cluster_name = text_field(ctx, "cluster", where);
  const std::string user_name = text_field(ctx, "user", where);
  if (cluster_name.empty()) throw std::runtime_error(where + ": field \"cluster\" is missing");

  KubeCredentials c;
  c.origin = where;
  c.default_namespace = text_field(ctx, "namespace", where);
  read_cluster(named_entry(doc, "clusters", "cluster", cluster_name, origin), base_dir,
               origin + ", cluster \"" + cluster_name + "\"", c);
  if (!user_name.empty()) {
    read_user(named_entry(doc, "users", "user", user_name, origin), base_dir,
              origin + ", user \"" + user_name + "\"", c);
  }
  return c;
}

}  // namespace gthulhu::coordinator::kube
