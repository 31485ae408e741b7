#include "tests/support/store_contract.h"

#include <atomic>
#include <ostream>
#include <cstdio>
#include <set>
#include <thread>
#include <vector>

namespace gthulhu::test {

using namespace gthulhu::coordinator;

StoreContractParam store_contract_param(std::string name, StoreFactory factory,
                                        std::string skip_reason) {
  return StoreContractParam{std::move(name), std::move(factory), std::move(skip_reason)};
}

void PrintTo(const StoreContractParam& param, std::ostream* os) { *os << param.name; }

void StoreContractTest::SetUp() {
  store_ = GetParam().factory();
  if (!store_) GTEST_SKIP() << GetParam().skip_reason;
  auto migrated = store_->migrate();
  ASSERT_TRUE(migrated.ok()) << migrated.error().message;
}

void StoreContractTest::TearDown() { store_.reset(); }

namespace {

// Ids shaped like the real ones (24 hex); the same n gives the same id (every test
// starts from an empty store).
std::string id_of(int n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "65%06x%016x", static_cast<unsigned>(n), 0xc0ffeeu);
  return buf;
}

std::string code_name(StoreErrc c) {
  switch (c) {
    case StoreErrc::kNotFound: return "NotFound";
    case StoreErrc::kConflict: return "Conflict";
    case StoreErrc::kVersionMismatch: return "VersionMismatch";
    case StoreErrc::kUnavailable: return "Unavailable";
    case StoreErrc::kInvalid: return "Invalid";
    case StoreErrc::kInternal: return "Internal";
  }
  return "?";
}

template <typename R>
std::string describe(const R& r) {
  return r.ok() ? std::string("ok") : code_name(r.code()) + ": " + r.error().message;
}

#define EXPECT_OK(expr)                                  \
  do {                                                   \
    const auto& r_ = (expr);                             \
    EXPECT_TRUE(r_.ok()) << #expr << " -> " << describe(r_); \
  } while (0)
#define ASSERT_OK(expr)                                  \
  do {                                                   \
    const auto& r_ = (expr);                             \
    ASSERT_TRUE(r_.ok()) << #expr << " -> " << describe(r_); \
  } while (0)
#define EXPECT_CODE(expr, want)                                                 \
  do {                                                                          \
    const auto& r_ = (expr);                                                    \
    EXPECT_FALSE(r_.ok()) << #expr << " unexpectedly succeeded";                \
    if (!r_.ok()) {                                                             \
      EXPECT_EQ(code_name(r_.code()), code_name(want)) << #expr << ": " << r_.error().message; \
    }                                                                           \
  } while (0)

User make_user(const std::string& name, int n = 1) {
  User u;
  u.id = id_of(n);
  u.username = name;
  u.password_hash = "$argon2id$v=19$m=16,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";
  u.roles = {"admin", "viewer"};
  u.status = UserStatus::kWaitChangePassword;
  u.token_version = 7;
  u.creator_id = id_of(999);
  u.created_at = 1700000000000 + n;
  u.updated_at = 1700000000500 + n;
  u.version = 42;  // ignored by create
  return u;
}

Role make_role(const std::string& name, int n = 1) {
  Role r;
  r.id = id_of(100 + n);
  r.name = name;
  r.description = "role " + name;
  r.policies = {{"schedule_strategy.create", false, "", ""},
                {"user.password.reset", true, "web", "team-a"}};
  r.creator_id = id_of(998);
  r.created_at = 1700000001000 + n;
  r.updated_at = 1700000001000 + n;
  return r;
}

Strategy make_strategy(const std::string& creator, int n = 1) {
  Strategy s;
  s.id = id_of(200 + n);
  s.strategy_namespace = "default";
  s.label_selectors = {{"app.kubernetes.io/name", "nginx"}, {"tier", ""}};
  s.k8s_namespaces = {"web", "default"};
  s.command_regex = "^nginx( |$)";
  s.priority = -5;
  s.execution_time = 20000000;
  s.creator_id = creator;
  s.updater_id = creator;
  s.created_at = 1700000002000 + n;
  s.updated_at = 1700000002000 + n;
  return s;
}

Intent make_intent(const Strategy& s, const std::string& pod, const std::string& node, int n) {
  Intent i;
  i.id = id_of(300 + n);
  i.strategy_id = s.id;
  i.pod_id = pod;
  i.pod_name = "pod-" + pod;
  i.node_id = node;
  i.k8s_namespace = "web";
  i.command_regex = s.command_regex;
  i.priority = s.priority;
  i.execution_time = s.execution_time;
  i.pod_labels = {{"app.kubernetes.io/name", "nginx"}, {"tier", "front"}};
  i.state = IntentState::kInitialized;
  i.creator_id = s.creator_id;
  i.updater_id = s.creator_id;
  i.created_at = 1700000003000 + n;
  i.updated_at = 1700000003000 + n;
  return i;
}

void expect_same_user(const User& a, const User& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.username, b.username);
  EXPECT_EQ(a.password_hash, b.password_hash);
  EXPECT_EQ(a.roles, b.roles);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.token_version, b.token_version);
  EXPECT_EQ(a.creator_id, b.creator_id);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
}

