// The coordinator's read cache (store/caching_store.h) against both stores:
//   * the mechanism on the store alone: a cached read really is reused, a write through
//     the caching store is seen at once, a write it never saw (the database itself)
//     is seen once the entry is older than the TTL, and ttl = 0 reads every time;
//   * two replicas on one database (two coordinators sharing one SQLite file, or one
//     FerretDB database): a strategy change, a token revocation and a removed
//     permission made through replica B reach replica A's answers within A's
//     documented bound (store.cache_ttl, auth.role_cache_ttl), and the same changes
//     through A are seen by A at once.
// The FerretDB cases skip with the reason when FerretDB is not installed.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <unistd.h>

#include "coordinator/store/caching_store.h"
#include "coordinator/store/mongo_store.h"
#include "coordinator/store/sqlite_store.h"
#include "tests/support/eventually.h"
#include "tests/support/ferretdb.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/coordinator_harness.h"

namespace gthulhu::coordinator {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::CoordinatorHarness;
using test::FerretDb;
using test::json;

// Replica A's staleness bound in these tests, and the slack a loaded 2-core machine
// needs on top of it to run the requests that observe the change.
constexpr auto kTtl = 400ms;
constexpr auto kSlack = 5s;

FerretDb* shared_ferretdb() {
  static std::unique_ptr<FerretDb> db;
  static bool tried = false;
  if (!tried) {
    tried = true;
    if (FerretDb::unavailable_reason().empty()) {
      auto candidate = std::make_unique<FerretDb>();
      if (candidate->start()) db = std::move(candidate);
    }
  }
  return db.get();
}

std::string fresh_database_name() {
  static std::atomic<int> n{0};
  return "cache" + std::to_string(::getpid()) + "_" + std::to_string(n.fetch_add(1));
}

// Where both replicas (or both store objects) keep their data.
struct SharedDatabase {
  std::string backend;  // "sqlite" | "mongodb"
  std::unique_ptr<test::TempDir> dir;
  std::string mongo_uri, mongo_database;

  std::shared_ptr<Store> open() const {
    if (backend == "sqlite") {
      return std::make_shared<SqliteStore>(
          SqliteOptions{dir->path() / "shared.db", std::chrono::milliseconds(5000), 2});
    }
    MongoOptions o;
    o.uri = mongo_uri;
    o.database = mongo_database;
    o.max_pool_size = 4;
    o.server_selection_timeout = 2000ms;
    return std::make_shared<MongoStore>(o);
  }
  config::Environment replica_env(std::chrono::milliseconds ttl) const {
    config::Environment env = {{"GTHULHU_STORE_CACHE_TTL", std::to_string(ttl.count()) + "ms"},
                               {"GTHULHU_AUTH_ROLE_CACHE_TTL", std::to_string(ttl.count()) + "ms"}};
    if (backend == "sqlite") {
      env["GTHULHU_SQLITE_PATH"] = (dir->path() / "shared.db").string();
    } else {
      env["GTHULHU_STORE_BACKEND"] = "mongodb";
      env["GTHULHU_MONGODB_URI"] = mongo_uri;
      env["GTHULHU_MONGODB_DATABASE"] = mongo_database;
    }
    return env;
  }
};

class ReplicaCacheTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_.backend = GetParam();
    db_.dir = std::make_unique<test::TempDir>();
    if (db_.backend == "mongodb") {
      if (!FerretDb::unavailable_reason().empty()) GTEST_SKIP() << FerretDb::unavailable_reason();
      FerretDb* f = shared_ferretdb();
      if (f == nullptr) GTEST_SKIP() << "FerretDB did not start";
      db_.mongo_uri = f->uri();
      db_.mongo_database = fresh_database_name();
    }
  }
  // Two coordinators on the database, started one after the other (two processes
  // creating one new SQLite file at once may see "database is locked").
  void start_replicas() {
    a_ = std::make_unique<CoordinatorHarness>(db_.replica_env(kTtl));
    b_ = std::make_unique<CoordinatorHarness>(db_.replica_env(kTtl));
  }
  // How long `observed` took to hold on replica A, failing past the bound.
  Clock::duration seen_within_bound(const std::function<bool()>& observed) {
    const auto began = Clock::now();
    EXPECT_TRUE(test::eventually(observed, kTtl + kSlack))
        << "replica A did not see the change within store.cache_ttl (" << kTtl.count()
        << " ms) + " << kSlack.count() << " s of scheduling slack";
    return Clock::now() - began;
  }

  SharedDatabase db_;
  std::unique_ptr<CoordinatorHarness> a_, b_;
};

