#pragma once
// First-start setup, run after the store's migrations and on every start after:
//   1. the permission catalogue is upserted (new keys of a newer version appear);
//   2. the "admin" role is created with every permission if it does not exist;
//   3. the configured admin user is created (role admin, status active) if no user of
//      that name exists.
// Existing roles and users are never modified: an operator's edits survive restarts.
#include <string>

#include "coordinator/auth/password_hasher.h"
#include "coordinator/auth/password_policy.h"
#include "coordinator/store/store.h"

namespace gthulhu::coordinator {

struct AdminAccount {
  std::string username;
  std::string password;  // needed only when the user does not exist yet
};

// Returns Ok, or the store error (kUnavailable: retry later). Throws
// std::runtime_error for a configuration problem (no admin password on a first start,
// a password that fails the policy).
Status bootstrap(Store& store, const PasswordHasher& hasher, const PasswordPolicy& policy,
                 const AdminAccount& admin, UnixMillis now);

}  // namespace gthulhu::coordinator
