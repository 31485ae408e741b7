#include <algorithm>
#include <set>

#include "coordinator/api/json_shapes.h"
#include "coordinator/api/route_support.h"
#include "coordinator/api/routes.h"
#include "coordinator/domain/validation.h"
#include "coordinator/rbac/management_guard.h"
#include "coordinator/rbac/permissions.h"

namespace gthulhu::coordinator {

namespace {

std::string target_user_id(const json& body) {
  auto id = opt_string(body, {"userID", "userId", "UserID", "id"});
  if (!id || id->empty()) fail(422, "userID is required");
  if (!is_valid_id(*id)) fail(422, "invalid user ID");
  return *id;
}

void require_roles_exist(Store& store, const std::vector<std::string>& names) {
  if (names.empty()) return;
  auto roles = unwrap(store.get_roles_by_names(names));
  std::set<std::string> found;
  for (const auto& r : roles) found.insert(r.name);
  std::string missing;
  for (const auto& n : names) {
    if (!found.count(n)) missing += (missing.empty() ? "" : ", ") + n;
  }
  // A well-formed name of no role is a reference to nothing: 404, as for an unknown
  // userID (a name that cannot be a role's is refused as 422 before this).
  if (!missing.empty()) fail(404, "some roles not found: " + missing);
}

bool is_active_admin(const User& u) {
  return u.status == UserStatus::kActive &&
         std::find(u.roles.begin(), u.roles.end(), kAdminRoleName) != u.roles.end();
}

// Read-modify-write with optimistic concurrency: retried when another request changed
// the user in between.
template <typename Mutate>
User update_user(ApiContext& ctx, const std::string& id, Mutate&& mutate) {
  for (int attempt = 0;; ++attempt) {
    User u = unwrap(ctx.store.get_user(id), "user not found");
    const User before = u;
    mutate(u, before);
    u.updated_at = ctx.clock();
    auto r = ctx.store.update_user(u);
    if (r.ok()) return std::move(r).value();
    if (r.code() != StoreErrc::kVersionMismatch || attempt == 4) {
      fail_store(r.error(), "user not found", "username already exists");
    }
  }
}

std::vector<std::string> dedupe(const std::vector<std::string>& v) {
  std::vector<std::string> out;
  for (const auto& s : v) {
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  return out;
}

}  // namespace

void add_user_routes(http::Router& r, ApiContext& ctx) {
  r.post("/api/v1/users", authed(ctx, perm::kUserCreate, [&ctx](http::Request& req,
                                                                  const Principal& p) {
           json body = object_body(req);
           const auto username = opt_string(body, {"username"}).value_or("");
           const auto password = opt_string(body, {"password"}).value_or("");
           const auto roles = dedupe(opt_strings(body, {"roles"}).value_or(std::vector<std::string>{}));
           std::vector<FieldError> errors;
           if (auto m = check_username(username); !m.empty()) errors.push_back({"username", m});
           if (password.empty()) {
             errors.push_back({"password", "must not be empty"});
           } else if (auto m = ctx.auth.policy().check(password, username); !m.empty()) {
             errors.push_back({"password", m});
           }
           for (const auto& role : roles) {
             if (auto m = check_role_name(role); !m.empty()) errors.push_back({"roles", m});
           }
           if (!errors.empty()) fail(422, join(errors));
           require_roles_exist(ctx.store, roles);
           User u;
           u.id = new_id();
           u.username = username;
           u.password_hash = ctx.auth.hasher().hash(password);
           u.roles = roles;
           u.status = UserStatus::kWaitChangePassword;  // must change it at first login
           u.creator_id = p.user->id;
           u.created_at = u.updated_at = ctx.clock();
           User created = unwrap(ctx.store.create_user(u), "user not found", "username already exists");
           return ok(user_json(created), 201);
         }));

  r.get("/api/v1/users", authed(ctx, perm::kUserRead, [&ctx](http::Request&, const Principal& p) {
          json users = json::array();
          if (p.self_only) {
            users.push_back(user_json(*p.user));
          } else {
            for (const auto& u : unwrap(ctx.store.list_users())) users.push_back(user_json(u));
          }
          json data(json::value_t::object);
          data["users"] = std::move(users);
          return ok(std::move(data));
        }));

  r.put("/api/v1/users/password",
        authed(ctx, perm::kUserPasswordReset, [&ctx](http::Request& req, const Principal& p) {
          json body = object_body(req);
          const std::string id = target_user_id(body);
          const auto password = opt_string(body, {"newPassword", "password"}).value_or("");
          if (p.self_only && id != p.user->id) fail(403, "forbidden");
          if (password.empty()) fail(422, "newPassword is required");
          User target = unwrap(ctx.store.get_user(id), "user not found");
          if (auto m = ctx.auth.policy().check(password, target.username); !m.empty()) {
            fail(422, "newPassword: " + m);
          }
          const std::string hash = ctx.auth.hasher().hash(password);
          update_user(ctx, id, [&](User& u, const User&) {
            u.password_hash = hash;
            u.status = UserStatus::kWaitChangePassword;
            u.token_version += 1;  // the old password's sessions end now
          });
          check(ctx.store.delete_refresh_sessions_of_user(id));
          return ok();
        }));

  r.put("/api/v1/users/permissions",
        authed(ctx, perm::kUserPermissionUpdate, [&ctx](http::Request& req, const Principal& p) {
          json body = object_body(req);
          const std::string id = target_user_id(body);
          auto roles = opt_strings(body, {"roles", "Roles"});
          auto status = opt_int(body, {"status", "Status"});
          if (p.self_only && id != p.user->id) fail(403, "forbidden");
          if (status && (*status < 1 || *status > 3)) {
            fail(422, "status must be 1 (active), 2 (inactive) or 3 (must change password)");
          }
          if (roles) {
            *roles = dedupe(*roles);
            for (const auto& role : *roles) {
              if (auto m = check_role_name(role); !m.empty()) fail(422, "roles: " + m);
            }
            require_roles_exist(ctx.store, *roles);
          }
          User saved = update_user(ctx, id, [&](User& u, const User& before) {
            if (roles) {
              if (p.self_only) {
                // A self-scoped grant may drop roles from oneself, never add any.
                for (const auto& role : *roles) {
                  if (std::find(before.roles.begin(), before.roles.end(), role) == before.roles.end()) {
                    fail(403, "forbidden: a self-scoped permission cannot add roles");
                  }
                }
              }
              u.roles = *roles;
            }
            if (status) u.status = static_cast<UserStatus>(*status);
            if (is_active_admin(before) && !is_active_admin(u)) {
              int others = 0;
              for (const auto& other : unwrap(ctx.store.list_users())) {
                if (other.id != before.id && is_active_admin(other)) ++others;
              }
              if (others == 0) fail(409, "cannot remove the last active administrator");
            }
            // Whatever the roles are called: someone must still manage users and roles.
            auto users = unwrap(ctx.store.list_users());
            for (auto& other : users) {
              if (other.id == u.id) other = u;
            }
            if (!someone_can_manage(users, unwrap(ctx.store.list_roles()))) {
              fail(409, "this change would leave no user who can sign in holding the "
                        "permissions that manage users and roles");
            }
          });
          if (saved.status == UserStatus::kInactive) {
            check(ctx.store.delete_refresh_sessions_of_user(id));
          }
          return ok(user_json(saved));
        }));

  r.put("/api/v1/users/self/password",
        authed(ctx, perm::kUserPasswordChange, [&ctx](http::Request& req, const Principal& p) {
          json body = object_body(req);
          const auto old_password = opt_string(body, {"oldPassword"}).value_or("");
          const auto new_password = opt_string(body, {"newPassword"}).value_or("");
          if (old_password.empty() || new_password.empty()) {
            fail(422, "oldPassword and newPassword are required");
          }
          return ok(token_json(
              ctx.auth.change_own_password(*p.user, old_password, new_password, client_ip(req))));
        }));

  r.get("/api/v1/users/self", authed(ctx, "", [](http::Request&, const Principal& p) {
          return ok(user_json(*p.user));
        }));
}

}  // namespace gthulhu::coordinator