void expect_same_strategy(const Strategy& a, const Strategy& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.strategy_namespace, b.strategy_namespace);
  EXPECT_EQ(a.label_selectors, b.label_selectors);
  EXPECT_EQ(a.k8s_namespaces, b.k8s_namespaces);
  EXPECT_EQ(a.command_regex, b.command_regex);
  EXPECT_EQ(a.priority, b.priority);
  EXPECT_EQ(a.execution_time, b.execution_time);
  EXPECT_EQ(a.creator_id, b.creator_id);
  EXPECT_EQ(a.updater_id, b.updater_id);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
}

void expect_same_intent(const Intent& a, const Intent& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.strategy_id, b.strategy_id);
  EXPECT_EQ(a.pod_id, b.pod_id);
  EXPECT_EQ(a.pod_name, b.pod_name);
  EXPECT_EQ(a.node_id, b.node_id);
  EXPECT_EQ(a.k8s_namespace, b.k8s_namespace);
  EXPECT_EQ(a.command_regex, b.command_regex);
  EXPECT_EQ(a.priority, b.priority);
  EXPECT_EQ(a.execution_time, b.execution_time);
  EXPECT_EQ(a.pod_labels, b.pod_labels);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.state_reason, b.state_reason);
  EXPECT_EQ(a.creator_id, b.creator_id);
  EXPECT_EQ(a.updater_id, b.updater_id);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
}

std::set<std::string> ids_of(const std::vector<Intent>& v) {
  std::set<std::string> out;
  for (const auto& i : v) out.insert(i.id);
  return out;
}

}  // namespace

// ---------------------------------------------------------------- lifecycle

TEST_P(StoreContractTest, MigrateIsIdempotentAndPingWorks) {
  EXPECT_OK(store().migrate());
  EXPECT_OK(store().ping());
  EXPECT_FALSE(store().backend().empty());
  auto users = store().list_users();
  ASSERT_OK(users);
  EXPECT_TRUE(users->empty());
}

// ---------------------------------------------------------------- users

TEST_P(StoreContractTest, UserRoundTripsAndStartsAtVersionOne) {
  const User u = make_user("alice@example.com");
  auto created = store().create_user(u);
  ASSERT_OK(created);
  expect_same_user(*created, u);
  EXPECT_EQ(created->version, 1);

  auto by_id = store().get_user(u.id);
  ASSERT_OK(by_id);
  expect_same_user(*by_id, u);
  EXPECT_EQ(by_id->version, 1);

  auto by_name = store().get_user_by_username("alice@example.com");
  ASSERT_OK(by_name);
  expect_same_user(*by_name, u);

  User bare = make_user("bare", 2);
  bare.roles.clear();
  bare.creator_id.clear();
  bare.status = UserStatus::kActive;
  bare.token_version = 0;
  ASSERT_OK(store().create_user(bare));
  auto got = store().get_user(bare.id);
  ASSERT_OK(got);
  expect_same_user(*got, bare);
}

TEST_P(StoreContractTest, UserMissingIsNotFound) {
  EXPECT_CODE(store().get_user(id_of(1)), StoreErrc::kNotFound);
  EXPECT_CODE(store().get_user_by_username("nobody"), StoreErrc::kNotFound);
  EXPECT_CODE(store().bump_token_version(id_of(1), 1), StoreErrc::kNotFound);
  User u = make_user("ghost");
  u.version = 1;
  EXPECT_CODE(store().update_user(u), StoreErrc::kNotFound);
}

