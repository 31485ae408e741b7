#include "coordinator/rbac/management_guard.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "coordinator/rbac/permissions.h"

namespace gthulhu::coordinator {

const std::vector<std::string>& management_permissions() {
  static const std::vector<std::string> keys = {
      perm::kUserCreate,      perm::kUserRead,   perm::kUserPermissionUpdate,
      perm::kUserPasswordReset, perm::kRoleCreate, perm::kRoleRead,
      perm::kRoleUpdate,      perm::kRoleDelete, perm::kPermissionRead};
  return keys;
}

namespace {
std::set<std::string> unscoped_grants(const Role& role) {
  std::set<std::string> out;
  for (const auto& p : role.policies) {
    if (!p.self) out.insert(p.permission_key);
  }
  return out;
}
}  // namespace

std::vector<std::string> missing_management(const Role& role) {
  const auto granted = unscoped_grants(role);
  std::vector<std::string> missing;
  for (const auto& k : management_permissions()) {
    if (!granted.count(k)) missing.push_back(k);
  }
  return missing;
}

bool someone_can_manage(const std::vector<User>& users, const std::vector<Role>& roles) {
  std::unordered_map<std::string, std::set<std::string>> by_name;
  for (const auto& r : roles) by_name[r.name] = unscoped_grants(r);
  for (const auto& u : users) {
    if (u.status == UserStatus::kInactive) continue;
    std::set<std::string> held;
    for (const auto& name : u.roles) {
      if (auto it = by_name.find(name); it != by_name.end()) held.insert(it->second.begin(), it->second.end());
    }
    const auto& need = management_permissions();
    if (std::all_of(need.begin(), need.end(), [&](const std::string& k) { return held.count(k) > 0; })) {
      return true;
    }
  }
  return false;
}

}  // namespace gthulhu::coordinator
