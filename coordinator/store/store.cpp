#include "coordinator/store/store.h"

namespace gthulhu::coordinator {

Result<std::size_t> Store::update_intent_states(const std::vector<IntentStateUpdate>& updates) {
  std::size_t written = 0;
  for (const auto& u : updates) {
    auto r = update_intent_state(u.id, u.state, u.reason, u.at);
    if (r.ok()) {
      ++written;
    } else if (r.code() != StoreErrc::kNotFound) {
      return r.error();
    }
  }
  return written;
}

}  // namespace gthulhu::coordinator