TEST_P(StoreContractTest, DuplicateUsernameIsConflict) {
  ASSERT_OK(store().create_user(make_user("bob", 1)));
  EXPECT_CODE(store().create_user(make_user("bob", 2)), StoreErrc::kConflict);
  // Same id, other name: also a conflict.
  User same_id = make_user("carol", 1);
  EXPECT_CODE(store().create_user(same_id), StoreErrc::kConflict);
  auto users = store().list_users();
  ASSERT_OK(users);
  EXPECT_EQ(users->size(), 1u);
}

TEST_P(StoreContractTest, UsernamesAreCaseSensitiveAndExact) {
  ASSERT_OK(store().create_user(make_user("Dave", 1)));
  ASSERT_OK(store().create_user(make_user("dave", 2)));
  auto u = store().get_user_by_username("dave");
  ASSERT_OK(u);
  EXPECT_EQ(u->id, id_of(2));
}

TEST_P(StoreContractTest, UpdateUserChecksVersion) {
  auto created = store().create_user(make_user("erin"));
  ASSERT_OK(created);
  User edit = *created;
  edit.password_hash = "$argon2id$v=19$m=16,t=1,p=1$bmV3c2FsdA$bmV3aGFzaA";
  edit.roles = {"viewer"};
  edit.status = UserStatus::kActive;
  edit.token_version = 8;
  edit.updated_at += 1000;
  auto updated = store().update_user(edit);
  ASSERT_OK(updated);
  EXPECT_EQ(updated->version, 2);
  auto got = store().get_user(edit.id);
  ASSERT_OK(got);
  expect_same_user(*got, edit);
  EXPECT_EQ(got->version, 2);

  // A second writer that read version 1 loses.
  User stale = *created;
  stale.roles = {"admin"};
  EXPECT_CODE(store().update_user(stale), StoreErrc::kVersionMismatch);
  got = store().get_user(edit.id);
  ASSERT_OK(got);
  EXPECT_EQ(got->roles, std::vector<std::string>{"viewer"});
}

TEST_P(StoreContractTest, RenamingUserToTakenNameIsConflict) {
  ASSERT_OK(store().create_user(make_user("frank", 1)));
  auto g = store().create_user(make_user("grace", 2));
  ASSERT_OK(g);
  User edit = *g;
  edit.username = "frank";
  EXPECT_CODE(store().update_user(edit), StoreErrc::kConflict);
  edit.username = "grace2";
  EXPECT_OK(store().update_user(edit));
  EXPECT_OK(store().get_user_by_username("grace2"));
  EXPECT_CODE(store().get_user_by_username("grace"), StoreErrc::kNotFound);
}

TEST_P(StoreContractTest, ConcurrentUpdatesOfOneVersionHaveOneWinner) {
  auto created = store().create_user(make_user("heidi"));
  ASSERT_OK(created);
  constexpr int kWriters = 8;
  std::atomic<int> wins{0}, mismatches{0}, others{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      User edit = *created;
      edit.roles = {"r" + std::to_string(t)};
      auto r = store().update_user(edit);
      if (r.ok()) ++wins;
      else if (r.code() == StoreErrc::kVersionMismatch) ++mismatches;
      else ++others;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(mismatches.load(), kWriters - 1);
  EXPECT_EQ(others.load(), 0);
}

TEST_P(StoreContractTest, ListUsersIsOrderedByCreation) {
  ASSERT_OK(store().create_user(make_user("u3", 3)));
  ASSERT_OK(store().create_user(make_user("u1", 1)));
  ASSERT_OK(store().create_user(make_user("u2", 2)));
  auto users = store().list_users();
  ASSERT_OK(users);
  ASSERT_EQ(users->size(), 3u);
  EXPECT_EQ((*users)[0].username, "u1");
  EXPECT_EQ((*users)[1].username, "u2");
  EXPECT_EQ((*users)[2].username, "u3");
}

TEST_P(StoreContractTest, BumpTokenVersionIncrementsAtomically) {
  auto created = store().create_user(make_user("ivan"));
  ASSERT_OK(created);
  auto bumped = store().bump_token_version(created->id, 1800000000000);
  ASSERT_OK(bumped);
  EXPECT_EQ(bumped->token_version, 8);
  EXPECT_EQ(bumped->version, 2);
  EXPECT_EQ(bumped->updated_at, 1800000000000);

  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] { (void)store().bump_token_version(created->id, 1800000000001); });
  }
  for (auto& t : threads) t.join();
  auto got = store().get_user(created->id);
  ASSERT_OK(got);
  EXPECT_EQ(got->token_version, 12);
  EXPECT_EQ(got->version, 6);
  // A reader holding the old version now loses.
  EXPECT_CODE(store().update_user(*created), StoreErrc::kVersionMismatch);
}

