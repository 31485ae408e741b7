// The MongoDB store on FerretDB (a MongoDB wire-protocol server on SQLite) on loopback:
// the storage contract, plus what only a networked database has — start-up retries while
// the server is down, fail-fast while it is stopped mid-run, recovery after it returns,
// and no acknowledged write lost across a crash. Skips when FerretDB is not installed
// (scripts/ferretdb.sh).
#include <gtest/gtest.h>
#include <mongoc/mongoc.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "coordinator/store/mongo_codec.h"
#include "coordinator/store/mongo_store.h"
#include "tests/support/ferretdb.h"
#include "tests/support/store_contract.h"

namespace gthulhu::coordinator {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::FerretDb;

long ms_since(Clock::time_point t) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

// Short timeouts so the fault tests stay fast; production defaults are in MongoOptions.
MongoOptions test_options(const FerretDb& db, const std::string& database) {
  MongoOptions o;
  o.uri = db.uri();
  o.database = database;
  o.max_pool_size = 8;
  o.wait_queue_timeout = 1000ms;
  o.server_selection_timeout = 1000ms;
  o.connect_timeout = 500ms;
  o.socket_timeout = 5000ms;
  o.heartbeat_frequency = 500ms;
  o.retry_initial_backoff = 100ms;
  o.retry_max_backoff = 400ms;
  return o;
}

std::string fresh_database_name() {
  static std::atomic<int> n{0};
  return "t" + std::to_string(::getpid()) + "_" + std::to_string(n.fetch_add(1));
}

// One FerretDB per test process for the contract suite, started on first use (from the
// test's main thread) and stopped at exit; every test gets a database of its own.
FerretDb* shared_ferretdb() {
  static std::unique_ptr<FerretDb> db;
  static std::string failure;
  if (!db && failure.empty()) {
    if (!FerretDb::unavailable_reason().empty()) {
      failure = FerretDb::unavailable_reason();
    } else {
      auto candidate = std::make_unique<FerretDb>();
      if (candidate->start()) db = std::move(candidate);
      else failure = "FerretDB did not start: " + candidate->last_error();
    }
  }
  return db.get();
}

std::string skip_reason() {
  return FerretDb::unavailable_reason().empty() ? "FerretDB did not start"
                                                : FerretDb::unavailable_reason();
}

std::shared_ptr<Store> fresh_mongo_store() {
  FerretDb* db = shared_ferretdb();
  if (!db) return nullptr;
  return std::make_shared<MongoStore>(test_options(*db, fresh_database_name()));
}

INSTANTIATE_TEST_SUITE_P(FerretDb, StoreContractTest,
                         ::testing::Values(test::store_contract_param("ferretdb",
                                                                      fresh_mongo_store,
                                                                      skip_reason())),
                         test::StoreContractName());

#define SKIP_WITHOUT_FERRETDB()                                              \
  do {                                                                       \
    if (!FerretDb::unavailable_reason().empty()) {                           \
      GTEST_SKIP() << FerretDb::unavailable_reason();                        \
    }                                                                        \
  } while (0)

User make_user(const std::string& name) {
  User u;
  u.id = new_id();
  u.username = name;
  u.password_hash = "$argon2id$v=19$m=16,t=1,p=1$c2FsdA$aGFzaA";
  u.roles = {"viewer"};
  u.created_at = 1700000000000;
  u.updated_at = u.created_at;
  return u;
}

// Captures log lines for the duration of a test.
class LogCapture {
 public:
  LogCapture()
      : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256)),
        previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>("capture", sink_);
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::vector<std::string> lines() const { return sink_->last_formatted(); }
  int count(const std::string& needle) const {
    int n = 0;
    for (const auto& l : lines()) n += l.find(needle) != std::string::npos;
    return n;
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

// ---------------------------------------------------------------- harness

TEST(FerretDbHarnessTest, StartsPingsStopsAndRestartsOnTheSamePort) {
  SKIP_WITHOUT_FERRETDB();
  FerretDb db;
  EXPECT_FALSE(FerretDb::ping(db.port(), 200ms));
  ASSERT_TRUE(db.start()) << db.last_error();
  EXPECT_TRUE(FerretDb::ping(db.port(), 2000ms));
  db.stop();
  EXPECT_FALSE(db.running());
  EXPECT_FALSE(FerretDb::ping(db.port(), 200ms));
  ASSERT_TRUE(db.start()) << db.last_error();
  EXPECT_TRUE(FerretDb::ping(db.port(), 2000ms));
  db.kill();
  EXPECT_FALSE(FerretDb::ping(db.port(), 200ms));
}

// ---------------------------------------------------------------- configuration

TEST(MongoStoreConfigTest, RejectsBadConfiguration) {
  MongoOptions o;
  o.uri = "http://not-mongo";
  EXPECT_THROW(MongoStore{o}, std::invalid_argument);
  o = MongoOptions{};
  o.database = "bad.name";
  EXPECT_THROW(MongoStore{o}, std::invalid_argument);
  o = MongoOptions{};
  o.write_concern_w = "some";
  EXPECT_THROW(MongoStore{o}, std::invalid_argument);
  o = MongoOptions{};
  o.server_selection_timeout = 0ms;
  EXPECT_THROW(MongoStore{o}, std::invalid_argument);
  o = MongoOptions{};
  o.uri = "mongodb://127.0.0.1:1/?w=0";
  EXPECT_THROW(MongoStore{o}, std::invalid_argument);
}

TEST(MongoStoreConfigTest, NothingWorksBeforeMigrateAndNothingIsContacted) {
  MongoOptions o;
  o.uri = "mongodb://127.0.0.1:1/";  // nothing listens there
  MongoStore store(o);
  EXPECT_FALSE(store.ready());
  auto p = store.ping();
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.code(), StoreErrc::kUnavailable);
  EXPECT_NE(p.error().message.find("not ready"), std::string::npos) << p.error().message;
  auto u = store.get_user(new_id());
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.code(), StoreErrc::kUnavailable);
}

