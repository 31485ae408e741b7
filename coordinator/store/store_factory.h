#pragma once
// Choosing and configuring the store from the configuration:
//   [store]   backend = sqlite | mongodb, cache_ttl, health_interval, health_stale_after
//   [sqlite]  path, busy_timeout, pool_size
//   [mongodb] uri, database, max_pool_size, server_selection_timeout, connect_timeout,
//             socket_timeout, write_concern, journal
#include <chrono>
#include <memory>

#include "common/config/config.h"
#include "common/config/schema.h"
#include "coordinator/store/store.h"
#include "coordinator/store/store_health.h"

namespace gthulhu::coordinator {

void add_store_config(config::Schema& schema);

// Builds the configured store (not yet migrated). Throws std::runtime_error /
// std::invalid_argument for an unusable configuration (unknown backend, bad URI, a
// SQLite file that cannot be opened).
std::shared_ptr<Store> make_store(const config::Config& cfg);

// store.cache_ttl (store/caching_store.h); throws config::ConfigError naming the key.
std::chrono::milliseconds store_cache_ttl(const config::Config& cfg);
// store.health_interval / store.health_stale_after; throws config::ConfigError naming
// the key when out of range or when the staleness bound is not above the interval.
StoreHealthOptions store_health_options(const config::Config& cfg);

}  // namespace gthulhu::coordinator