TEST_P(StoreContractTest, CountUsersWithRole) {
  User a = make_user("a", 1);
  a.roles = {"admin"};
  User b = make_user("b", 2);
  b.roles = {"viewer", "admin"};
  User c = make_user("c", 3);
  c.roles = {"administrator"};
  ASSERT_OK(store().create_user(a));
  ASSERT_OK(store().create_user(b));
  ASSERT_OK(store().create_user(c));
  auto n = store().count_users_with_role("admin");
  ASSERT_OK(n);
  EXPECT_EQ(*n, 2);
  n = store().count_users_with_role("viewer");
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1);
  n = store().count_users_with_role("nobody");
  ASSERT_OK(n);
  EXPECT_EQ(*n, 0);
}

// ---------------------------------------------------------------- refresh sessions

namespace {
RefreshSession make_session(const std::string& user, const std::string& hash, UnixMillis exp,
                            int n) {
  RefreshSession s;
  s.id = id_of(400 + n);
  s.user_id = user;
  s.token_hash = hash;
  s.created_at = 1000;
  s.expires_at = exp;
  return s;
}
}  // namespace

TEST_P(StoreContractTest, RefreshSessionIsSingleUse) {
  const std::string user = id_of(1);
  ASSERT_OK(store().create_refresh_session(make_session(user, "h1", 5000, 1)));
  auto first = store().consume_refresh_session("h1", 2000);
  ASSERT_OK(first);
  EXPECT_EQ(first->user_id, user);
  EXPECT_EQ(first->id, id_of(401));
  EXPECT_EQ(first->token_hash, "h1");
  EXPECT_EQ(first->expires_at, 5000);
  EXPECT_EQ(first->created_at, 1000);
  EXPECT_FALSE(first->used);
  EXPECT_CODE(store().consume_refresh_session("h1", 2001), StoreErrc::kConflict);
  EXPECT_CODE(store().consume_refresh_session("unknown", 2001), StoreErrc::kNotFound);
}

TEST_P(StoreContractTest, ExpiredRefreshSessionIsNotFound) {
  ASSERT_OK(store().create_refresh_session(make_session(id_of(1), "h2", 5000, 1)));
  EXPECT_CODE(store().consume_refresh_session("h2", 5000), StoreErrc::kNotFound);
  EXPECT_CODE(store().consume_refresh_session("h2", 9000), StoreErrc::kNotFound);
}

TEST_P(StoreContractTest, DuplicateRefreshHashIsConflict) {
  ASSERT_OK(store().create_refresh_session(make_session(id_of(1), "dup", 5000, 1)));
  EXPECT_CODE(store().create_refresh_session(make_session(id_of(2), "dup", 5000, 2)),
              StoreErrc::kConflict);
}

TEST_P(StoreContractTest, DeleteSessionsOfUserAndExpired) {
  const std::string u1 = id_of(1), u2 = id_of(2);
  ASSERT_OK(store().create_refresh_session(make_session(u1, "a", 5000, 1)));
  ASSERT_OK(store().create_refresh_session(make_session(u1, "b", 5000, 2)));
  ASSERT_OK(store().create_refresh_session(make_session(u2, "c", 5000, 3)));
  ASSERT_OK(store().create_refresh_session(make_session(u2, "d", 100, 4)));
  EXPECT_OK(store().delete_refresh_sessions_of_user(u1));
  EXPECT_OK(store().delete_refresh_sessions_of_user(id_of(3)));  // none: still ok
  EXPECT_CODE(store().consume_refresh_session("a", 200), StoreErrc::kNotFound);
  EXPECT_CODE(store().consume_refresh_session("b", 200), StoreErrc::kNotFound);
  auto n = store().delete_expired_refresh_sessions(200);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1);
  EXPECT_OK(store().consume_refresh_session("c", 200));
}