TEST(MongoStoreConfigTest, GivesUpAfterStartTimeoutWithOneLogLinePerAttempt) {
  LogCapture logs;
  MongoOptions o;
  o.uri = "mongodb://127.0.0.1:1/";
  o.server_selection_timeout = 200ms;
  o.connect_timeout = 200ms;
  o.retry_initial_backoff = 50ms;
  o.retry_max_backoff = 100ms;
  o.start_timeout = 1000ms;
  MongoStore store(o);
  const auto t0 = Clock::now();
  Status st = store.migrate();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StoreErrc::kUnavailable);
  EXPECT_LT(ms_since(t0), 3000);
  EXPECT_GE(logs.count("unavailable at start (attempt 1)"), 1);
  EXPECT_GE(logs.count("unavailable at start (attempt 2)"), 1);
  EXPECT_EQ(logs.count("giving up"), 1);
  EXPECT_FALSE(store.ready());
}

TEST(MongoStoreConfigTest, DestructionStopsTheStartLoop) {
  MongoOptions o;
  o.uri = "mongodb://127.0.0.1:1/";
  o.server_selection_timeout = 200ms;
  o.retry_initial_backoff = 5000ms;
  const auto t0 = Clock::now();
  {
    MongoStore store(o);
    store.start_async();
    std::this_thread::sleep_for(300ms);
    EXPECT_FALSE(store.start_status().has_value());
  }
  EXPECT_LT(ms_since(t0), 2000);
}

// ---------------------------------------------------------------- faults on FerretDB

TEST(MongoStoreFaultTest, DatabaseDownAtStartRetriesThenSucceeds) {
  SKIP_WITHOUT_FERRETDB();
  LogCapture logs;
  FerretDb db;  // not started yet
  MongoStore store(test_options(db, fresh_database_name()));
  store.start_async();

  // While it retries, the store says so instead of hanging. Wait for the event meant:
  // its first attempt has failed (not a fixed time that a busy machine may not reach).
  const auto waiting = Clock::now();
  while (logs.count("unavailable at start (attempt 1)") == 0 && ms_since(waiting) < 30000) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_GE(logs.count("unavailable at start (attempt 1)"), 1) << "no failed attempt in 30 s";
  EXPECT_FALSE(store.ready());
  EXPECT_FALSE(store.start_status().has_value());
  auto t0 = Clock::now();
  auto p = store.ping();
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.code(), StoreErrc::kUnavailable);
  EXPECT_NE(p.error().message.find("waiting for the database"), std::string::npos)
      << p.error().message;
  EXPECT_LT(ms_since(t0), 100);
  EXPECT_EQ(store.create_user(make_user("early")).code(), StoreErrc::kUnavailable);

  ASSERT_TRUE(db.start()) << db.last_error();
  const auto started = Clock::now();
  while (!store.ready() && ms_since(started) < 10000) std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(store.ready()) << "not ready 10 s after FerretDB came up";
  ASSERT_TRUE(store.start_status().has_value());
  EXPECT_TRUE(store.start_status()->ok());
  EXPECT_TRUE(store.ping().ok());
  EXPECT_TRUE(store.create_user(make_user("late")).ok());
  EXPECT_GE(logs.count("unavailable at start (attempt 1)"), 1);
}

