#pragma once
// The embedded default store: one SQLite file, so a single machine needs no database
// server. WAL journal (readers never block the writer), synchronous=FULL (a write that
// was acknowledged survives a crash or power loss), a busy timeout instead of
// immediate SQLITE_BUSY, schema migrations recorded in a schema_version table.
// A small pool of connections serves concurrent requests; list-valued fields
// (roles, policies, selectors, labels) are JSON text columns.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "coordinator/store/store.h"

namespace gthulhu::coordinator {

struct SqliteOptions {
  std::filesystem::path path;                       // the database file (created if absent)
  std::chrono::milliseconds busy_timeout{5000};     // wait this long for a lock -> kUnavailable
  unsigned pool_size = 4;                           // connections (>= 1)
};

class SqliteStore final : public Store {
 public:
  // Opens (creating) the file and checks it is a usable database; throws
  // std::runtime_error naming the path otherwise. Call migrate() next.
  explicit SqliteStore(SqliteOptions options);
  ~SqliteStore() override;

  // The schema version this code creates / understands.
  static int schema_version();

  std::string backend() const override { return "sqlite"; }
  Status migrate() override;
  Status ping() override;

  Result<User> create_user(const User& user) override;
  Result<User> get_user(const std::string& id) override;
  Result<User> get_user_by_username(const std::string& username) override;
  Result<std::vector<User>> list_users() override;
  Result<User> update_user(const User& user) override;
  Result<User> bump_token_version(const std::string& user_id, UnixMillis now) override;
  Result<std::int64_t> count_users_with_role(const std::string& role_name) override;

  Status create_refresh_session(const RefreshSession& session) override;
  Result<RefreshSession> consume_refresh_session(const std::string& token_hash,
                                                 UnixMillis now) override;
  Status delete_refresh_sessions_of_user(const std::string& user_id) override;
  Result<std::int64_t> delete_expired_refresh_sessions(UnixMillis now) override;

  Result<Role> create_role(const Role& role) override;
  Result<Role> get_role(const std::string& id) override;
  Result<Role> get_role_by_name(const std::string& name) override;
  Result<std::vector<Role>> list_roles() override;
  Result<std::vector<Role>> get_roles_by_names(const std::vector<std::string>& names) override;
  Result<Role> update_role(const Role& role) override;
  Status delete_role(const std::string& id) override;

  Status upsert_permissions(const std::vector<Permission>& permissions) override;
  Result<std::vector<Permission>> list_permissions() override;

  Result<Strategy> create_strategy(const Strategy& strategy) override;
  Result<Strategy> get_strategy(const std::string& id) override;
  Result<std::vector<Strategy>> list_strategies(const StrategyFilter& filter) override;
  Result<Strategy> update_strategy(const Strategy& strategy) override;
  Status delete_strategy(const std::string& id) override;

  Status replace_strategy_intents(const std::string& strategy_id,
                                  const std::vector<Intent>& intents) override;
  Result<std::vector<Intent>> list_intents(const IntentFilter& filter) override;
  Status delete_intents(const std::vector<std::string>& ids,
                        const std::optional<std::string>& creator_id) override;
  Result<Intent> update_intent_state(const std::string& id, IntentState state,
                                     const std::string& reason, UnixMillis now) override;
  Result<std::size_t> update_intent_states(const std::vector<IntentStateUpdate>& updates) override;

  class Connection;  // sqlite_store.cpp
  class Pool;

 private:
  SqliteOptions options_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace gthulhu::coordinator
