#pragma once
// A Store that forwards everything to another one and adds two cached reads for the
// hot request path: the caller's user record (every authenticated request) and a
// creator's strategy list (GET /api/v1/strategies/self). Without them each request
// costs two store round trips and the rows' decoding; with them a request costs a
// hash lookup.
//
// Staleness bound (README "Coordinator", docs/coordinator-api.md):
//   * a write through THIS object (this replica's REST routes, control loop, bootstrap)
//     empties the affected cache before the write returns, so the next read sees it;
//   * a write this object never sees (another replica on the same database, a direct
//     SQL or mongosh write) is seen once the cached entry is older than `ttl`: every
//     entry is re-read at most `ttl` after it was read. ttl = 0 disables caching.
// Entries read while a write was in flight are not kept (a generation check), so a read
// racing a write through this object can never re-cache the old value.
//
// Only these two reads are cached. Every other read (including the plain get_user and
// list_strategies of this interface) goes to the database, so read-modify-write paths
// with optimistic versions never work from a stale copy.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "coordinator/store/store.h"

namespace gthulhu::coordinator {

class CachingStore final : public Store {
 public:
  using Clock = std::chrono::steady_clock;
  CachingStore(std::shared_ptr<Store> inner, std::chrono::milliseconds ttl);

  Store& inner() { return *inner_; }
  std::chrono::milliseconds ttl() const { return ttl_; }

  // The user with this id, at most ttl old (see above).
  Result<std::shared_ptr<const User>> cached_user(const std::string& id);
  // list_strategies({creator_id}), at most ttl old. The same pointer comes back while
  // the cached list is unchanged, so a caller may memoise what it derives from it.
  Result<std::shared_ptr<const std::vector<Strategy>>> cached_strategies(const std::string& creator_id);

  // Drops every cached entry (what a write through this object does).
  void invalidate_users();
  void invalidate_strategies();

  // ---- Store: forwarded; writes to users / strategies invalidate ----
  std::string backend() const override { return inner_->backend(); }
  Status migrate() override;
  Status ping() override { return inner_->ping(); }

  Result<User> create_user(const User& user) override;
  Result<User> get_user(const std::string& id) override { return inner_->get_user(id); }
  Result<User> get_user_by_username(const std::string& username) override {
    return inner_->get_user_by_username(username);
  }
  Result<std::vector<User>> list_users() override { return inner_->list_users(); }
  Result<User> update_user(const User& user) override;
  Result<User> bump_token_version(const std::string& user_id, UnixMillis now) override;
  Result<std::int64_t> count_users_with_role(const std::string& role_name) override {
    return inner_->count_users_with_role(role_name);
  }

  Status create_refresh_session(const RefreshSession& s) override { return inner_->create_refresh_session(s); }
  Result<RefreshSession> consume_refresh_session(const std::string& token_hash, UnixMillis now) override {
    return inner_->consume_refresh_session(token_hash, now);
  }
  Status delete_refresh_sessions_of_user(const std::string& user_id) override {
    return inner_->delete_refresh_sessions_of_user(user_id);
  }
  Result<std::int64_t> delete_expired_refresh_sessions(UnixMillis now) override {
    return inner_->delete_expired_refresh_sessions(now);
  }

  Result<Role> create_role(const Role& role) override { return inner_->create_role(role); }
  Result<Role> get_role(const std::string& id) override { return inner_->get_role(id); }
  Result<Role> get_role_by_name(const std::string& name) override { return inner_->get_role_by_name(name); }
  Result<std::vector<Role>> list_roles() override { return inner_->list_roles(); }
  Result<std::vector<Role>> get_roles_by_names(const std::vector<std::string>& names) override {
    return inner_->get_roles_by_names(names);
  }
  Result<Role> update_role(const Role& role) override { return inner_->update_role(role); }
  Status delete_role(const std::string& id) override { return inner_->delete_role(id); }

  Status upsert_permissions(const std::vector<Permission>& p) override { return inner_->upsert_permissions(p); }
  Result<std::vector<Permission>> list_permissions() override { return inner_->list_permissions(); }

  Result<Strategy> create_strategy(const Strategy& strategy) override;
  Result<Strategy> get_strategy(const std::string& id) override { return inner_->get_strategy(id); }
  Result<std::vector<Strategy>> list_strategies(const StrategyFilter& filter) override {
    return inner_->list_strategies(filter);
  }
  Result<Strategy> update_strategy(const Strategy& strategy) override;
  Status delete_strategy(const std::string& id) override;

  Status replace_strategy_intents(const std::string& strategy_id, const std::vector<Intent>& intents) override {
    return inner_->replace_strategy_intents(strategy_id, intents);
  }
  Result<std::vector<Intent>> list_intents(const IntentFilter& filter) override {
    return inner_->list_intents(filter);
  }
  Status delete_intents(const std::vector<std::string>& ids, const std::optional<std::string>& creator_id) override {
    return inner_->delete_intents(ids, creator_id);
  }
  Result<Intent> update_intent_state(const std::string& id, IntentState state, const std::string& reason,
                                     UnixMillis now) override {
    return inner_->update_intent_state(id, state, reason, now);
  }
  Result<std::size_t> update_intent_states(const std::vector<IntentStateUpdate>& updates) override {
    return inner_->update_intent_states(updates);
  }

 private:
  // One keyed cache with the generation rule above.
  template <typename V>
  class Table {
   public:
    // The entry for key if fresh; else nullptr and *generation is what to pass to put().
    std::shared_ptr<const V> get(const std::string& key, Clock::time_point now, std::chrono::milliseconds ttl,
                                 std::uint64_t* generation);
    void put(const std::string& key, std::shared_ptr<const V> value, Clock::time_point read_at,
             std::uint64_t generation);
    void clear();

   private:
    struct Entry {
      std::shared_ptr<const V> value;
      Clock::time_point read_at;
    };
    std::mutex mu_;
    std::unordered_map<std::string, Entry> entries_;
    std::uint64_t generation_ = 0;
  };

  // The fresh entry for key, or read() from the database and kept (both reads above).
  template <typename V, typename Read>
  Result<std::shared_ptr<const V>> read_through(Table<V>& table, const std::string& key, Read read);

  std::shared_ptr<Store> inner_;
  std::chrono::milliseconds ttl_;
  Table<User> users_;
  Table<std::vector<Strategy>> strategies_;
};

}  // namespace gthulhu::coordinator
