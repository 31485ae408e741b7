#pragma once
// Strategies x pods -> intents. A pod gets an intent from a strategy when it is
// scheduled and not finished (is_schedulable), is in one of the strategy's namespaces
// (any namespace when the list is empty), and carries every selector's label
// (key=value, or just the key when the selector's value is empty).
#include <string>
#include <vector>

#include "coordinator/domain/types.h"
#include "coordinator/pods/pod_source.h"

namespace gthulhu::coordinator {

bool strategy_matches(const Strategy& strategy, const Pod& pod);

// The id of the intent a strategy gives a pod: the same on every replica and after
// every restart (24 hex characters of sha256(strategy id "/" pod uid)), so replanning
// an unchanged match changes nothing and a delta names the intent it replaces.
std::string stable_intent_id(const std::string& strategy_id, const std::string& pod_uid);

// One intent (stable id, state Initialized, timestamps = now) per matching pod, in
// the pods' order. Creator/updater are copied from the strategy.
std::vector<Intent> plan_intents(const Strategy& strategy, const std::vector<Pod>& pods,
                                 UnixMillis now);

}  // namespace gthulhu::coordinator