User make_user(const std::string& name) {
  User u;
  u.id = new_id();
  u.username = name;
  u.password_hash = "x";
  u.roles = {"admin"};
  u.created_at = u.updated_at = 1;
  return u;
}

Strategy make_strategy(const std::string& creator, int priority) {
  Strategy s;
  s.id = new_id();
  s.creator_id = s.updater_id = creator;
  s.priority = priority;
  s.created_at = s.updated_at = 1;
  return s;
}

TEST_P(ReplicaCacheTest, CachedReadsAreReusedUntilTheTtlAndWritesThroughTheCacheAreSeenAtOnce) {
  auto direct = db_.open();
  ASSERT_TRUE(direct->migrate().ok());
  CachingStore cache(db_.open(), 1h);  // long enough that only a write can refresh it
  ASSERT_TRUE(cache.migrate().ok());     // a MongoDB store connects here
  auto user = cache.create_user(make_user("cached"));
  ASSERT_TRUE(user.ok());
  auto s = cache.create_strategy(make_strategy(user->id, 3));
  ASSERT_TRUE(s.ok());

  auto first = cache.cached_user(user->id);
  ASSERT_TRUE(first.ok());
  auto list = cache.cached_strategies(user->id);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ((*list)->size(), 1u);

  // A write the cache never saw: within the TTL the cached copies are reused...
  ASSERT_TRUE(direct->bump_token_version(user->id, 2).ok());
  Strategy changed = (*list)->front();
  changed.priority = 9;
  ASSERT_TRUE(direct->update_strategy(changed).ok());
  EXPECT_EQ(cache.cached_user(user->id).value()->token_version, (*first)->token_version);
  EXPECT_EQ(cache.cached_strategies(user->id).value().get(), list->get()) << "the same list, not a re-read";
  EXPECT_EQ(cache.cached_strategies(user->id).value()->front().priority, 3);

  // ...and a write through the cache is seen by the very next read.
  auto bumped = cache.bump_token_version(user->id, 3);
  ASSERT_TRUE(bumped.ok());
  EXPECT_EQ(cache.cached_user(user->id).value()->token_version, bumped->token_version);
  Strategy again = cache.get_strategy(changed.id).value();
  again.priority = 11;
  ASSERT_TRUE(cache.update_strategy(again).ok());
  EXPECT_EQ(cache.cached_strategies(user->id).value()->front().priority, 11);
  ASSERT_TRUE(cache.delete_strategy(again.id).ok());
  EXPECT_TRUE(cache.cached_strategies(user->id).value()->empty());
}

TEST_P(ReplicaCacheTest, AWriteTheCacheNeverSawIsSeenOnceTheTtlPassed) {
  auto direct = db_.open();
  ASSERT_TRUE(direct->migrate().ok());
  CachingStore cache(db_.open(), kTtl);
  ASSERT_TRUE(cache.migrate().ok());
  auto user = direct->create_user(make_user("ttl"));
  ASSERT_TRUE(user.ok());
  const auto before = cache.cached_user(user->id).value()->token_version;
  ASSERT_TRUE(direct->bump_token_version(user->id, 2).ok());
  EXPECT_TRUE(test::eventually([&] { return cache.cached_user(user->id).value()->token_version != before; },
                               kTtl + kSlack));

  CachingStore uncached(db_.open(), 0ms);
  ASSERT_TRUE(uncached.migrate().ok());
  ASSERT_TRUE(direct->bump_token_version(user->id, 3).ok());
  const auto now_version = direct->get_user(user->id).value().token_version;
  EXPECT_EQ(uncached.cached_user(user->id).value()->token_version, now_version) << "ttl 0 reads every time";
}

TEST_P(ReplicaCacheTest, StrategyChangedOnAnotherReplicaReachesThisOneWithinTheBound) {
  start_replicas();
  const std::string token = a_->admin_token();
  auto created = a_->call("POST", "/api/v1/strategies",
                          json{{"labelSelectors", json::array({{{"key", "app"}, {"value", "x"}}})},
                               {"priority", 2}},
                          token);
  ASSERT_EQ(created.status, 201) << created;
  const std::string id = created.data().at("strategy").at("id");
  auto priority_on_a = [&] {
    auto r = a_->call("GET", "/api/v1/strategies/self", nullptr, token);
    EXPECT_EQ(r.status, 200) << r;
    const auto& list = r.data().at("strategies");
    return list.empty() ? -100 : list.at(0).at("priority").get<int>();
  };
  // Created through A: listed by A at once.
  EXPECT_EQ(priority_on_a(), 2);

  auto updated = b_->call("PUT", "/api/v1/strategies", json{{"strategyId", id}, {"priority", 7}}, token);
  ASSERT_EQ(updated.status, 200) << updated;
  seen_within_bound([&] { return priority_on_a() == 7; });

  // Through A again: seen at once, no waiting.
  auto again = a_->call("PUT", "/api/v1/strategies", json{{"strategyId", id}, {"priority", 9}}, token);
  ASSERT_EQ(again.status, 200) << again;
  EXPECT_EQ(priority_on_a(), 9);

  // Deleted through B: gone from A's list within the bound.
  ASSERT_EQ(b_->call("DELETE", "/api/v1/strategies", json{{"strategyId", id}}, token).status, 200);
  seen_within_bound([&] { return priority_on_a() == -100; });
}

