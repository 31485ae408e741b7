#include "coordinator/planner/planner.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>

namespace gthulhu::coordinator {

std::string stable_intent_id(const std::string& strategy_id, const std::string& pod_uid) {
  const std::string key = strategy_id + "/" + pod_uid;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  char hex[25];
  for (int i = 0; i < 12; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  return std::string(hex, 24);
}

bool strategy_matches(const Strategy& s, const Pod& pod) {
  if (!is_schedulable(pod)) return false;
  if (!s.k8s_namespaces.empty() &&
      std::find(s.k8s_namespaces.begin(), s.k8s_namespaces.end(), pod.namespace_) ==
          s.k8s_namespaces.end()) {
    return false;
  }
  for (const auto& sel : s.label_selectors) {
    auto it = pod.labels.find(sel.key);
    if (it == pod.labels.end()) return false;
    if (!sel.value.empty() && it->second != sel.value) return false;
  }
  return true;
}

std::vector<Intent> plan_intents(const Strategy& s, const std::vector<Pod>& pods,
                                 UnixMillis now) {
  std::vector<Intent> out;
  for (const auto& pod : pods) {
    if (!strategy_matches(s, pod)) continue;
    Intent i;
    i.id = stable_intent_id(s.id, pod.uid);
    i.strategy_id = s.id;
    i.pod_id = pod.uid;
    i.pod_name = pod.name;
    i.node_id = pod.node_name;
    i.k8s_namespace = pod.namespace_;
    i.command_regex = s.command_regex;
    i.priority = s.priority;
    i.execution_time = s.execution_time;
    i.pod_labels = pod.labels;
    i.state = IntentState::kInitialized;
    i.creator_id = s.creator_id;
    i.updater_id = s.updater_id.empty() ? s.creator_id : s.updater_id;
    i.created_at = now;
    i.updated_at = now;
    out.push_back(std::move(i));
  }
  return out;
}

}  // namespace gthulhu::coordinator