TEST(MongoStoreFaultTest, MigrateBlocksUntilTheDatabaseComesUp) {
  SKIP_WITHOUT_FERRETDB();
  FerretDb db;
  MongoStore store(test_options(db, fresh_database_name()));
  auto migrated = std::async(std::launch::async, [&] { return store.migrate(); });
  EXPECT_EQ(migrated.wait_for(1000ms), std::future_status::timeout);
  ASSERT_TRUE(db.start()) << db.last_error();
  ASSERT_EQ(migrated.wait_for(10s), std::future_status::ready);
  Status st = migrated.get();
  EXPECT_TRUE(st.ok()) << st.error().message;
  EXPECT_TRUE(store.ready());
}

TEST(MongoStoreFaultTest, StoppedMidRunFailsFastThenRecoversWithEveryWrite) {
  SKIP_WITHOUT_FERRETDB();
  FerretDb db;
  ASSERT_TRUE(db.start()) << db.last_error();
  MongoStore store(test_options(db, fresh_database_name()));
  ASSERT_TRUE(store.migrate().ok());

  std::vector<User> written;
  for (int i = 0; i < 20; ++i) {
    auto u = store.create_user(make_user("before-" + std::to_string(i)));
    ASSERT_TRUE(u.ok()) << u.error().message;
    written.push_back(*u);
  }
  auto edited = written[0];
  edited.roles = {"admin"};
  auto updated = store.update_user(edited);
  ASSERT_TRUE(updated.ok());

  db.stop();  // graceful: FerretDB closes its clients' connections
  // Every kind of operation fails fast with kUnavailable while the server is gone.
  {
    auto t0 = Clock::now();
    auto g = store.get_user(written[1].id);
    EXPECT_EQ(g.code(), StoreErrc::kUnavailable);
    EXPECT_LT(ms_since(t0), 3000) << "get_user";
    t0 = Clock::now();
    auto c = store.create_user(make_user("during"));
    EXPECT_FALSE(c.ok());
    if (!c.ok()) {
      EXPECT_EQ(c.code(), StoreErrc::kUnavailable) << c.error().message;
    }
    EXPECT_LT(ms_since(t0), 3000) << "create_user";
    t0 = Clock::now();
    auto l = store.list_users();
    EXPECT_EQ(l.code(), StoreErrc::kUnavailable);
    EXPECT_LT(ms_since(t0), 3000) << "list_users";
    t0 = Clock::now();
    EXPECT_EQ(store.ping().code(), StoreErrc::kUnavailable);
    EXPECT_LT(ms_since(t0), 3000) << "ping";
  }

  ASSERT_TRUE(db.start()) << db.last_error();
  const auto back = Clock::now();
  Status ping = store.ping();
  while (!ping.ok() && ms_since(back) < 10000) {
    std::this_thread::sleep_for(100ms);
    ping = store.ping();
  }
  ASSERT_TRUE(ping.ok()) << "no recovery 10 s after restart: " << ping.error().message;
  EXPECT_LT(ms_since(back), 5000);

  auto all = store.list_users();
  ASSERT_TRUE(all.ok()) << all.error().message;
  std::set<std::string> ids;
  for (const auto& u : *all) ids.insert(u.id);
  for (const auto& u : written) EXPECT_TRUE(ids.count(u.id)) << u.username << " lost";
  auto first = store.get_user(written[0].id);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->roles, std::vector<std::string>{"admin"});
  EXPECT_EQ(first->version, 2);
  EXPECT_TRUE(store.create_user(make_user("after")).ok());
}

TEST(MongoStoreFaultTest, RestartBetweenRequestsIsInvisibleToTheNextWrite) {
  SKIP_WITHOUT_FERRETDB();
  FerretDb db;
  ASSERT_TRUE(db.start()) << db.last_error();
  MongoOptions o = test_options(db, fresh_database_name());
  o.heartbeat_frequency = 60000ms;  // the monitor will not notice: the idle check must
  MongoStore store(o);
  ASSERT_TRUE(store.migrate().ok());
  ASSERT_TRUE(store.create_user(make_user("one")).ok());
  db.kill();  // (a graceful stop waits ~3 s for FerretDB to drop its clients)
  ASSERT_TRUE(db.start()) << db.last_error();
  std::this_thread::sleep_for(1100ms);  // the pooled connection is now idle and dead
  const auto t0 = Clock::now();
  auto u = store.create_user(make_user("two"));
  EXPECT_TRUE(u.ok()) << u.error().message;
  EXPECT_LT(ms_since(t0), 2000);
  auto all = store.list_users();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
}