TEST_P(StoreContractTest, ConcurrentRefreshConsumeHasOneWinner) {
  ASSERT_OK(store().create_refresh_session(make_session(id_of(1), "race", 5000, 1)));
  constexpr int kThreads = 8;
  std::atomic<int> wins{0}, conflicts{0}, others{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto r = store().consume_refresh_session("race", 2000);
      if (r.ok()) ++wins;
      else if (r.code() == StoreErrc::kConflict) ++conflicts;
      else ++others;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(conflicts.load(), kThreads - 1);
  EXPECT_EQ(others.load(), 0);
}

// ---------------------------------------------------------------- roles

TEST_P(StoreContractTest, RoleRoundTripsAndNameIsUnique) {
  const Role r = make_role("operator");
  auto created = store().create_role(r);
  ASSERT_OK(created);
  EXPECT_EQ(created->version, 1);
  auto got = store().get_role(r.id);
  ASSERT_OK(got);
  EXPECT_EQ(got->name, r.name);
  EXPECT_EQ(got->description, r.description);
  EXPECT_EQ(got->policies, r.policies);
  EXPECT_EQ(got->creator_id, r.creator_id);
  EXPECT_EQ(got->created_at, r.created_at);
  EXPECT_EQ(got->updated_at, r.updated_at);
  EXPECT_EQ(got->version, 1);
  auto by_name = store().get_role_by_name("operator");
  ASSERT_OK(by_name);
  EXPECT_EQ(by_name->id, r.id);

  EXPECT_CODE(store().create_role(make_role("operator", 2)), StoreErrc::kConflict);
  EXPECT_CODE(store().get_role(id_of(150)), StoreErrc::kNotFound);
  EXPECT_CODE(store().get_role_by_name("nobody"), StoreErrc::kNotFound);

  Role empty = make_role("empty", 3);
  empty.policies.clear();
  empty.description.clear();
  ASSERT_OK(store().create_role(empty));
  got = store().get_role(empty.id);
  ASSERT_OK(got);
  EXPECT_TRUE(got->policies.empty());
  EXPECT_EQ(got->description, "");
}

TEST_P(StoreContractTest, RolesByNamesAndList) {
  ASSERT_OK(store().create_role(make_role("b", 2)));
  ASSERT_OK(store().create_role(make_role("a", 1)));
  ASSERT_OK(store().create_role(make_role("c", 3)));
  auto some = store().get_roles_by_names({"a", "c", "missing"});
  ASSERT_OK(some);
  std::set<std::string> names;
  for (const auto& r : *some) names.insert(r.name);
  EXPECT_EQ(names, (std::set<std::string>{"a", "c"}));
  auto none = store().get_roles_by_names({});
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
  auto all = store().list_roles();
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].name, "a");
  EXPECT_EQ((*all)[2].name, "c");
}

TEST_P(StoreContractTest, UpdateRoleChecksVersionAndName) {
  auto a = store().create_role(make_role("alpha", 1));
  ASSERT_OK(a);
  ASSERT_OK(store().create_role(make_role("beta", 2)));
  Role edit = *a;
  edit.description = "changed";
  edit.policies = {{"role.read", true, "ns", "pns"}};
  edit.updated_at += 5;
  auto updated = store().update_role(edit);
  ASSERT_OK(updated);
  EXPECT_EQ(updated->version, 2);
  auto got = store().get_role(edit.id);
  ASSERT_OK(got);
  EXPECT_EQ(got->description, "changed");
  EXPECT_EQ(got->policies, edit.policies);
  EXPECT_EQ(got->updated_at, edit.updated_at);
  EXPECT_CODE(store().update_role(*a), StoreErrc::kVersionMismatch);
  Role rename = *got;
  rename.name = "beta";
  EXPECT_CODE(store().update_role(rename), StoreErrc::kConflict);
  rename.name = "gamma";
  EXPECT_OK(store().update_role(rename));
  EXPECT_OK(store().get_role_by_name("gamma"));
  Role ghost = make_role("ghost", 9);
  ghost.version = 1;
  EXPECT_CODE(store().update_role(ghost), StoreErrc::kNotFound);
}

TEST_P(StoreContractTest, DeleteRole) {
  auto a = store().create_role(make_role("doomed"));
  ASSERT_OK(a);
  EXPECT_OK(store().delete_role(a->id));
  EXPECT_CODE(store().get_role(a->id), StoreErrc::kNotFound);
  EXPECT_CODE(store().delete_role(a->id), StoreErrc::kNotFound);
  // The name is free again.
  EXPECT_OK(store().create_role(make_role("doomed", 2)));
}

// ---------------------------------------------------------------- permissions

