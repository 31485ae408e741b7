#include "coordinator/api/json_shapes.h"
#include "coordinator/api/route_support.h"
#include "coordinator/api/routes.h"
#include "coordinator/domain/validation.h"
#include "coordinator/rbac/management_guard.h"
#include "coordinator/rbac/permissions.h"

namespace gthulhu::coordinator {

namespace {

void validate_policies(const std::vector<RolePolicy>& policies) {
  std::string unknown;
  for (const auto& p : policies) {
    if (p.permission_key.empty()) fail(422, "rolePolicies: permissionKey is required");
    if (!is_known_permission(p.permission_key) && p.permission_key != perm::kUserPasswordChange) {
      unknown += (unknown.empty() ? "" : ", ") + p.permission_key;
    }
    if (!p.k8s_namespace.empty()) {
      if (auto m = check_namespace(p.k8s_namespace); !m.empty()) fail(422, "rolePolicies: k8sNamespace " + m);
    }
  }
  if (!unknown.empty()) fail(422, "unknown permission key: " + unknown);
}

std::string role_id_of(const http::Request& req) {
  std::string id;
  if (auto q = req.query_param("id")) {
    id = *q;
  } else {
    json body = object_body(req);
    id = opt_string(body, {"id", "ID", "roleId", "roleID"}).value_or("");
  }
  if (id.empty()) fail(400, "id is required");
  if (!is_valid_id(id)) fail(404, "role not found");
  return id;
}

// 409 unless, with `changed` in place of its stored version, the built-in admin role
// still grants every management permission and some user who can sign in holds them.
void keep_rbac_repairable(ApiContext& ctx, const Role& before, const Role& changed) {
  if (before.name == kAdminRoleName) {
    if (changed.name != before.name) fail(409, "the built-in admin role cannot be renamed");
    const auto missing = missing_management(changed);
    if (!missing.empty()) {
      std::string list;
      for (const auto& k : missing) list += (list.empty() ? "" : ", ") + k;
      fail(409, "the admin role must keep the permissions that manage users and roles "
                "(missing: " + list + ")");
    }
  }
  auto roles = unwrap(ctx.store.list_roles());
  for (auto& r : roles) {
    if (r.id == changed.id) r = changed;
  }
  if (!someone_can_manage(unwrap(ctx.store.list_users()), roles)) {
    fail(409, "this change would leave no user who can sign in holding the permissions "
              "that manage users and roles");
  }
}

}  // namespace

void add_role_routes(http::Router& r, ApiContext& ctx) {
  r.post("/api/v1/roles", authed(ctx, perm::kRoleCreate, [&ctx](http::Request& req,
                                                                  const Principal& p) {
           json body = object_body(req);
           Role role;
           role.id = new_id();
           role.name = opt_string(body, {"name", "Name"}).value_or("");
           role.description = opt_string(body, {"description", "Description"}).value_or("");
           role.policies = parse_policies(body).value_or(std::vector<RolePolicy>{});
           if (auto m = check_role_name(role.name); !m.empty()) fail(422, "name: " + m);
           if (utf8_length(role.description) > 1024) fail(422, "description: at most 1024 characters");
           validate_policies(role.policies);
           role.creator_id = p.user->id;
           role.created_at = role.updated_at = ctx.clock();
           Role created = unwrap(ctx.store.create_role(role), "role not found", "role name already exists");
           ctx.authorizer.invalidate_roles();
           return ok(role_json(created), 201);
         }));

  r.get("/api/v1/roles", authed(ctx, perm::kRoleRead, [&ctx](http::Request&, const Principal&) {
          json roles = json::array();
          for (const auto& role : unwrap(ctx.store.list_roles())) roles.push_back(role_json(role));
          json data(json::value_t::object);
          data["roles"] = std::move(roles);
          return ok(std::move(data));
        }));

  r.put("/api/v1/roles", authed(ctx, perm::kRoleUpdate, [&ctx](http::Request& req,
                                                                 const Principal&) {
          json body = object_body(req);
          const auto id = opt_string(body, {"id", "ID", "roleId", "roleID"}).value_or("");
          if (id.empty()) fail(400, "id is required");
          if (!is_valid_id(id)) fail(404, "role not found");
          auto name = opt_string(body, {"name", "Name"});
          auto description = opt_string(body, {"description", "Description"});
          auto policies = parse_policies(body);
          if (name) {
            if (auto m = check_role_name(*name); !m.empty()) fail(422, "name: " + m);
          }
          if (description && utf8_length(*description) > 1024)
            fail(422, "description: at most 1024 characters");
          if (policies) validate_policies(*policies);
          for (int attempt = 0;; ++attempt) {
            Role role = unwrap(ctx.store.get_role(id), "role not found");
            const Role before = role;
            if (name && *name != role.name) {
              // Users hold roles by name: renaming a role in use would silently strip it.
              auto users = unwrap(ctx.store.count_users_with_role(role.name));
              if (users > 0) {
                fail(409, "role is assigned to " + std::to_string(users) +
                              " user(s); it cannot be renamed while in use");
              }
              role.name = *name;
            }
            if (description) role.description = *description;
            if (policies) role.policies = *policies;
            keep_rbac_repairable(ctx, before, role);
            role.updated_at = ctx.clock();
            auto saved = ctx.store.update_role(role);
            if (saved.ok()) {
              ctx.authorizer.invalidate_roles();
              return ok(role_json(*saved));
            }
            if (saved.code() != StoreErrc::kVersionMismatch || attempt == 4) {
              fail_store(saved.error(), "role not found", "role name already exists");
            }
          }
        }));

  r.del("/api/v1/roles", authed(ctx, perm::kRoleDelete, [&ctx](http::Request& req,
                                                                 const Principal&) {
          const std::string id = role_id_of(req);
          Role role = unwrap(ctx.store.get_role(id), "role not found");
          if (role.name == kAdminRoleName) fail(409, "the built-in admin role cannot be deleted");
          auto users = unwrap(ctx.store.count_users_with_role(role.name));
          if (users > 0) {
            fail(409, "role is assigned to " + std::to_string(users) +
                          " user(s); remove it from them first");
          }
          check(ctx.store.delete_role(id), "role not found");
          ctx.authorizer.invalidate_roles();
          return ok();
        }));

  r.get("/api/v1/permissions",
        authed(ctx, perm::kPermissionRead, [&ctx](http::Request&, const Principal&) {
          json list = json::array();
          for (const auto& p : unwrap(ctx.store.list_permissions())) list.push_back(permission_json(p));
          return ok({{"permissions", list}});
        }));
}

}  // namespace gthulhu::coordinator
