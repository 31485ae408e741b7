#pragma once
// Prometheus text exposition served by our own HTTP server (prometheus-cpp's pull
// Exposer would be a second web server with its own limits and no TLS of ours).
#include <memory>
#include <vector>

#include "common/http/request.h"

namespace prometheus { class Registry; }

namespace gthulhu::metrics {

http::Response exposition(const std::vector<std::shared_ptr<prometheus::Registry>>& registries);
http::Handler exposition_handler(std::vector<std::shared_ptr<prometheus::Registry>> registries);

}  // namespace gthulhu::metrics
