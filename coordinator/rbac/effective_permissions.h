#pragma once
// What a user may do, from their roles: every permission key any role grants, and
// whether it is limited to the caller's own resources (self). As in Authorizer, the
// broadest grant wins: self only when every granting policy has self.
// user.password.change is always granted (upstream). The UI uses this to show only
// the views and actions the user may use; the server still checks every request.
#include <map>
#include <string>
#include <vector>

#include "coordinator/domain/types.h"

namespace gthulhu::coordinator {

// permission key -> self_only
std::map<std::string, bool> effective_permissions(const std::vector<Role>& roles);

}  // namespace gthulhu::coordinator
