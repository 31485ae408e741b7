#include "coordinator/rbac/effective_permissions.h"

#include "coordinator/rbac/permissions.h"

namespace gthulhu::coordinator {

std::map<std::string, bool> effective_permissions(const std::vector<Role>& roles) {
  std::map<std::string, bool> out;
  for (const auto& role : roles) {
    for (const auto& p : role.policies) {
      auto [it, inserted] = out.emplace(p.permission_key, p.self);
      if (!inserted) it->second = it->second && p.self;
    }
  }
  out[perm::kUserPasswordChange] = false;
  return out;
}

}  // namespace gthulhu::coordinator
