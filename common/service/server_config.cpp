#include "common/service/server_config.h"

#include <algorithm>
#include <chrono>

#include "common/service/logging.h"

namespace gthulhu::service {

using namespace std::chrono_literals;

void add_server_keys(config::Schema& schema, const ServerDefaults& d) {
  schema
      .add_string("server", "listen", d.listen,
                  "address:port to serve on (\":8080\" = all IPv4 addresses, \"[::1]:8080\" for IPv6)")
      .add_duration("server", "connection_timeout", 30s,
                    "idle time after which a connection is closed")
      .add_duration("server", "request_head_timeout", 10s,
                    "time a request's line and headers may take to arrive, from the connection's "
                    "opening or its previous response (bounds clients that trickle bytes)")
      .add_duration("server", "request_body_timeout", 30s,
                    "time a request's body may take to arrive after its headers")
      .add_int("server", "max_header_bytes", 64 << 10, 1024, 1 << 20,
               "largest request line + headers accepted (431 above)")
      .add_int("server", "max_url_bytes", 8 << 10, 256, 1 << 20,
               "longest request URL accepted, query included (414 above)")
      .add_int("server", "max_body_bytes", 1 << 20, 1024, 64 << 20, "largest request body accepted (413 above)")
      .add_int("server", "max_connections", d.max_connections, 1, 100000, "connections served at once")
      .add_int("server", "max_connections_per_ip", d.max_connections_per_ip, 1, 100000,
               "connections from one address at once")
      .add_bool("server", "access_log", true, "one log line per request")
      .add_duration("server", "shutdown_grace", 5s, "time in-flight requests get to finish on SIGTERM")
      .add_pem("tls", "cert", "server certificate chain (PEM or path); set with tls.key to serve HTTPS")
      .add_pem("tls", "key", "server private key (PEM or path)")
      .add_pem("tls", "client_ca",
               "CA that must have signed client certificates (PEM or path); set = mTLS required")
      .add_string("log", "level", "info", "trace, debug, info, warn, error or off")
      .add_string("log", "format", "text", "text, or json for one JSON object per line");
  if (!d.thread_per_connection) schema.add_int("server", "threads", d.threads, 1, 64, "request threads");
}

http::ServerOptions server_options_from(const config::Config& c, const std::string& name) {
  http::ServerOptions o;
  o.name = name;
  o.listen = c.get_string("server.listen");
  o.connection_timeout = std::chrono::duration_cast<std::chrono::seconds>(
      c.get_duration("server.connection_timeout"));
  if (o.connection_timeout.count() < 1) o.connection_timeout = 1s;
  o.max_body_bytes = static_cast<size_t>(c.get_int("server.max_body_bytes"));
  o.request_head_timeout = std::max<std::chrono::milliseconds>(
      100ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                 c.get_duration("server.request_head_timeout")));
  o.request_body_timeout = std::max<std::chrono::milliseconds>(
      100ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                 c.get_duration("server.request_body_timeout")));
  o.max_header_bytes = static_cast<size_t>(c.get_int("server.max_header_bytes"));
  o.max_url_bytes = static_cast<size_t>(c.get_int("server.max_url_bytes"));
  o.max_connections = static_cast<unsigned>(c.get_int("server.max_connections"));
  o.max_connections_per_ip = static_cast<unsigned>(c.get_int("server.max_connections_per_ip"));
  if (c.declares("server.threads")) {
    o.threads = static_cast<unsigned>(c.get_int("server.threads"));
  } else {
    o.thread_per_connection = true;
  }
  o.access_log = c.get_bool("server.access_log");
  o.shutdown_grace = std::chrono::duration_cast<std::chrono::milliseconds>(
      c.get_duration("server.shutdown_grace"));
  const bool cert = c.is_set("tls.cert"), key = c.is_set("tls.key"), ca = c.is_set("tls.client_ca");
  std::vector<std::string> errors;
  if (cert != key) errors.push_back("tls.cert and tls.key must be set together");
  if (ca && !cert) errors.push_back("tls.client_ca (mTLS) needs tls.cert and tls.key");
  if (!errors.empty()) throw config::ConfigError(errors);
  if (cert) {
    o.tls = http::TlsOptions{c.get_pem("tls.cert"), c.get_pem("tls.key"),
                             ca ? c.get_pem("tls.client_ca") : std::string()};
  }
  return o;
}

void init_logging_from(const config::Config& c) {
  init_logging(c.get_string("log.level"), c.get_string("log.format"));
}

}  // namespace gthulhu::service
