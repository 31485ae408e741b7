// The storage contract on the embedded SQLite store, plus what only SQLite has:
// the schema_version table, reopening a file, refusing a newer schema or a non-database.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <memory>

#include "coordinator/store/sqlite_store.h"
#include "tests/support/store_contract.h"
#include "tests/support/temp_dir.h"

namespace gthulhu::coordinator {
namespace {

using test::TempDir;

// A store whose temp directory lives exactly as long as the store.
std::shared_ptr<Store> fresh_sqlite_store() {
  auto dir = std::make_shared<TempDir>();
  auto* store = new SqliteStore(SqliteOptions{dir->path() / "coordinator.db",
                                              std::chrono::milliseconds(5000), 4});
  return std::shared_ptr<Store>(store, [dir](Store* s) { delete s; });
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
                         ::testing::Values(test::store_contract_param("sqlite",
                                                                      fresh_sqlite_store)),
                         test::StoreContractName());

TEST(SqliteStoreTest, RecordsSchemaVersionAndSurvivesReopen) {
  TempDir dir;
  const auto path = dir.path() / "c.db";
  {
    SqliteStore store({path});
    ASSERT_TRUE(store.migrate().ok());
    User u;
    u.id = new_id();
    u.username = "persist";
    u.password_hash = "x";
    ASSERT_TRUE(store.create_user(u).ok());
  }
  {
    SqliteStore store({path});
    ASSERT_TRUE(store.migrate().ok());  // idempotent on an existing file
    auto u = store.get_user_by_username("persist");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->version, 1);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), SqliteStore::schema_version());
  EXPECT_NE(sqlite3_step(st), SQLITE_ROW);  // exactly one row
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST(SqliteStoreTest, RefusesNewerSchema) {
  TempDir dir;
  const auto path = dir.path() / "c.db";
  {
    SqliteStore store({path});
    ASSERT_TRUE(store.migrate().ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE schema_version SET version = 999", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  SqliteStore store({path});
  auto st = store.migrate();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StoreErrc::kInternal);
  EXPECT_NE(st.error().message.find("newer"), std::string::npos);
}

TEST(SqliteStoreTest, NotADatabaseFailsAtOpenNamingThePath) {
  TempDir dir;
  const auto path = dir.write("junk.db", std::string(4096, 'x'));
  try {
    SqliteStore store({path});
    FAIL() << "opened a non-database";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

TEST(SqliteStoreTest, UnwritableDirectoryFailsAtOpen) {
  EXPECT_THROW(SqliteStore({"/nonexistent-dir/for/sure/c.db"}), std::runtime_error);
}

}  // namespace
}  // namespace gthulhu::coordinator
