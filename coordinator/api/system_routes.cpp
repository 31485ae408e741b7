#include <prometheus/registry.h>

#include "common/metrics/exposition.h"
#include "coordinator/api/dispatch_metrics.h"
#include "coordinator/api/route_support.h"
#include "coordinator/api/routes.h"

namespace gthulhu::coordinator {

void add_system_routes(http::Router& r, ApiContext& ctx,
                       std::vector<std::shared_ptr<prometheus::Registry>> registries) {
  // No envelope, as upstream. 503 while the store cannot be reached, so a load balancer
  // or kubelet readiness probe takes the instance out.
  // The store part comes from the background check (store/store_health.h) with its
  // age, so probes at any rate cost the store one ping per interval.
  r.get("/health", guarded([&ctx](http::Request&) {
          StoreHealth check;
          if (ctx.store_health != nullptr) check = ctx.store_health->current();
          else check.error = "no store health check is running";
          json store = {{"backend", ctx.store.backend()}, {"ok", check.ok}};
          if (check.checked) {
            store["checkedAgoMs"] = check.age.count();
            store["pingMs"] = check.latency.count();
          }
          if (!check.ok) store["error"] = check.error;
          json pods = {{"synced", ctx.pods.synced()}};
          const bool started = ctx.ready == nullptr || ctx.ready->load();
          const bool healthy = check.ok && started;
          if (!started) store["starting"] = true;
          return http::json_raw({{"status", healthy ? "healthy" : "unhealthy"},
                                 {"timestamp", http::rfc3339_now()},
                                 {"service", ctx.service_name},
                                 {"store", store},
                                 {"pods", pods}},
                                healthy ? 200 : 503);
        }));
  r.get("/version", guarded([&ctx](http::Request&) {
          return http::json_raw({{"message", ctx.service_name},
                                 {"version", GTHULHU_VERSION},
                                 {"endpoints", "see /swagger/ (OpenAPI at /swagger/doc.json)"}});
        }));
  metrics::Collectables sources(registries.begin(), registries.end());
  sources.push_back(make_dispatch_collector(ctx.control));
  r.get("/metrics", metrics::exposition_handler(std::move(sources)));
}

}  // namespace gthulhu::coordinator
