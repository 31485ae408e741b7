#pragma once
// The production store: MongoDB through libmongoc (mongo_pool.h for the connection
// policy, mongo_codec.h for the document shapes). Works on real MongoDB (standalone,
// replica set, sharded through mongos) and on FerretDB, so it uses only what both have:
// no transactions, no change streams, no TTL indexes.
//
//   * Consistency without transactions: every update is one single-document atomic
//     operation. Versioned records are updated with the filter {_id, version} and
//     {$inc: {version: 1}}; no match -> kVersionMismatch, or kNotFound when the id is
//     gone. Refresh tokens are consumed with one findAndModify on {used: false}.
//     On FerretDB, whose updates are not atomic, each of these runs under a record lock
//     (MongoOptions::update_locks).
//   * Multi-document operations (replace_strategy_intents, delete_strategy,
//     delete_intents) hold a per-strategy lock where they can race and are ordered so
//     that a crash between steps leaves a state the next call repairs, never an empty
//     intent set in place of a full one; see mongo_store.cpp.
//   * Durability: every write uses the configured write concern (w: majority, j: true by
//     default) and succeeds only once the server acknowledged it.
//   * Schema: migrate() creates the collections' indexes (unique: users.username,
//     roles.name, permissions.key, refresh_sessions.token_hash; _id everywhere) and
//     records each applied migration in the `schema_migrations` collection. Idempotent;
//     several coordinators may run it at once.
//   * Start-up: while the database cannot be reached, migrate() retries with exponential
//     backoff (one warning line per attempt) — see MongoOptions. Until it has succeeded
//     every operation, ping() included, returns kUnavailable saying why, so a /health
//     served meanwhile reports it. start_async() runs that loop in the background.
//   * Run time: operations fail fast with kUnavailable (bounded by the pool's timeouts)
//     while the server is unreachable and work again as soon as it is back.
#include <array>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "coordinator/store/mongo_pool.h"
#include "coordinator/store/store.h"

namespace gthulhu::coordinator {

class MongoStore final : public Store {
 public:
  // Throws std::invalid_argument for a bad URI or option (see MongoClientPool). Does
  // not contact the server: call migrate() (or start_async()) next.
  explicit MongoStore(MongoOptions options);
  ~MongoStore() override;  // stops a running start_async() / migrate() retry loop

  // The schema version this code creates / understands.
  static int schema_version();

  // Runs migrate() (with its retries) on a background thread and returns at once; the
  // store answers kUnavailable until that succeeds. Call at most once, instead of
  // migrate(). The outcome, once there, is in start_status().
  void start_async();
  // Makes a running migrate() retry loop give up (it returns kUnavailable).
  void cancel_start();
  // True once migrate() has succeeded.
  bool ready() const { return ready_.load(std::memory_order_acquire); }
  // True when single-document updates run under record locks (FerretDB, or forced).
  bool update_locks() const { return locks_.load(); }
  // nullopt while a start is still running or none was made; else its result.
  std::optional<Status> start_status() const;

  std::string backend() const override { return "mongodb"; }
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

  class Ops;  // mongo_store.cpp: the per-operation helpers

 private:
  Status migrate_once();
  Status not_ready() const;
  // Runs fn() holding the lock `key`: always when `multi_document`, else only when
  // update locks are on. R is Status or Result<T>.
  template <typename R, typename F>
  R locked(const std::string& key, bool multi_document, F&& fn);
  Result<std::string> acquire_lock(const std::string& key);  // -> owner token
  void release_lock(const std::string& key, const std::string& owner);

  MongoOptions options_;
  std::unique_ptr<MongoClientPool> pool_;

  std::atomic<bool> ready_{false};
  std::atomic<bool> locks_{false};
  // In-process first, so local waiters queue here instead of polling the database.
  std::array<std::timed_mutex, 64> stripes_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;          // wakes the retry loop on cancel
  std::string not_ready_reason_;        // guarded by mu_
  std::optional<Status> start_status_;  // guarded by mu_
  std::thread starter_;
};

}  // namespace gthulhu::coordinator
