#include "coordinator/rbac/permissions.h"

#include <algorithm>

namespace gthulhu::coordinator {

const std::vector<Permission>& permission_catalogue() {
  static const std::vector<Permission> kAll = [] {
    std::vector<Permission> v = {
        {"user.create", "user", "create", "Create users"},
        {"user.read", "user", "read", "List users"},
        {"user.permission.update", "user", "update", "Change a user's roles and status"},
        {"user.password.reset", "user", "update", "Reset a user's password"},
        {"role.create", "role", "create", "Create roles"},
        {"role.read", "role", "read", "List roles"},
        {"role.update", "role", "update", "Update roles"},
        {"role.delete", "role", "delete", "Delete roles"},
        {"permission.read", "permission", "read", "List permissions"},
        {"schedule_strategy.create", "schedule_strategy", "create", "Create scheduling strategies"},
        {"schedule_strategy.read", "schedule_strategy", "read", "List scheduling strategies"},
        {"schedule_strategy.update", "schedule_strategy", "update", "Update scheduling strategies"},
        {"schedule_strategy.delete", "schedule_strategy", "delete", "Delete scheduling strategies"},
        {"schedule_intent.read", "schedule_intent", "read", "List scheduling intents"},
        {"schedule_intent.delete", "schedule_intent", "delete", "Delete scheduling intents"},
        {"pod_pid_mapping.read", "pod_pid_mapping", "read", "List nodes and their pods' processes"},
        {"pod_scheduling_metrics.create", "pod_scheduling_metrics", "create", "Create pod scheduling metrics"},
        {"pod_scheduling_metrics.read", "pod_scheduling_metrics", "read", "Read pod scheduling metrics"},
        {"pod_scheduling_metrics.update", "pod_scheduling_metrics", "update", "Update pod scheduling metrics"},
        {"pod_scheduling_metrics.delete", "pod_scheduling_metrics", "delete", "Delete pod scheduling metrics"},
        {"scheduler_config.read", "scheduler_config", "read", "Read scheduler runtime configuration"},
        {"scheduler_config.update", "scheduler_config", "update", "Apply scheduler runtime configuration"},
        {"node_scheduling_policy.create", "node_scheduling_policy", "create", "Create node scheduling policies"},
        {"node_scheduling_policy.read", "node_scheduling_policy", "read", "Read node scheduling policies"},
        {"node_scheduling_policy.update", "node_scheduling_policy", "update", "Update node scheduling policies"},
        {"node_scheduling_policy.delete", "node_scheduling_policy", "delete", "Delete node scheduling policies"},
        {"node_scheduling_intent.read", "node_scheduling_intent", "read", "Read node scheduling intents"},
        {"node_scheduling_intent.delete", "node_scheduling_intent", "delete", "Delete node scheduling intents"},
    };
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
    return v;
  }();
  return kAll;
}

bool is_known_permission(const std::string& key) {
  const auto& all = permission_catalogue();
  return std::any_of(all.begin(), all.end(), [&](const Permission& p) { return p.key == key; });
}

Role admin_role_template() {
  Role r;
  r.name = kAdminRoleName;
  r.description = "Administrator: every permission";
  for (const auto& p : permission_catalogue()) r.policies.push_back({p.key, false, "", ""});
  return r;
}

}  // namespace gthulhu::coordinator
