// A password stored with other Argon2id parameters keeps verifying and is re-hashed
// with the configured ones on the next successful login (and only then).
#include <gtest/gtest.h>

#include "tests/unit/coordinator_harness.h"

namespace gthulhu::test {
namespace {

std::string stored_hash(coordinator::App& app) {
  auto user = app.store().get_user_by_username(kAdminUser);
  if (!user.ok()) throw std::runtime_error("admin user not found");
  return user.value().password_hash;
}

TEST(PasswordRehash, OtherParametersVerifyAndAreUpgradedOnLogin) {
  TempDir shared;
  const std::string db = (shared.path() / "coordinator.db").string();
  std::string old_hash;
  {
    CoordinatorHarness h({{"GTHULHU_SQLITE_PATH", db}});
    old_hash = stored_hash(h.app());
    ASSERT_EQ(old_hash.rfind("$argon2id$v=19$m=64,t=1,p=1$", 0), 0u) << old_hash;
  }
  CoordinatorHarness h({{"GTHULHU_SQLITE_PATH", db},
                        {"GTHULHU_AUTH_ARGON2_MEMORY_KIB", "128"},
                        {"GTHULHU_AUTH_ARGON2_ITERATIONS", "2"}});
  EXPECT_EQ(stored_hash(h.app()), old_hash) << "nothing re-hashes before a login";
  auto bad = h.call("POST", "/api/v1/auth/login", json{{"username", kAdminUser}, {"password", "wrong password!!"}});
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(stored_hash(h.app()), old_hash) << "a failed login must not re-hash";

  EXPECT_FALSE(h.admin_token().empty());  // the old hash still verifies
  const std::string upgraded = stored_hash(h.app());
  EXPECT_EQ(upgraded.rfind("$argon2id$v=19$m=128,t=2,p=1$", 0), 0u) << upgraded;
  EXPECT_FALSE(h.admin_token().empty());  // and the new one does
  EXPECT_EQ(stored_hash(h.app()), upgraded) << "an up-to-date hash is not re-hashed";
}

}  // namespace
}  // namespace gthulhu::test
