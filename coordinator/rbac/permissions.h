#pragma once
// The upstream permission keys (api/manager/domain/enums.go), verbatim, and the admin
// role built from them. `user.password.change` is not in the catalogue: as upstream,
// every authenticated user may change their own password.
#include <string>
#include <vector>

#include "coordinator/domain/types.h"

namespace gthulhu::coordinator {

namespace perm {
inline constexpr const char* kUserCreate = "user.create";
inline constexpr const char* kUserRead = "user.read";
inline constexpr const char* kUserPermissionUpdate = "user.permission.update";
inline constexpr const char* kUserPasswordReset = "user.password.reset";
inline constexpr const char* kUserPasswordChange = "user.password.change";
inline constexpr const char* kRoleCreate = "role.create";
inline constexpr const char* kRoleRead = "role.read";
inline constexpr const char* kRoleUpdate = "role.update";
inline constexpr const char* kRoleDelete = "role.delete";
inline constexpr const char* kPermissionRead = "permission.read";
inline constexpr const char* kStrategyCreate = "schedule_strategy.create";
inline constexpr const char* kStrategyRead = "schedule_strategy.read";
inline constexpr const char* kStrategyUpdate = "schedule_strategy.update";
inline constexpr const char* kStrategyDelete = "schedule_strategy.delete";
inline constexpr const char* kIntentRead = "schedule_intent.read";
inline constexpr const char* kIntentDelete = "schedule_intent.delete";
inline constexpr const char* kPodPidMappingRead = "pod_pid_mapping.read";
}  // namespace perm

inline constexpr const char* kAdminRoleName = "admin";

// Every key of the catalogue with resource, action and a description, sorted by key.
// Includes the upstream keys of features this coordinator does not serve yet
// (pod_scheduling_metrics.*, scheduler_config.*, node_scheduling_*), so roles written
// for the upstream stay valid.
const std::vector<Permission>& permission_catalogue();
bool is_known_permission(const std::string& key);

// The bootstrapped admin role: every catalogue key, self = false.
Role admin_role_template();

}  // namespace gthulhu::coordinator