TEST_P(StoreContractTest, PermissionsUpsertAndListByKey) {
  std::vector<Permission> ps = {{"user.read", "user", "read", "Read users"},
                                {"role.create", "role", "create", "Create roles"}};
  ASSERT_OK(store().upsert_permissions(ps));
  ASSERT_OK(store().upsert_permissions(ps));  // idempotent
  ASSERT_OK(store().upsert_permissions({{"user.read", "user", "read", "List every user"}}));
  auto got = store().list_permissions();
  ASSERT_OK(got);
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0], (Permission{"role.create", "role", "create", "Create roles"}));
  EXPECT_EQ((*got)[1], (Permission{"user.read", "user", "read", "List every user"}));
}

// ---------------------------------------------------------------- strategies

TEST_P(StoreContractTest, StrategyRoundTripsAndListIsScopedByCreator) {
  const std::string alice = id_of(1), bob = id_of(2);
  const Strategy s1 = make_strategy(alice, 1);
  Strategy s2 = make_strategy(bob, 2);
  s2.label_selectors.clear();
  s2.k8s_namespaces.clear();
  s2.command_regex.clear();
  s2.priority = 20;
  s2.execution_time = 0;
  const Strategy s3 = make_strategy(alice, 3);
  for (const Strategy* s : std::vector<const Strategy*>{&s1, &s2, &s3}) {
    auto c = store().create_strategy(*s);
    ASSERT_OK(c);
    EXPECT_EQ(c->version, 1);
    expect_same_strategy(*c, *s);
  }
  auto got = store().get_strategy(s2.id);
  ASSERT_OK(got);
  expect_same_strategy(*got, s2);

  auto mine = store().list_strategies({alice});
  ASSERT_OK(mine);
  ASSERT_EQ(mine->size(), 2u);
  expect_same_strategy((*mine)[0], s1);
  expect_same_strategy((*mine)[1], s3);
  auto all = store().list_strategies({});
  ASSERT_OK(all);
  EXPECT_EQ(all->size(), 3u);
  auto none = store().list_strategies({id_of(3)});
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
  EXPECT_CODE(store().create_strategy(s1), StoreErrc::kConflict);
  EXPECT_CODE(store().get_strategy(id_of(299)), StoreErrc::kNotFound);
}

TEST_P(StoreContractTest, UpdateStrategyChecksVersionAndKeepsOwner) {
  auto c = store().create_strategy(make_strategy(id_of(1)));
  ASSERT_OK(c);
  Strategy edit = *c;
  edit.priority = 10;
  edit.label_selectors = {{"app", "db"}};
  edit.k8s_namespaces = {"data"};
  edit.command_regex = "^postgres";
  edit.execution_time = 500000;
  edit.strategy_namespace = "ops";
  edit.updater_id = id_of(2);
  edit.updated_at += 10;
  edit.creator_id = id_of(7);  // ignored
  edit.created_at = 1;         // ignored
  auto u = store().update_strategy(edit);
  ASSERT_OK(u);
  EXPECT_EQ(u->version, 2);
  auto got = store().get_strategy(edit.id);
  ASSERT_OK(got);
  EXPECT_EQ(got->priority, 10);
  EXPECT_EQ(got->label_selectors, edit.label_selectors);
  EXPECT_EQ(got->k8s_namespaces, edit.k8s_namespaces);
  EXPECT_EQ(got->command_regex, "^postgres");
  EXPECT_EQ(got->execution_time, 500000);
  EXPECT_EQ(got->strategy_namespace, "ops");
  EXPECT_EQ(got->updater_id, id_of(2));
  EXPECT_EQ(got->updated_at, edit.updated_at);
  EXPECT_EQ(got->creator_id, c->creator_id);
  EXPECT_EQ(got->created_at, c->created_at);
  EXPECT_CODE(store().update_strategy(*c), StoreErrc::kVersionMismatch);
  Strategy ghost = make_strategy(id_of(1), 50);
  ghost.version = 1;
  EXPECT_CODE(store().update_strategy(ghost), StoreErrc::kNotFound);
}

// ---------------------------------------------------------------- intents

