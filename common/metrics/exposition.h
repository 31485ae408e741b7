#pragma once
// Prometheus text exposition served by our own HTTP server (prometheus-cpp's pull
// Exposer would be a second web server with its own limits and no TLS of ours).
#include <memory>
#include <vector>

#include "common/http/request.h"

namespace prometheus { class Collectable; }

namespace gthulhu::metrics {

// Registries and custom collectors (which read their values at scrape time, e.g. from
// BPF maps) are serialised together in one response.
using Collectables = std::vector<std::shared_ptr<prometheus::Collectable>>;
http::Response exposition(const Collectables& sources);
http::Handler exposition_handler(Collectables sources);

}  // namespace gthulhu::metrics