TEST(MongoStoreFaultTest, NoAcknowledgedWriteIsLostWhenTheServerIsKilled) {
  SKIP_WITHOUT_FERRETDB();
  FerretDb db;
  ASSERT_TRUE(db.start()) << db.last_error();
  MongoStore store(test_options(db, fresh_database_name()));
  ASSERT_TRUE(store.migrate().ok());

  // Two writers insert as fast as they can; the server is SIGKILLed under them.
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  auto writer = [&](int w) {
    for (int i = 0; !stop.load(); ++i) {
      auto u = store.create_user(make_user("w" + std::to_string(w) + "-" + std::to_string(i)));
      if (u.ok()) {
        std::lock_guard lock(mu);
        acknowledged.push_back(u->id);
      } else {
        ++failures;
        EXPECT_EQ(u.code(), StoreErrc::kUnavailable) << u.error().message;
        std::this_thread::sleep_for(50ms);
      }
    }
  };
  std::thread w1(writer, 1), w2(writer, 2);
  // Kill once writes are being acknowledged, stop once the writers have seen it fail.
  auto wait_for = [](auto cond) {
    const auto t0 = Clock::now();
    while (!cond() && ms_since(t0) < 30000) std::this_thread::sleep_for(10ms);
  };
  wait_for([&] {
    std::lock_guard lock(mu);
    return acknowledged.size() > 5;
  });
  db.kill();
  wait_for([&] { return failures.load() > 0; });
  stop = true;
  w1.join();
  w2.join();
  ASSERT_GT(acknowledged.size(), 5u);

  ASSERT_TRUE(db.start()) << db.last_error();
  const auto back = Clock::now();
  Result<std::vector<User>> all = store.list_users();
  while (!all.ok() && ms_since(back) < 10000) {
    std::this_thread::sleep_for(100ms);
    all = store.list_users();
  }
  ASSERT_TRUE(all.ok()) << all.error().message;
  std::set<std::string> ids;
  for (const auto& u : *all) ids.insert(u.id);
  size_t lost = 0;
  for (const auto& id : acknowledged) lost += ids.count(id) == 0;
  EXPECT_EQ(lost, 0u) << "of " << acknowledged.size() << " acknowledged writes";
  // An unacknowledged write may or may not be there; nothing else may be.
  EXPECT_LE(ids.size(), acknowledged.size() + static_cast<size_t>(failures.load()));
}

// ---------------------------------------------------------------- storage details

TEST(MongoStoreTest, SchemaMigrationsAreRecordedOnceAndIndexesExist) {
  SKIP_WITHOUT_FERRETDB();
  FerretDb* db = shared_ferretdb();
  ASSERT_NE(db, nullptr);
  const std::string name = fresh_database_name();
  {
    MongoStore a(test_options(*db, name));
    ASSERT_TRUE(a.migrate().ok());
    MongoStore b(test_options(*db, name));
    ASSERT_TRUE(b.migrate().ok());  // a second coordinator on the same database
    ASSERT_TRUE(a.migrate().ok());
  }
  mongoc_client_t* client = mongoc_client_new(db->uri().c_str());
  ASSERT_NE(client, nullptr);
  mongoc_collection_t* coll = mongoc_client_get_collection(client, name.c_str(), "schema_migrations");
  bson_t empty = BSON_INITIALIZER;
  bson_error_t err{};
  EXPECT_EQ(mongoc_collection_count_documents(coll, &empty, nullptr, nullptr, nullptr, &err),
            MongoStore::schema_version());
  mongoc_collection_destroy(coll);

  auto unique_index_on = [&](const char* collection, const char* field) {
    mongoc_collection_t* c = mongoc_client_get_collection(client, name.c_str(), collection);
    mongoc_cursor_t* cur = mongoc_collection_find_indexes_with_opts(c, nullptr);
    const bson_t* ix = nullptr;
    bool found = false;
    while (mongoc_cursor_next(cur, &ix)) {
      bson_iter_t it;
      const bool unique = bson_iter_init_find(&it, ix, "unique") && bson_iter_as_bool(&it);
      bson_iter_t key;
      if (unique && bson_iter_init_find(&key, ix, "key") && BSON_ITER_HOLDS_DOCUMENT(&key)) {
        bson_iter_t child;
        if (bson_iter_recurse(&key, &child) && bson_iter_find(&child, field)) found = true;
      }
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(c);
    return found;
  };
  EXPECT_TRUE(unique_index_on("users", "username"));
  EXPECT_TRUE(unique_index_on("roles", "name"));
  EXPECT_TRUE(unique_index_on("permissions", "key"));
  EXPECT_TRUE(unique_index_on("refresh_sessions", "token_hash"));

  // A database written by a newer coordinator is refused, not downgraded.
  coll = mongoc_client_get_collection(client, name.c_str(), "schema_migrations");
  bson_t* future = BCON_NEW("_id", BCON_INT32(MongoStore::schema_version() + 1), "description",
                            "from the future");
  ASSERT_TRUE(mongoc_collection_insert_one(coll, future, nullptr, nullptr, &err)) << err.message;
  bson_destroy(future);
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(client);
  MongoStore c(test_options(*db, name));
  Status st = c.migrate();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StoreErrc::kInternal);
  EXPECT_NE(st.error().message.find("newer"), std::string::npos) << st.error().message;
}

