#pragma once
// The request and response types every handler sees. Kept free of libmicrohttpd so
// handlers and their unit tests never depend on the transport.
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gthulhu::http {

// Identity of a TLS client whose certificate chain was verified against the
// configured client CA. Absent when the request came without mTLS.
struct PeerIdentity {
  std::string common_name;
  std::string subject;
  std::string issuer;
};

struct Request {
  std::string method;
  std::string path;                               // without the query string
  std::string route;                              // matched pattern, e.g. /api/v1/nodes/:nodeID
  std::map<std::string, std::string> path_params; // :name -> value
  std::map<std::string, std::string> query;       // last value wins
  std::map<std::string, std::string> headers;     // keys lower-cased
  std::string body;
  std::string peer_address;
  std::string request_id;
  std::optional<PeerIdentity> peer;
  // Set by middleware (e.g. the authenticated subject) for later handlers and logs.
  std::map<std::string, std::string> attributes;

  // Case-insensitive header lookup; empty when absent.
  std::string header(std::string_view name) const;
  std::string param(const std::string& name) const;
  std::optional<std::string> query_param(const std::string& name) const;
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;

  Response& with_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

using Handler = std::function<Response(Request&)>;

}  // namespace gthulhu::http
