#pragma once
// Configuration of the push to agents ([agents]): how to reach and trust them, and
// the timing of the node channels.
#include "common/config/config.h"
#include "common/config/schema.h"
#include "coordinator/dispatch/control_loop.h"

namespace gthulhu::coordinator {

void add_dispatch_config(config::Schema& schema);
// Throws std::invalid_argument naming the key that is wrong.
DispatchSettings dispatch_settings(const config::Config& cfg);

}  // namespace gthulhu::coordinator
