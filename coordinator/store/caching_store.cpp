#include "coordinator/store/caching_store.h"

namespace gthulhu::coordinator {

namespace {
// Bounds memory: user ids and creators are few; a flood of distinct ids (every id is
// checked against a signed token first) only costs a re-read after a clear.
constexpr std::size_t kMaxEntries = 10000;
}  // namespace

template <typename V>
std::shared_ptr<const V> CachingStore::Table<V>::get(const std::string& key, Clock::time_point now,
                                                     std::chrono::milliseconds ttl,
                                                     std::uint64_t* generation) {
  std::lock_guard lock(mu_);
  *generation = generation_;
  auto it = entries_.find(key);
  if (it == entries_.end() || now - it->second.read_at >= ttl) return nullptr;
  return it->second.value;
}

template <typename V>
void CachingStore::Table<V>::put(const std::string& key, std::shared_ptr<const V> value,
                                 Clock::time_point read_at, std::uint64_t generation) {
  std::lock_guard lock(mu_);
  if (generation != generation_) return;  // a write went through meanwhile: maybe stale
  if (entries_.size() >= kMaxEntries) entries_.clear();
  entries_[key] = Entry{std::move(value), read_at};
}

template <typename V>
void CachingStore::Table<V>::clear() {
  std::lock_guard lock(mu_);
  entries_.clear();
  ++generation_;
}

CachingStore::CachingStore(std::shared_ptr<Store> inner, std::chrono::milliseconds ttl)
    : inner_(std::move(inner)), ttl_(ttl) {}

template <typename V, typename Read>
Result<std::shared_ptr<const V>> CachingStore::read_through(Table<V>& table, const std::string& key, Read read) {
  // The clock is read before the database: an entry's age covers the whole read.
  const auto now = Clock::now();
  std::uint64_t generation = 0;
  if (ttl_.count() > 0) {
    if (auto hit = table.get(key, now, ttl_, &generation)) return hit;
  }
  auto fresh = read();
  if (!fresh.ok()) return fresh.error();
  auto value = std::make_shared<const V>(std::move(fresh).value());
  if (ttl_.count() > 0) table.put(key, value, now, generation);
  return value;
}

Result<std::shared_ptr<const User>> CachingStore::cached_user(const std::string& id) {
  return read_through(users_, id, [&] { return inner_->get_user(id); });
}

Result<std::shared_ptr<const std::vector<Strategy>>> CachingStore::cached_strategies(
    const std::string& creator_id) {
  return read_through(strategies_, creator_id, [&] { return inner_->list_strategies({creator_id}); });
}

void CachingStore::invalidate_users() { users_.clear(); }
void CachingStore::invalidate_strategies() { strategies_.clear(); }

Status CachingStore::migrate() {
  Status st = inner_->migrate();
  invalidate_users();
  invalidate_strategies();
  return st;
}

// Writes: invalidate after the write returns (success or not: a timed-out write may
// still have committed), so the next cached read goes to the database.
Result<User> CachingStore::create_user(const User& user) {
  auto r = inner_->create_user(user);
  invalidate_users();
  return r;
}

Result<User> CachingStore::update_user(const User& user) {
  auto r = inner_->update_user(user);
  invalidate_users();
  return r;
}

Result<User> CachingStore::bump_token_version(const std::string& user_id, UnixMillis now) {
  auto r = inner_->bump_token_version(user_id, now);
  invalidate_users();
  return r;
}

Result<Strategy> CachingStore::create_strategy(const Strategy& strategy) {
  auto r = inner_->create_strategy(strategy);
  invalidate_strategies();
  return r;
}

Result<Strategy> CachingStore::update_strategy(const Strategy& strategy) {
  auto r = inner_->update_strategy(strategy);
  invalidate_strategies();
  return r;
}

Status CachingStore::delete_strategy(const std::string& id) {
  Status st = inner_->delete_strategy(id);
  invalidate_strategies();
  return st;
}

}  // namespace gthulhu::coordinator
