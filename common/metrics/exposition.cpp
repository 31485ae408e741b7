#include "common/metrics/exposition.h"

#include <prometheus/collectable.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace gthulhu::metrics {

http::Response exposition(const Collectables& registries) {
  std::vector<prometheus::MetricFamily> families;
  for (const auto& r : registries) {
    auto collected = r->Collect();
    families.insert(families.end(), std::make_move_iterator(collected.begin()),
                    std::make_move_iterator(collected.end()));
  }
  http::Response resp;
  resp.body = prometheus::TextSerializer().Serialize(families);
  resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return resp;
}

http::Handler exposition_handler(Collectables registries) {
  return [registries = std::move(registries)](http::Request&) { return exposition(registries); };
}

}  // namespace gthulhu::metrics