TEST_P(StoreContractTest, IntentsReplaceListAndFilter) {
  const std::string alice = id_of(1), bob = id_of(2);
  auto sa = store().create_strategy(make_strategy(alice, 1));
  auto sb = store().create_strategy(make_strategy(bob, 2));
  ASSERT_OK(sa);
  ASSERT_OK(sb);
  const Intent i1 = make_intent(*sa, "pod-1", "node-a", 1);
  Intent i2 = make_intent(*sa, "pod-2", "node-b", 2);
  i2.pod_labels.clear();
  i2.command_regex.clear();
  i2.state = IntentState::kFailed;
  i2.state_reason = "bad";
  const Intent i3 = make_intent(*sb, "pod-3", "node-a", 3);
  ASSERT_OK(store().replace_strategy_intents(sa->id, {i1, i2}));
  ASSERT_OK(store().replace_strategy_intents(sb->id, {i3}));

  auto all = store().list_intents({});
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 3u);
  expect_same_intent((*all)[0], i1);
  expect_same_intent((*all)[1], i2);
  expect_same_intent((*all)[2], i3);
  EXPECT_EQ((*all)[0].version, 1);

  IntentFilter by_creator;
  by_creator.creator_id = alice;
  auto mine = store().list_intents(by_creator);
  ASSERT_OK(mine);
  EXPECT_EQ(ids_of(*mine), (std::set<std::string>{i1.id, i2.id}));

  IntentFilter by_node;
  by_node.node_id = "node-a";
  auto node_a = store().list_intents(by_node);
  ASSERT_OK(node_a);
  EXPECT_EQ(ids_of(*node_a), (std::set<std::string>{i1.id, i3.id}));

  IntentFilter by_strategy;
  by_strategy.strategy_id = sb->id;
  auto of_b = store().list_intents(by_strategy);
  ASSERT_OK(of_b);
  EXPECT_EQ(ids_of(*of_b), (std::set<std::string>{i3.id}));

  IntentFilter combined;
  combined.creator_id = alice;
  combined.node_id = "node-a";
  auto both = store().list_intents(combined);
  ASSERT_OK(both);
  EXPECT_EQ(ids_of(*both), (std::set<std::string>{i1.id}));

  // Replacing swaps the whole set of that strategy only.
  const Intent i4 = make_intent(*sa, "pod-4", "node-c", 4);
  ASSERT_OK(store().replace_strategy_intents(sa->id, {i4}));
  all = store().list_intents({});
  ASSERT_OK(all);
  EXPECT_EQ(ids_of(*all), (std::set<std::string>{i3.id, i4.id}));
  ASSERT_OK(store().replace_strategy_intents(sa->id, {}));
  all = store().list_intents({});
  ASSERT_OK(all);
  EXPECT_EQ(ids_of(*all), (std::set<std::string>{i3.id}));
}

TEST_P(StoreContractTest, ReplaceIntentsRejectsForeignStrategyId) {
  auto sa = store().create_strategy(make_strategy(id_of(1), 1));
  auto sb = store().create_strategy(make_strategy(id_of(1), 2));
  ASSERT_OK(sa);
  ASSERT_OK(sb);
  ASSERT_OK(store().replace_strategy_intents(sa->id, {make_intent(*sa, "p1", "n", 1)}));
  EXPECT_CODE(store().replace_strategy_intents(sa->id, {make_intent(*sb, "p2", "n", 2)}),
              StoreErrc::kInvalid);
  auto all = store().list_intents({});
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 1u);  // unchanged
  EXPECT_EQ((*all)[0].pod_id, "p1");
}

TEST_P(StoreContractTest, DeleteStrategyDeletesItsIntents) {
  auto sa = store().create_strategy(make_strategy(id_of(1), 1));
  auto sb = store().create_strategy(make_strategy(id_of(1), 2));
  ASSERT_OK(sa);
  ASSERT_OK(sb);
  ASSERT_OK(store().replace_strategy_intents(sa->id, {make_intent(*sa, "p1", "n", 1),
                                                      make_intent(*sa, "p2", "n", 2)}));
  ASSERT_OK(store().replace_strategy_intents(sb->id, {make_intent(*sb, "p3", "n", 3)}));
  EXPECT_OK(store().delete_strategy(sa->id));
  EXPECT_CODE(store().get_strategy(sa->id), StoreErrc::kNotFound);
  EXPECT_CODE(store().delete_strategy(sa->id), StoreErrc::kNotFound);
  auto all = store().list_intents({});
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].pod_id, "p3");
}