TEST_P(ReplicaCacheTest, TokenRevokedOnAnotherReplicaIsRefusedWithinTheBound) {
  start_replicas();
  auto user = a_->ready_user("revoked@example.com", {"admin"});
  ASSERT_FALSE(user.token.empty());
  ASSERT_EQ(a_->call("GET", "/api/v1/strategies/self", nullptr, user.token).status, 200);

  // logout-all through B bumps the user's token version in the shared database.
  ASSERT_EQ(b_->call("POST", "/api/v1/auth/logout-all", nullptr, user.token).status, 200);
  seen_within_bound([&] {
    auto r = a_->call("GET", "/api/v1/strategies/self", nullptr, user.token);
    return r.status == 401 && r.error() == "token revoked";
  });

  // Through A: refused by A on the very next request.
  auto second = a_->login(user.username, user.password);
  ASSERT_EQ(second.status, 200) << second;
  const std::string token = second.data().at("accessToken");
  ASSERT_EQ(a_->call("GET", "/api/v1/strategies/self", nullptr, token).status, 200);
  ASSERT_EQ(a_->call("POST", "/api/v1/auth/logout-all", nullptr, token).status, 200);
  auto refused = a_->call("GET", "/api/v1/strategies/self", nullptr, token);
  EXPECT_EQ(refused.status, 401) << refused;
  EXPECT_EQ(refused.error(), "token revoked");
}

TEST_P(ReplicaCacheTest, PermissionRemovedOnAnotherReplicaIsRefusedWithinTheBound) {
  start_replicas();
  const std::string role_id = a_->create_role(
      "readers", json::array({{{"permissionKey", "schedule_strategy.read"}, {"self", false}}}));
  ASSERT_FALSE(role_id.empty());
  auto user = a_->ready_user("reader@example.com", {"readers"});
  ASSERT_FALSE(user.token.empty());
  ASSERT_EQ(a_->call("GET", "/api/v1/strategies/self", nullptr, user.token).status, 200);

  // The role loses the permission through B.
  const std::string admin = b_->admin_token();
  auto edited = b_->call("PUT", "/api/v1/roles",
                         json{{"id", role_id},
                              {"rolePolicies", json::array({{{"permissionKey", "schedule_intent.read"},
                                                             {"self", false}}})}},
                         admin);
  ASSERT_EQ(edited.status, 200) << edited;
  seen_within_bound([&] { return a_->call("GET", "/api/v1/strategies/self", nullptr, user.token).status == 403; });

  // The user loses the role through B (user record cache): intents no longer readable on A.
  ASSERT_EQ(a_->call("GET", "/api/v1/intents/self", nullptr, user.token).status, 200);
  auto stripped = b_->call("PUT", "/api/v1/users/permissions", json{{"userId", user.id}, {"roles", json::array()}},
                           admin);
  ASSERT_EQ(stripped.status, 200) << stripped;
  seen_within_bound([&] { return a_->call("GET", "/api/v1/intents/self", nullptr, user.token).status == 403; });

  // Given back through A: granted by A at once.
  auto restored = a_->call("PUT", "/api/v1/users/permissions", json{{"userId", user.id}, {"roles", {"readers"}}},
                           a_->admin_token_cached());
  ASSERT_EQ(restored.status, 200) << restored;
  EXPECT_EQ(a_->call("GET", "/api/v1/intents/self", nullptr, user.token).status, 200);
}

INSTANTIATE_TEST_SUITE_P(Stores, ReplicaCacheTest, ::testing::Values("sqlite", "mongodb"),
                         [](const auto& info) { return info.param == "mongodb" ? std::string("ferretdb")
                                                                               : info.param; });

}  // namespace
}  // namespace gthulhu::coordinator
