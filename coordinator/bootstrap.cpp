#include "coordinator/bootstrap.h"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "coordinator/domain/validation.h"
#include "coordinator/rbac/permissions.h"

namespace gthulhu::coordinator {

Status bootstrap(Store& store, const PasswordHasher& hasher, const PasswordPolicy& policy,
                 const AdminAccount& admin, UnixMillis now) {
  if (auto st = store.upsert_permissions(permission_catalogue()); !st.ok()) return st;

  auto role = store.get_role_by_name(kAdminRoleName);
  if (!role.ok()) {
    if (role.code() != StoreErrc::kNotFound) return role.error();
    Role r = admin_role_template();
    r.id = new_id();
    r.created_at = r.updated_at = now;
    auto created = store.create_role(r);
    if (created.ok()) {
      spdlog::info("created the \"{}\" role with {} permissions", kAdminRoleName, r.policies.size());
    } else if (created.code() != StoreErrc::kConflict) {  // another instance was faster
      return created.error();
    }
  }

  if (admin.username.empty()) return Status::Ok();  // no admin account configured
  auto user = store.get_user_by_username(admin.username);
  if (user.ok()) return Status::Ok();  // never overwritten
  if (user.code() != StoreErrc::kNotFound) return user.error();
  if (auto m = check_username(admin.username); !m.empty()) {
    throw std::runtime_error("admin.username: " + m);
  }
  if (admin.password.empty()) {
    throw std::runtime_error(
        "no user \"" + admin.username +
        "\" exists yet and admin.password is not set: set it (GTHULHU_ADMIN_PASSWORD) for "
        "the first start");
  }
  if (auto m = policy.check(admin.password, admin.username); !m.empty()) {
    throw std::runtime_error("admin.password: " + m);
  }
  User u;
  u.id = new_id();
  u.username = admin.username;
  u.password_hash = hasher.hash(admin.password);
  u.roles = {kAdminRoleName};
  u.status = UserStatus::kActive;
  u.created_at = u.updated_at = now;
  auto created = store.create_user(u);
  if (created.ok()) {
    spdlog::info("created the admin user \"{}\"", admin.username);
  } else if (created.code() != StoreErrc::kConflict) {
    return created.error();
  }
  return Status::Ok();
}

}  // namespace gthulhu::coordinator
