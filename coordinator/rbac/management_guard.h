#pragma once
// The rule that keeps RBAC repairable: some user who can sign in (not inactive) must
// hold, without `self`, every permission that manages users and roles. Whoever holds
// them can undo any other mistake; a change that would leave nobody holding them is
// refused with 409 before it is written. The built-in admin role must always grant
// them itself, and can be neither renamed nor deleted.
#include <string>
#include <vector>

#include "coordinator/domain/types.h"

namespace gthulhu::coordinator {

// user.create, user.read, user.permission.update, user.password.reset, role.create,
// role.read, role.update, role.delete, permission.read.
const std::vector<std::string>& management_permissions();

// The management keys `role` does not grant without `self` (empty: it grants all).
std::vector<std::string> missing_management(const Role& role);

// Whether some user of `users` who can sign in holds every management key through the
// union of their roles in `roles` (roles matched by name; unknown names grant nothing).
bool someone_can_manage(const std::vector<User>& users, const std::vector<Role>& roles);

}  // namespace gthulhu::coordinator