TEST_P(StoreContractTest, DeleteIntentsIsAllOrNothingAndScoped) {
  const std::string alice = id_of(1), bob = id_of(2);
  auto sa = store().create_strategy(make_strategy(alice, 1));
  auto sb = store().create_strategy(make_strategy(bob, 2));
  ASSERT_OK(sa);
  ASSERT_OK(sb);
  const Intent a1 = make_intent(*sa, "p1", "n", 1), a2 = make_intent(*sa, "p2", "n", 2);
  const Intent b1 = make_intent(*sb, "p3", "n", 3);
  ASSERT_OK(store().replace_strategy_intents(sa->id, {a1, a2}));
  ASSERT_OK(store().replace_strategy_intents(sb->id, {b1}));

  // One id is Bob's: nothing is deleted.
  EXPECT_CODE(store().delete_intents({a1.id, b1.id}, alice), StoreErrc::kNotFound);
  // One id does not exist: nothing is deleted.
  EXPECT_CODE(store().delete_intents({a1.id, id_of(399)}, alice), StoreErrc::kNotFound);
  auto all = store().list_intents({});
  ASSERT_OK(all);
  EXPECT_EQ(all->size(), 3u);

  EXPECT_OK(store().delete_intents({a1.id, a1.id}, alice));  // duplicates count once
  EXPECT_OK(store().delete_intents({b1.id}, std::nullopt));  // unscoped
  all = store().list_intents({});
  ASSERT_OK(all);
  EXPECT_EQ(ids_of(*all), (std::set<std::string>{a2.id}));
}

TEST_P(StoreContractTest, UpdateIntentState) {
  auto s = store().create_strategy(make_strategy(id_of(1), 1));
  ASSERT_OK(s);
  const Intent i = make_intent(*s, "p1", "n", 1);
  ASSERT_OK(store().replace_strategy_intents(s->id, {i}));
  auto u = store().update_intent_state(i.id, IntentState::kWaiting, "no process yet", 1900000000000);
  ASSERT_OK(u);
  EXPECT_EQ(u->state, IntentState::kWaiting);
  EXPECT_EQ(u->state_reason, "no process yet");
  EXPECT_EQ(u->updated_at, 1900000000000);
  EXPECT_EQ(u->version, 2);
  EXPECT_EQ(u->pod_id, "p1");
  auto all = store().list_intents({});
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].state, IntentState::kWaiting);
  EXPECT_EQ((*all)[0].state_reason, "no process yet");
  EXPECT_CODE(store().update_intent_state(id_of(398), IntentState::kApplied, "", 1),
              StoreErrc::kNotFound);
}

TEST_P(StoreContractTest, UpdateIntentStatesRecordsABatchAndSkipsTheGone) {
  auto s = store().create_strategy(make_strategy(id_of(1), 1));
  ASSERT_OK(s);
  const Intent a = make_intent(*s, "p1", "n", 1), b = make_intent(*s, "p2", "n", 2);
  ASSERT_OK(store().replace_strategy_intents(s->id, {a, b}));
  auto written = store().update_intent_states({{a.id, IntentState::kApplied, "", 1900000000001},
                                               {id_of(397), IntentState::kApplied, "", 1},
                                               {b.id, IntentState::kFailed, "invalid regex", 1900000000002}});
  ASSERT_OK(written);
  EXPECT_EQ(*written, 2u);
  auto all = store().list_intents({});
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 2u);
  for (const auto& i : *all) {
    EXPECT_EQ(i.version, 2) << i.id;
    if (i.id == a.id) {
      EXPECT_EQ(i.state, IntentState::kApplied);
      EXPECT_EQ(i.updated_at, 1900000000001);
    } else {
      EXPECT_EQ(i.state, IntentState::kFailed);
      EXPECT_EQ(i.state_reason, "invalid regex");
    }
  }
  auto none = store().update_intent_states({});
  ASSERT_OK(none);
  EXPECT_EQ(*none, 0u);
}

TEST_P(StoreContractTest, UnicodeAndQuotesRoundTrip) {
  User u = make_user("zoë'; DROP TABLE users; --\"", 1);
  ASSERT_OK(store().create_user(u));
  auto got = store().get_user_by_username(u.username);
  ASSERT_OK(got);
  EXPECT_EQ(got->username, u.username);
  Strategy s = make_strategy(u.id, 1);
  s.command_regex = R"(^(nginx|"worker\d+")$\\.)";
  s.label_selectors = {{"example.com/ключ", "значение"}};
  ASSERT_OK(store().create_strategy(s));
  auto gs = store().get_strategy(s.id);
  ASSERT_OK(gs);
  expect_same_strategy(*gs, s);
}

}  // namespace gthulhu::test
