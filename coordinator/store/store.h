#pragma once
// THE repository interface of the coordinator. Every backend (SQLite in
// store/sqlite_store.*, MongoDB in store/mongo_store.*) implements exactly this and
// passes the contract suite in tests/support/store_contract.h.
//
// Rules every implementation follows (the contract suite checks them):
//   * Thread-safe: one Store is shared by every HTTP worker thread.
//   * Never throws for database trouble: errors come back as StoreError
//     (store/result.h). Lost connection, timeout, "database is locked" -> kUnavailable.
//   * Ids and timestamps come from the caller (domain/types.h). `version` is the
//     store's: create_* stores version 1 whatever the input says and returns the
//     stored record; update_* needs the version the caller read, else
//     kVersionMismatch (kNotFound when the id does not exist), and stores version + 1.
//   * Unique keys -> kConflict: users.username, roles.name, refresh_sessions.token_hash,
//     permissions.key (upsert, never conflicts), and every id.
//   * Lists are ordered by (created_at, id) ascending unless said otherwise; an empty
//     list is a success.
//   * Records round-trip exactly: every field written is read back unchanged
//     (including empty strings, empty vectors/maps and negative numbers).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/domain/types.h"
#include "coordinator/store/result.h"

namespace gthulhu::coordinator {

struct StrategyFilter {
  std::optional<std::string> creator_id;  // only strategies created by this user
};

struct IntentFilter {
  std::optional<std::string> creator_id;
  std::optional<std::string> strategy_id;
  std::optional<std::string> node_id;
};

// One agent-reported state for Store::update_intent_states.
struct IntentStateUpdate {
  std::string id;
  IntentState state = IntentState::kUnknown;
  std::string reason;
  UnixMillis at = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // ---- lifecycle ----
  // "sqlite" or "mongodb", for logs and /health.
  virtual std::string backend() const = 0;
  // Creates or upgrades the schema / indexes; idempotent; called once at start before
  // any other operation. A newer schema than the code knows -> kInternal.
  virtual Status migrate() = 0;
  // Cheap round trip for /health: Ok or kUnavailable.
  virtual Status ping() = 0;

  // ---- users ----
  // kConflict when the username (or id) is taken.
  virtual Result<User> create_user(const User& user) = 0;
  virtual Result<User> get_user(const std::string& id) = 0;
  virtual Result<User> get_user_by_username(const std::string& username) = 0;
  virtual Result<std::vector<User>> list_users() = 0;
  // Replaces username, password_hash, roles, status, token_version and updated_at of the
  // user with user.id if its stored version equals user.version. kConflict when the
  // new username belongs to another user.
  virtual Result<User> update_user(const User& user) = 0;
  // Atomically token_version += 1 (and version += 1, updated_at = now), whatever the
  // version; returns the updated user. Used to revoke every token of a user.
  virtual Result<User> bump_token_version(const std::string& user_id, UnixMillis now) = 0;
  // How many users hold the role (by name).
  virtual Result<std::int64_t> count_users_with_role(const std::string& role_name) = 0;

  // ---- refresh sessions (single-use refresh tokens, stored hashed) ----
  // kConflict when the id or token_hash exists.
  virtual Status create_refresh_session(const RefreshSession& session) = 0;
  // Single use, atomically: finds the session with this token_hash and marks it used.
  // Returns it as it was before (used == false). kNotFound: no such session, or it
  // expired (expires_at <= now). kConflict: it was already used (a replayed token;
  // the caller revokes the user's sessions). Two concurrent calls: exactly one wins.
  virtual Result<RefreshSession> consume_refresh_session(const std::string& token_hash,
                                                         UnixMillis now) = 0;
  // Deletes every session of the user (logout-all, reuse detection). Ok when none.
  virtual Status delete_refresh_sessions_of_user(const std::string& user_id) = 0;
  // Housekeeping: deletes sessions with expires_at <= now; returns how many.
  virtual Result<std::int64_t> delete_expired_refresh_sessions(UnixMillis now) = 0;

  // ---- roles ----
  // kConflict when the name (or id) is taken.
  virtual Result<Role> create_role(const Role& role) = 0;
  virtual Result<Role> get_role(const std::string& id) = 0;
  virtual Result<Role> get_role_by_name(const std::string& name) = 0;
  virtual Result<std::vector<Role>> list_roles() = 0;
  // The roles with these names; names that do not exist are simply absent.
  virtual Result<std::vector<Role>> get_roles_by_names(const std::vector<std::string>& names) = 0;
  // Replaces name, description, policies and updated_at (version checked).
  // kConflict when the new name belongs to another role.
  virtual Result<Role> update_role(const Role& role) = 0;
  virtual Status delete_role(const std::string& id) = 0;

  // ---- permissions (the catalogue of keys; seeded at start) ----
  // Inserts or replaces by key.
  virtual Status upsert_permissions(const std::vector<Permission>& permissions) = 0;
  // Ordered by key.
  virtual Result<std::vector<Permission>> list_permissions() = 0;

  // ---- strategies ----
  virtual Result<Strategy> create_strategy(const Strategy& strategy) = 0;
  virtual Result<Strategy> get_strategy(const std::string& id) = 0;
  virtual Result<std::vector<Strategy>> list_strategies(const StrategyFilter& filter) = 0;
  // Replaces every field but id, creator_id and created_at (version checked).
  virtual Result<Strategy> update_strategy(const Strategy& strategy) = 0;
  // Deletes the strategy AND all its intents. kNotFound when absent.
  virtual Status delete_strategy(const std::string& id) = 0;

  // ---- intents (derived from strategies x pods) ----
  // Replaces every intent of the strategy by `intents` (each has strategy_id ==
  // strategy_id, else kInvalid): one transaction where the backend has them. Stored
  // versions start at 1. An empty list deletes them all.
  virtual Status replace_strategy_intents(const std::string& strategy_id,
                                          const std::vector<Intent>& intents) = 0;
  virtual Result<std::vector<Intent>> list_intents(const IntentFilter& filter) = 0;
  // All or nothing: kNotFound (deleting nothing) when any id does not exist or, with
  // creator_id set, was not created by that user. Duplicate ids count once.
  virtual Status delete_intents(const std::vector<std::string>& ids,
                                const std::optional<std::string>& creator_id) = 0;
  // Records what an agent reported (last writer wins, no version check; version += 1).
  virtual Result<Intent> update_intent_state(const std::string& id, IntentState state,
                                             const std::string& reason, UnixMillis now) = 0;
  // Many such records at once, in one transaction where the backend has them (the
  // control loop's writer batches what agents report: one commit, not one per intent).
  // Ids that no longer exist are skipped (replaced or deleted meanwhile); returns how
  // many were written. The default records them one by one.
  virtual Result<std::size_t> update_intent_states(const std::vector<IntentStateUpdate>& updates);
};

}  // namespace gthulhu::coordinator