TEST(MongoStoreTest, IdsAreObjectIdsAndNonHexIdsStillWork) {
  SKIP_WITHOUT_FERRETDB();
  FerretDb* db = shared_ferretdb();
  ASSERT_NE(db, nullptr);
  const std::string name = fresh_database_name();
  MongoStore store(test_options(*db, name));
  ASSERT_TRUE(store.migrate().ok());
  User u = make_user("oid");
  ASSERT_TRUE(store.create_user(u).ok());
  User odd = make_user("odd");
  odd.id = "not-a-hex-id";
  ASSERT_TRUE(store.create_user(odd).ok());
  auto got = store.get_user("not-a-hex-id");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->username, "odd");
  EXPECT_EQ(store.get_user("ZZZ").code(), StoreErrc::kNotFound);

  mongoc_client_t* client = mongoc_client_new(db->uri().c_str());
  mongoc_collection_t* coll = mongoc_client_get_collection(client, name.c_str(), "users");
  bson_t* filter = BCON_NEW("username", "oid");
  mongoc_cursor_t* cur = mongoc_collection_find_with_opts(coll, filter, nullptr, nullptr);
  const bson_t* doc = nullptr;
  ASSERT_TRUE(mongoc_cursor_next(cur, &doc));
  bson_iter_t it;
  ASSERT_TRUE(bson_iter_init_find(&it, doc, "_id"));
  EXPECT_TRUE(BSON_ITER_HOLDS_OID(&it));
  ASSERT_TRUE(bson_iter_init_find(&it, doc, "created_at"));
  EXPECT_TRUE(BSON_ITER_HOLDS_DATE_TIME(&it));
  mongoc_cursor_destroy(cur);
  bson_destroy(filter);
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(client);
}

TEST(MongoStoreTest, CorruptDocumentIsInternalNotACrash) {
  SKIP_WITHOUT_FERRETDB();
  FerretDb* db = shared_ferretdb();
  ASSERT_NE(db, nullptr);
  const std::string name = fresh_database_name();
  MongoStore store(test_options(*db, name));
  ASSERT_TRUE(store.migrate().ok());
  mongoc_client_t* client = mongoc_client_new(db->uri().c_str());
  mongoc_collection_t* coll = mongoc_client_get_collection(client, name.c_str(), "users");
  bson_t* bad = BCON_NEW("_id", "broken", "username", BCON_INT32(5));
  bson_error_t err{};
  ASSERT_TRUE(mongoc_collection_insert_one(coll, bad, nullptr, nullptr, &err)) << err.message;
  bson_destroy(bad);
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(client);
  auto got = store.get_user("broken");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.code(), StoreErrc::kInternal);
  EXPECT_NE(got.error().message.find("username"), std::string::npos) << got.error().message;
  EXPECT_EQ(store.list_users().code(), StoreErrc::kInternal);
}

