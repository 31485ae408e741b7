#pragma once
// The configuration keys every HTTP service here shares ([server], [tls], [log]),
// declared once so the agent and the coordinator name and document them alike.
#include <string>

#include "common/config/config.h"
#include "common/http/server.h"

namespace gthulhu::service {

// Per-program defaults of the shared keys.
struct ServerDefaults {
  std::string listen;
  int threads = 2;
  int max_connections = 512;
  int max_connections_per_ip = 64;
  // Serve each connection on its own thread (for handlers that block, such as a long
  // poll); the server then has no `server.threads` key. See http::ServerOptions.
  bool thread_per_connection = false;
};

// Declares [server] listen/timeouts/limits/access_log, [tls] cert/key/client_ca and
// [log] level/format.
void add_server_keys(config::Schema& schema, const ServerDefaults& defaults);

// Builds the server options from a loaded Config; throws config::ConfigError when the
// TLS material is inconsistent (a key without a certificate, a client CA without TLS).
http::ServerOptions server_options_from(const config::Config& config, const std::string& name);

// Initialises logging from [log].
void init_logging_from(const config::Config& config);

}  // namespace gthulhu::service
