#pragma once
// Choosing and configuring the store from the configuration:
//   [store]   backend = sqlite | mongodb
//   [sqlite]  path, busy_timeout, pool_size
//   [mongodb] uri, database, max_pool_size, server_selection_timeout, connect_timeout,
//             socket_timeout, write_concern, journal
#include <memory>

#include "common/config/config.h"
#include "common/config/schema.h"
#include "coordinator/store/store.h"

namespace gthulhu::coordinator {

void add_store_config(config::Schema& schema);

// Builds the configured store (not yet migrated). Throws std::runtime_error /
// std::invalid_argument for an unusable configuration (unknown backend, bad URI, a
// SQLite file that cannot be opened).
std::shared_ptr<Store> make_store(const config::Config& cfg);

}  // namespace gthulhu::coordinator