TEST(MongoStoreTest, FerretDbIsDetectedAndUpdatesOfTwoCoordinatorsSerialise) {
  SKIP_WITHOUT_FERRETDB();
  FerretDb* db = shared_ferretdb();
  ASSERT_NE(db, nullptr);
  const std::string name = fresh_database_name();
  // Two stores on one database: two coordinators, no shared in-process lock.
  MongoStore a(test_options(*db, name)), b(test_options(*db, name));
  ASSERT_TRUE(a.migrate().ok());
  ASSERT_TRUE(b.migrate().ok());
  EXPECT_TRUE(a.update_locks());
  auto user = a.create_user(make_user("shared"));
  ASSERT_TRUE(user.ok());
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        auto r = (t % 2 ? a : b).bump_token_version(user->id, 1);
        if (!r.ok()) ++failed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  auto got = a.get_user(user->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->token_version, user->token_version + 30);
  EXPECT_EQ(got->version, 31);
}

TEST(MongoStoreTest, BusyLockIsUnavailableAndAStaleOneIsTakenOver) {
  SKIP_WITHOUT_FERRETDB();
  FerretDb* db = shared_ferretdb();
  ASSERT_NE(db, nullptr);
  const std::string name = fresh_database_name();
  MongoOptions o = test_options(*db, name);
  o.lock_wait = 300ms;
  o.lock_lease = 2000ms;
  MongoStore store(o);
  ASSERT_TRUE(store.migrate().ok());
  auto user = store.create_user(make_user("locked"));
  ASSERT_TRUE(user.ok());

  // Another coordinator holds the user's lock right now.
  mongoc_client_t* client = mongoc_client_new(db->uri().c_str());
  mongoc_collection_t* locks = mongoc_client_get_collection(client, name.c_str(), "record_locks");
  const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  const std::string key = "users/" + user->id;
  bson_t* held = BCON_NEW("_id", BCON_UTF8(key.c_str()), "owner", "elsewhere", "at",
                          BCON_DATE_TIME(wall));
  bson_error_t err{};
  ASSERT_TRUE(mongoc_collection_insert_one(locks, held, nullptr, nullptr, &err)) << err.message;
  bson_destroy(held);
  const auto t0 = Clock::now();
  auto busy = store.bump_token_version(user->id, 1);
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.code(), StoreErrc::kUnavailable);
  EXPECT_LT(ms_since(t0), 2000);

  // Its holder crashed: once the lease has run out, the lock is taken over.
  bson_t* filter = BCON_NEW("_id", BCON_UTF8(key.c_str()));
  bson_t* old = BCON_NEW("$set", "{", "at", BCON_DATE_TIME(wall - 60000), "}");
  ASSERT_TRUE(mongoc_collection_update_one(locks, filter, old, nullptr, nullptr, &err))
      << err.message;
  bson_destroy(filter);
  bson_destroy(old);
  auto bumped = store.bump_token_version(user->id, 2);
  ASSERT_TRUE(bumped.ok()) << bumped.error().message;
  EXPECT_EQ(bumped->version, 2);
  bson_t empty = BSON_INITIALIZER;
  EXPECT_EQ(mongoc_collection_count_documents(locks, &empty, nullptr, nullptr, nullptr, &err), 0)
      << "locks are released after use";
  mongoc_collection_destroy(locks);
  mongoc_client_destroy(client);
}

TEST(MongoStoreTest, ManyIntentsReplaceInOneCall) {
  SKIP_WITHOUT_FERRETDB();
  FerretDb* db = shared_ferretdb();
  ASSERT_NE(db, nullptr);
  MongoStore store(test_options(*db, fresh_database_name()));
  ASSERT_TRUE(store.migrate().ok());
  Strategy s;
  s.id = new_id();
  s.creator_id = new_id();
  ASSERT_TRUE(store.create_strategy(s).ok());
  std::vector<Intent> intents;
  for (int i = 0; i < 500; ++i) {
    Intent in;
    in.id = new_id();
    in.strategy_id = s.id;
    in.pod_id = "pod-" + std::to_string(i);
    in.node_id = "node-" + std::to_string(i % 7);
    in.pod_labels = {{"app.kubernetes.io/name", "x"}};
    in.created_at = i;
    intents.push_back(in);
  }
  ASSERT_TRUE(store.replace_strategy_intents(s.id, intents).ok());
  std::vector<Intent> half(intents.begin(), intents.begin() + 250);
  ASSERT_TRUE(store.replace_strategy_intents(s.id, half).ok());
  auto got = store.list_intents({});
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 250u);
  EXPECT_EQ((*got)[0].pod_labels, intents[0].pod_labels);
  IntentFilter node;
  node.node_id = "node-3";
  auto on_node = store.list_intents(node);
  ASSERT_TRUE(on_node.ok());
  EXPECT_EQ(on_node->size(), 36u);  // i % 7 == 3 for i < 250
}

}  // namespace
}  // namespace gthulhu::coordinator
