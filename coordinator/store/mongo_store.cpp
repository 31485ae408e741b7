#include "coordinator/store/mongo_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <thread>
#include <random>
#include <set>
#include <utility>

#include "coordinator/store/mongo_codec.h"

namespace gthulhu::coordinator {

using mongo_codec::Doc;
using mongo_codec::append_id;
using mongo_codec::append_id_in;
using mongo_codec::append_string;
using mongo_codec::append_time;

namespace {

constexpr const char* kUsers = "users";
constexpr const char* kSessions = "refresh_sessions";
constexpr const char* kRoles = "roles";
constexpr const char* kPermissions = "permissions";
constexpr const char* kStrategies = "strategies";
constexpr const char* kIntents = "intents";
constexpr const char* kMigrations = "schema_migrations";
constexpr const char* kMeta = "store_meta";
constexpr const char* kLocks = "record_locks";

// ---------------------------------------------------------------- migrations

struct IndexSpec {
  const char* collection;
  const char* name;
  std::vector<std::pair<const char*, int>> keys;
  bool unique = false;
};

struct Migration {
  int version;
  const char* description;
  std::vector<IndexSpec> indexes;
};

// Append-only: never edit an applied migration, add a new one. Every step must be
// idempotent (createIndexes with the same spec is a no-op), since a crash can come
// between a step and its record.
const std::vector<Migration>& migrations() {
  static const std::vector<Migration> all = {
      {1,
       "unique keys",
       {
           {kUsers, "username_unique", {{"username", 1}}, true},
           {kRoles, "name_unique", {{"name", 1}}, true},
           {kPermissions, "key_unique", {{"key", 1}}, true},
           {kSessions, "token_hash_unique", {{"token_hash", 1}}, true},
       }},
      {2,
       "query indexes",
       {
           {kUsers, "created", {{"created_at", 1}, {"_id", 1}}},
           {kUsers, "roles", {{"roles", 1}}},
           {kRoles, "created", {{"created_at", 1}, {"_id", 1}}},
           {kSessions, "user_id", {{"user_id", 1}}},
           {kSessions, "expires_at", {{"expires_at", 1}}},
           {kStrategies, "creator_created", {{"creator_id", 1}, {"created_at", 1}, {"_id", 1}}},
           {kStrategies, "created", {{"created_at", 1}, {"_id", 1}}},
           {kIntents, "strategy_id", {{"strategy_id", 1}}},
           {kIntents, "node_id", {{"node_id", 1}}},
           {kIntents, "creator_id", {{"creator_id", 1}}},
           {kIntents, "created", {{"created_at", 1}, {"_id", 1}}},
       }},
  };
  return all;
}

using Clock = std::chrono::steady_clock;

UnixMillis wall_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> unique_ids(const std::vector<std::string>& ids) {
  std::vector<std::string> out = ids;
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// One statement of an ordered bulk write: insertOne(doc), or
// replaceOne(filter, doc, {upsert: true}).
struct BulkOp {
  enum Kind { kInsert, kUpsert } kind = kUpsert;
  std::unique_ptr<Doc> filter = std::make_unique<Doc>();
  std::unique_ptr<Doc> doc = std::make_unique<Doc>();
};

struct LockInfo {
  std::string owner;
  UnixMillis at = 0;
};

Result<LockInfo> decode_lock(const bson_t* doc) {
  LockInfo l;
  bson_iter_t it;
  if (bson_iter_init_find(&it, doc, "owner") && BSON_ITER_HOLDS_UTF8(&it)) {
    l.owner = bson_iter_utf8(&it, nullptr);
  }
  if (bson_iter_init_find(&it, doc, "at") && BSON_ITER_HOLDS_DATE_TIME(&it)) {
    l.at = bson_iter_date_time(&it);
  }
  return l;
}

// Everything but the store-owned version.
bool same_intent(const Intent& a, const Intent& b) {
  return a.id == b.id && a.strategy_id == b.strategy_id && a.pod_id == b.pod_id &&
         a.pod_name == b.pod_name && a.node_id == b.node_id &&
         a.k8s_namespace == b.k8s_namespace && a.command_regex == b.command_regex &&
         a.priority == b.priority && a.execution_time == b.execution_time &&
         a.pod_labels == b.pod_labels && a.state == b.state &&
         a.state_reason == b.state_reason && a.creator_id == b.creator_id &&
         a.updater_id == b.updater_id && a.created_at == b.created_at &&
         a.updated_at == b.updated_at;
}

// A collection handle for the length of one operation.
class Collection {
 public:
  Collection(mongoc_client_t* client, const std::string& db, const char* name)
      : c_(mongoc_client_get_collection(client, db.c_str(), name)) {}
  ~Collection() { mongoc_collection_destroy(c_); }
  Collection(const Collection&) = delete;
  Collection& operator=(const Collection&) = delete;
  mongoc_collection_t* get() const { return c_; }

 private:
  mongoc_collection_t* c_;
};

int64_t reply_count(const bson_t* reply, const char* key) {
  bson_iter_t it;
  if (bson_iter_init_find(&it, reply, key) && BSON_ITER_HOLDS_NUMBER(&it)) {
    return bson_iter_as_int64(&it);
  }
  return 0;
}

}  // namespace

// ---------------------------------------------------------------- per-operation helpers

class MongoStore::Ops {
 public:
  explicit Ops(MongoClientPool& pool) : pool_(pool) {}

  // Runs fn(collection) on a leased client; kUnavailable when no client can be had.
  template <typename R, typename F>
  R with(const char* collection, F&& fn) {
    auto lease = pool_.acquire();
    if (!lease) return lease.error();
    Collection c(lease->get(), pool_.database(), collection);
    return fn(c.get());
  }

  // {writeConcern: ...} plus whatever `extra` adds.
  void write_opts(bson_t* opts) { pool_.append_write_concern(opts); }

  template <typename T>
  Result<T> find_one(const char* collection, const bson_t* filter,
                     Result<T> (*decode)(const bson_t*), const std::string& what) {
    return with<Result<T>>(collection, [&](mongoc_collection_t* c) -> Result<T> {
      Doc opts;
      BSON_APPEND_INT64(opts.get(), "limit", 1);
      mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(c, filter, opts.get(), nullptr);
      const bson_t* doc = nullptr;
      std::optional<Result<T>> out;
      if (mongoc_cursor_next(cursor, &doc)) out.emplace(decode(doc));
      bson_error_t err{};
      const bool failed = mongoc_cursor_error(cursor, &err);
      mongoc_cursor_destroy(cursor);
      if (failed) return map_mongo_error(err, what);
      if (!out) return not_found(what + ": not found");
      return std::move(*out);
    });
  }

  template <typename T>
  Result<std::vector<T>> find_many(const char* collection, const bson_t* filter,
                                   const bson_t* sort, Result<T> (*decode)(const bson_t*),
                                   const std::string& what) {
    return with<Result<std::vector<T>>>(
        collection, [&](mongoc_collection_t* c) -> Result<std::vector<T>> {
          Doc opts;
          if (sort) BSON_APPEND_DOCUMENT(opts.get(), "sort", sort);
          mongoc_cursor_t* cursor =
              mongoc_collection_find_with_opts(c, filter, opts.get(), nullptr);
          std::vector<T> out;
          std::optional<StoreError> bad;
          const bson_t* doc = nullptr;
          while (!bad && mongoc_cursor_next(cursor, &doc)) {
            auto v = decode(doc);
            if (v) out.push_back(std::move(v).value());
            else bad = v.error();
          }
          bson_error_t err{};
          const bool failed = mongoc_cursor_error(cursor, &err);
          mongoc_cursor_destroy(cursor);
          if (failed) return map_mongo_error(err, what);
          if (bad) return *bad;
          return out;
        });
  }

  Result<int64_t> count(const char* collection, const bson_t* filter, const std::string& what) {
    return with<Result<int64_t>>(collection, [&](mongoc_collection_t* c) -> Result<int64_t> {
      bson_error_t err{};
      const int64_t n = mongoc_collection_count_documents(c, filter, nullptr, nullptr, nullptr, &err);
      if (n < 0) return map_mongo_error(err, what);
      return n;
    });
  }

  Status insert(const char* collection, const bson_t* doc, const std::string& what) {
    return with<Status>(collection, [&](mongoc_collection_t* c) -> Status {
      Doc opts, reply;
      write_opts(opts.get());
      bson_error_t err{};
      if (!mongoc_collection_insert_one(c, doc, opts.get(), reply.get(), &err)) {
        return map_mongo_error(err, what);
      }
      return Status::Ok();
    });
  }

  // deleteMany / deleteOne; returns deletedCount.
  Result<int64_t> remove(const char* collection, const bson_t* filter, bool many,
                         const std::string& what) {
    return with<Result<int64_t>>(collection, [&](mongoc_collection_t* c) -> Result<int64_t> {
      Doc opts, reply;
      write_opts(opts.get());
      bson_error_t err{};
      const bool ok = many ? mongoc_collection_delete_many(c, filter, opts.get(), reply.get(), &err)
                           : mongoc_collection_delete_one(c, filter, opts.get(), reply.get(), &err);
      if (!ok) return map_mongo_error(err, what);
      return reply_count(reply.get(), "deletedCount");
    });
  }

  // One findAndModify. The document after (return_new) or before the update, or
  // nullopt when nothing matched; decoded with `decode`.
  template <typename T>
  Result<std::optional<T>> find_and_modify(const char* collection, const bson_t* filter,
                                           const bson_t* update, bool return_new,
                                           Result<T> (*decode)(const bson_t*),
                                           const std::string& what) {
    return with<Result<std::optional<T>>>(
        collection, [&](mongoc_collection_t* c) -> Result<std::optional<T>> {
          mongoc_find_and_modify_opts_t* fam = mongoc_find_and_modify_opts_new();
          mongoc_find_and_modify_opts_set_update(fam, update);
          mongoc_find_and_modify_opts_set_flags(
              fam, return_new ? MONGOC_FIND_AND_MODIFY_RETURN_NEW : MONGOC_FIND_AND_MODIFY_NONE);
          Doc extra, reply;
          write_opts(extra.get());
          mongoc_find_and_modify_opts_append(fam, extra.get());
          bson_error_t err{};
          const bool ok =
              mongoc_collection_find_and_modify_with_opts(c, filter, fam, reply.get(), &err);
          mongoc_find_and_modify_opts_destroy(fam);
          if (!ok) return map_mongo_error(err, what);
          bson_iter_t it;
          if (!bson_iter_init_find(&it, reply.get(), "value") || !BSON_ITER_HOLDS_DOCUMENT(&it)) {
            return std::optional<T>();
          }
          uint32_t len = 0;
          const uint8_t* data = nullptr;
          bson_iter_document(&it, &len, &data);
          bson_t value;
          if (!bson_init_static(&value, data, len)) {
            return internal_error(what + ": malformed reply");
          }
          auto decoded = decode(&value);
          if (!decoded) return decoded.error();
          return std::optional<T>(std::move(decoded).value());
        });
  }

  // A versioned update: {_id, version} -> $set `set`, $inc version. The updated record,
  // kVersionMismatch when the id exists with another version, else kNotFound.
  template <typename T>
  Result<T> versioned_update(const char* collection, const std::string& id, int64_t version,
                             const bson_t* set, Result<T> (*decode)(const bson_t*),
                             const std::string& what) {
    Doc filter, update;
    append_id(filter.get(), "_id", id);
    BSON_APPEND_INT64(filter.get(), "version", version);
    BSON_APPEND_DOCUMENT(update.get(), "$set", set);
    bson_t inc;
    BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$inc", &inc);
    BSON_APPEND_INT64(&inc, "version", 1);
    bson_append_document_end(update.get(), &inc);
    auto r = find_and_modify<T>(collection, filter.get(), update.get(), true, decode, what);
    if (!r) return r.error();
    if (*r) return std::move(**r);
    return missing_or_stale(collection, id, what);
  }

  // After an update matched nothing: does the id exist at all?
  StoreError missing_or_stale(const char* collection, const std::string& id,
                              const std::string& what) {
    Doc filter;
    append_id(filter.get(), "_id", id);
    auto n = count(collection, filter.get(), what);
    if (!n) return n.error();
    if (*n == 0) return not_found(what + ": not found");
    return version_mismatch(what + ": the record was changed by someone else; read it again");
  }

  // One ordered bulk write; stops at the first failing statement.
  Status bulk(const char* collection, const std::vector<BulkOp>& statements,
              const std::string& what) {
    if (statements.empty()) return Status::Ok();
    return with<Status>(collection, [&](mongoc_collection_t* c) -> Status {
      Doc opts, stmt_opts, reply;
      BSON_APPEND_BOOL(opts.get(), "ordered", true);
      write_opts(opts.get());
      BSON_APPEND_BOOL(stmt_opts.get(), "upsert", true);
      mongoc_bulk_operation_t* bulk = mongoc_collection_create_bulk_operation_with_opts(c, opts.get());
      bson_error_t err{};
      for (const auto& st : statements) {
        const bool added =
            st.kind == BulkOp::kInsert
                ? mongoc_bulk_operation_insert_with_opts(bulk, st.doc->get(), nullptr, &err)
                : mongoc_bulk_operation_replace_one_with_opts(bulk, st.filter->get(),
                                                              st.doc->get(), stmt_opts.get(), &err);
        if (!added) {
          mongoc_bulk_operation_destroy(bulk);
          return map_mongo_error(err, what);
        }
      }
      const uint32_t server = mongoc_bulk_operation_execute(bulk, reply.get(), &err);
      mongoc_bulk_operation_destroy(bulk);
      if (server == 0) return map_mongo_error(err, what);
      return Status::Ok();
    });
  }

  MongoClientPool& pool() { return pool_; }

 private:
  MongoClientPool& pool_;
};

namespace {

void sort_by_creation(bson_t* sort) {
  BSON_APPEND_INT32(sort, "created_at", 1);
  BSON_APPEND_INT32(sort, "_id", 1);
}

void inc_version(bson_t* update) {
  bson_t inc;
  BSON_APPEND_DOCUMENT_BEGIN(update, "$inc", &inc);
  BSON_APPEND_INT64(&inc, "version", 1);
  bson_append_document_end(update, &inc);
}

}  // namespace

// ---------------------------------------------------------------- lifecycle

MongoStore::MongoStore(MongoOptions options)
    : options_(std::move(options)), pool_(std::make_unique<MongoClientPool>(options_)) {
  std::lock_guard lock(mu_);
  not_ready_reason_ = "schema migration has not run yet";
}

MongoStore::~MongoStore() {
  cancel_start();
  if (starter_.joinable()) starter_.join();
}

int MongoStore::schema_version() { return migrations().back().version; }

void MongoStore::start_async() {
  if (starter_.joinable()) return;
  starter_ = std::thread([this] {
    Status st = migrate();
    std::lock_guard lock(mu_);
    start_status_ = st;
  });
}

void MongoStore::cancel_start() {
  {
    std::lock_guard lock(mu_);
    stopping_.store(true);
  }
  cv_.notify_all();
}

std::optional<Status> MongoStore::start_status() const {
  std::lock_guard lock(mu_);
  return start_status_;
}

Status MongoStore::not_ready() const {
  std::lock_guard lock(mu_);
  return unavailable("database not ready: " + not_ready_reason_);
}

// ---------------------------------------------------------------- record locks

template <typename R, typename F>
R MongoStore::locked(const std::string& key, bool multi_document, F&& fn) {
  if (!multi_document && !locks_.load()) return fn();
  std::unique_lock stripe(stripes_[std::hash<std::string>{}(key) % stripes_.size()],
                          std::defer_lock);
  if (!stripe.try_lock_for(options_.lock_wait)) {
    return unavailable("record " + key + " is busy: too many concurrent updates");
  }
  auto owner = acquire_lock(key);
  if (!owner) return owner.error();
  R r = fn();
  release_lock(key, *owner);
  return r;
}

Result<std::string> MongoStore::acquire_lock(const std::string& key) {
  Ops ops(*pool_);
  const std::string owner = new_id();
  const auto deadline = Clock::now() + options_.lock_wait;
  auto backoff = std::chrono::milliseconds(2);
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0 && Clock::now() >= deadline) {
      return unavailable("record " + key + " is busy: another coordinator holds its lock");
    }
    Doc lock;
    append_string(lock.get(), "_id", key);
    append_string(lock.get(), "owner", owner);
    append_time(lock.get(), "at", wall_now_ms());
    Status st = ops.insert(kLocks, lock.get(), "lock record");
    if (st) return owner;
    if (st.code() != StoreErrc::kConflict) return st.error();

    // Held. By a crashed holder? Then take it over once its lease has run out.
    Doc by_key;
    append_string(by_key.get(), "_id", key);
    auto holder = ops.find_one<LockInfo>(kLocks, by_key.get(), decode_lock, "record lock");
    if (!holder) {
      if (holder.code() == StoreErrc::kNotFound) continue;  // released meanwhile
      return holder.error();
    }
    if (holder->at + options_.lock_lease.count() < wall_now_ms()) {
      spdlog::warn("mongodb: taking over the lock on {} left by {} since {} (lease expired)", key,
                   holder->owner, holder->at);
      Doc stale;
      append_string(stale.get(), "_id", key);
      append_string(stale.get(), "owner", holder->owner);
      auto n = ops.remove(kLocks, stale.get(), false, "take over record lock");
      if (!n) return n.error();
      continue;
    }
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(backoff, deadline - Clock::now()));
    backoff = std::min(backoff * 2, std::chrono::milliseconds(50));
  }
}

void MongoStore::release_lock(const std::string& key, const std::string& owner) {
  Doc mine;
  append_string(mine.get(), "_id", key);
  append_string(mine.get(), "owner", owner);
  auto n = Ops(*pool_).remove(kLocks, mine.get(), false, "unlock record");
  if (!n) {
    // Not fatal: the lease runs out and the next writer takes the lock over.
    spdlog::warn("mongodb: could not release the lock on {}: {}", key, n.error().message);
  }
}

Status MongoStore::migrate() {
  const auto started = Clock::now();
  auto backoff = std::max(options_.retry_initial_backoff, std::chrono::milliseconds(1));
  std::minstd_rand jitter(static_cast<unsigned>(Clock::now().time_since_epoch().count()));
  for (int attempt = 1;; ++attempt) {
    Status st = migrate_once();
    if (st.ok()) {
      ready_.store(true, std::memory_order_release);
      std::lock_guard lock(mu_);
      not_ready_reason_.clear();
      return st;
    }
    {
      std::lock_guard lock(mu_);
      not_ready_reason_ = (st.code() == StoreErrc::kUnavailable ? "waiting for the database (attempt " +
                                                                     std::to_string(attempt) + "): "
                                                               : std::string("migration failed: ")) +
                          st.error().message;
    }
    if (st.code() != StoreErrc::kUnavailable) {
      spdlog::error("mongodb: schema migration on {} failed: {}", pool_->redacted_uri(),
                    st.error().message);
      return st;
    }
    // +-20% jitter so that several coordinators do not retry in lockstep.
    const auto wait = std::chrono::milliseconds(
        backoff.count() * (80 + static_cast<long>(jitter() % 41)) / 100);
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    if (stopping_.load()) return st;
    if (options_.start_timeout.count() > 0 && elapsed + wait > options_.start_timeout) {
      spdlog::error("mongodb: database {} still unavailable after {} attempts in {} ms; giving up: {}",
                    pool_->redacted_uri(), attempt, elapsed.count(), st.error().message);
      return st;
    }
    spdlog::warn("mongodb: database {} unavailable at start (attempt {}): {}; retrying in {} ms",
                 pool_->redacted_uri(), attempt, st.error().message, wait.count());
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, wait, [this] { return stopping_.load(); });
    if (stopping_.load()) return st;
    backoff = std::min(backoff * 2, std::max(options_.retry_max_backoff, backoff));
  }
}

Status MongoStore::migrate_once() {
  Ops ops(*pool_);
  // What has been applied?
  Doc all, sort;
  BSON_APPEND_INT32(sort.get(), "_id", 1);
  std::set<int> applied;
  int newest = 0;
  Status listed = ops.with<Status>(kMigrations, [&](mongoc_collection_t* c) -> Status {
    Doc opts;
    BSON_APPEND_DOCUMENT(opts.get(), "sort", sort.get());
    mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(c, all.get(), opts.get(), nullptr);
    const bson_t* doc = nullptr;
    while (mongoc_cursor_next(cursor, &doc)) {
      bson_iter_t it;
      if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_NUMBER(&it)) {
        const int v = static_cast<int>(bson_iter_as_int64(&it));
        applied.insert(v);
        newest = std::max(newest, v);
      }
    }
    bson_error_t err{};
    const bool failed = mongoc_cursor_error(cursor, &err);
    mongoc_cursor_destroy(cursor);
    if (failed) return map_mongo_error(err, "read schema migrations");
    return Status::Ok();
  });
  if (!listed) return listed;
  if (newest > schema_version()) {
    return internal_error("database schema version " + std::to_string(newest) +
                          " is newer than this coordinator knows (" +
                          std::to_string(schema_version()) + "); upgrade the coordinator");
  }

  // FerretDB? (buildInfo is outside Stable API v1: real MongoDB refuses it under
  // apiStrict, which simply means "not FerretDB".)
  bool ferretdb = false;
  {
    auto lease = pool_->acquire();
    if (!lease) return lease.error();
    Doc cmd, reply;
    BSON_APPEND_INT32(cmd.get(), "buildInfo", 1);
    bson_error_t err{};
    if (mongoc_client_command_simple(lease->get(), "admin", cmd.get(), nullptr, reply.get(), &err)) {
      bson_iter_t it;
      if (bson_iter_init_find(&it, reply.get(), "ferretdbVersion") && BSON_ITER_HOLDS_UTF8(&it)) {
        ferretdb = true;
        spdlog::info("mongodb: server is FerretDB {}", bson_iter_utf8(&it, nullptr));
      }
    } else if (is_unavailable_error(err)) {
      return map_mongo_error(err, "buildInfo");
    }
  }
  const bool want_locks = options_.update_locks == MongoOptions::UpdateLocks::kAlways ||
                          (options_.update_locks == MongoOptions::UpdateLocks::kAuto && ferretdb);
  if (want_locks && !locks_.load()) {
    spdlog::info("mongodb: single-document updates run under record locks{}",
                 ferretdb ? " (FerretDB does not apply an update atomically)" : "");
  }
  locks_.store(want_locks);

  // A write with the configured write concern. A server without journaling rejects j:true;
  // fall back to w without j there (a warning says so) rather than not starting.
  auto probe = [&]() -> Status {
    std::vector<BulkOp> one(1);
    append_string(one[0].filter->get(), "_id", "writer");
    bson_t* doc = one[0].doc->get();
    append_string(doc, "_id", "writer");
    append_string(doc, "app", options_.app_name);
    append_time(doc, "started_at", wall_now_ms());
    BSON_APPEND_INT32(doc, "schema_version", schema_version());
    return ops.bulk(kMeta, one, "start-up write check");
  };
  Status probed = probe();
  if (!probed && probed.code() == StoreErrc::kInternal && pool_->journal()) {
    pool_->set_journal(false);
    probed = probe();
    if (probed) {
      spdlog::warn("mongodb: the server rejects j:true (no journal): writes are acknowledged "
                   "by w={} without journal confirmation", options_.write_concern_w);
    } else {
      pool_->set_journal(true);  // not a journaling problem after all
    }
  }
  if (!probed) return probed;

  auto lease = pool_->acquire();
  if (!lease) return lease.error();
  mongoc_database_t* db = mongoc_client_get_database(lease->get(), pool_->database().c_str());
  struct DbCloser {
    mongoc_database_t* db;
    ~DbCloser() { mongoc_database_destroy(db); }
  } closer{db};

  for (const auto& m : migrations()) {
    if (applied.count(m.version)) continue;
    spdlog::info("mongodb: applying schema migration {} ({})", m.version, m.description);
    // createIndexes, one command per collection.
    std::vector<const char*> collections;
    for (const auto& ix : m.indexes) {
      if (std::find_if(collections.begin(), collections.end(), [&](const char* c) {
            return std::string_view(c) == ix.collection;
          }) == collections.end()) {
        collections.push_back(ix.collection);
      }
    }
    for (const char* coll : collections) {
      Doc cmd, opts, reply;
      BSON_APPEND_UTF8(cmd.get(), "createIndexes", coll);
      bson_t arr;
      BSON_APPEND_ARRAY_BEGIN(cmd.get(), "indexes", &arr);
      uint32_t i = 0;
      for (const auto& ix : m.indexes) {
        if (std::string_view(ix.collection) != coll) continue;
        char buf[16];
        const char* key = nullptr;
        bson_uint32_to_string(i++, &key, buf, sizeof buf);
        bson_t spec, keys;
        BSON_APPEND_DOCUMENT_BEGIN(&arr, key, &spec);
        BSON_APPEND_DOCUMENT_BEGIN(&spec, "key", &keys);
        for (const auto& [field, dir] : ix.keys) BSON_APPEND_INT32(&keys, field, dir);
        bson_append_document_end(&spec, &keys);
        BSON_APPEND_UTF8(&spec, "name", ix.name);
        if (ix.unique) BSON_APPEND_BOOL(&spec, "unique", true);
        bson_append_document_end(&arr, &spec);
      }
      bson_append_array_end(cmd.get(), &arr);
      pool_->append_write_concern(opts.get());
      bson_error_t err{};
      if (!mongoc_database_write_command_with_opts(db, cmd.get(), opts.get(), reply.get(), &err)) {
        return map_mongo_error(err, std::string("create indexes on ") + coll);
      }
    }
    Doc record;
    BSON_APPEND_INT32(record.get(), "_id", m.version);
    BSON_APPEND_UTF8(record.get(), "description", m.description);
    append_time(record.get(), "applied_at", wall_now_ms());
    append_string(record.get(), "applied_by", options_.app_name);
    Status recorded = ops.insert(kMigrations, record.get(), "record schema migration");
    if (!recorded && recorded.code() != StoreErrc::kConflict) return recorded;  // conflict:
    // another coordinator recorded it first, which is just as good.
  }
  spdlog::info("mongodb: connected to {} (database {}), schema version {}", pool_->redacted_uri(),
               pool_->database(), schema_version());
  return Status::Ok();
}

Status MongoStore::ping() {
  if (!ready()) return not_ready();
  return pool_->ping();
}

// ---------------------------------------------------------------- users

Result<User> MongoStore::create_user(const User& user) {
  if (!ready()) return not_ready().error();
  User stored = user;
  stored.version = 1;
  Doc doc;
  mongo_codec::encode(stored, doc.get());
  Status st = Ops(*pool_).insert(kUsers, doc.get(), "create user");
  if (!st) {
    if (st.code() == StoreErrc::kConflict) return conflict("the username or user id is taken");
    return st.error();
  }
  return stored;
}

Result<User> MongoStore::get_user(const std::string& id) {
  if (!ready()) return not_ready().error();
  Doc filter;
  append_id(filter.get(), "_id", id);
  return Ops(*pool_).find_one<User>(kUsers, filter.get(), mongo_codec::decode_user, "user");
}

Result<User> MongoStore::get_user_by_username(const std::string& username) {
  if (!ready()) return not_ready().error();
  Doc filter;
  append_string(filter.get(), "username", username);
  return Ops(*pool_).find_one<User>(kUsers, filter.get(), mongo_codec::decode_user, "user");
}

Result<std::vector<User>> MongoStore::list_users() {
  if (!ready()) return not_ready().error();
  Doc filter, sort;
  sort_by_creation(sort.get());
  return Ops(*pool_).find_many<User>(kUsers, filter.get(), sort.get(), mongo_codec::decode_user,
                                     "list users");
}

Result<User> MongoStore::update_user(const User& user) {
  if (!ready()) return not_ready().error();
  Doc set;
  mongo_codec::encode_user_update(user, set.get());
  auto r = locked<Result<User>>("users/" + user.id, false, [&] {
    return Ops(*pool_).versioned_update<User>(kUsers, user.id, user.version, set.get(),
                                              mongo_codec::decode_user, "update user");
  });
  if (!r && r.code() == StoreErrc::kConflict) return conflict("the username is taken");
  return r;
}

Result<User> MongoStore::bump_token_version(const std::string& user_id, UnixMillis now) {
  if (!ready()) return not_ready().error();
  Doc filter, update;
  append_id(filter.get(), "_id", user_id);
  bson_t inc, set;
  BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$inc", &inc);
  BSON_APPEND_INT64(&inc, "token_version", 1);
  BSON_APPEND_INT64(&inc, "version", 1);
  bson_append_document_end(update.get(), &inc);
  BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$set", &set);
  append_time(&set, "updated_at", now);
  bson_append_document_end(update.get(), &set);
  auto r = locked<Result<std::optional<User>>>("users/" + user_id, false, [&] {
    return Ops(*pool_).find_and_modify<User>(kUsers, filter.get(), update.get(), true,
                                             mongo_codec::decode_user, "bump token version");
  });
  if (!r) return r.error();
  if (!*r) return not_found("user not found");
  return std::move(**r);
}

Result<std::int64_t> MongoStore::count_users_with_role(const std::string& role_name) {
  if (!ready()) return not_ready().error();
  Doc filter;
  append_string(filter.get(), "roles", role_name);
  return Ops(*pool_).count(kUsers, filter.get(), "count users with role");
}

// ---------------------------------------------------------------- refresh sessions

Status MongoStore::create_refresh_session(const RefreshSession& session) {
  if (!ready()) return not_ready();
  Doc doc;
  mongo_codec::encode(session, doc.get());
  Status st = Ops(*pool_).insert(kSessions, doc.get(), "create refresh session");
  if (!st && st.code() == StoreErrc::kConflict) {
    return conflict("a refresh session with this id or token exists");
  }
  return st;
}

Result<RefreshSession> MongoStore::consume_refresh_session(const std::string& token_hash,
                                                           UnixMillis now) {
  if (!ready()) return not_ready().error();
  Ops ops(*pool_);
  // One atomic step: the unused, unexpired session is marked used; the old image is
  // returned. Of two concurrent calls exactly one matches {used: false}.
  Doc filter, update;
  append_string(filter.get(), "token_hash", token_hash);
  BSON_APPEND_BOOL(filter.get(), "used", false);
  bson_t gt, set;
  BSON_APPEND_DOCUMENT_BEGIN(filter.get(), "expires_at", &gt);
  append_time(&gt, "$gt", now);
  bson_append_document_end(filter.get(), &gt);
  BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$set", &set);
  BSON_APPEND_BOOL(&set, "used", true);
  bson_append_document_end(update.get(), &set);
  auto r = locked<Result<std::optional<RefreshSession>>>("refresh/" + token_hash, false, [&] {
    return ops.find_and_modify<RefreshSession>(kSessions, filter.get(), update.get(), false,
                                               mongo_codec::decode_refresh_session,
                                               "consume refresh session");
  });
  if (!r) return r.error();
  if (*r) return std::move(**r);

  // Nothing matched: say why.
  Doc by_hash;
  append_string(by_hash.get(), "token_hash", token_hash);
  auto s = ops.find_one<RefreshSession>(kSessions, by_hash.get(),
                                        mongo_codec::decode_refresh_session, "refresh session");
  if (!s) return s.error();
  if (s->expires_at <= now) return not_found("refresh session expired");
  return conflict("refresh token already used");
}

Status MongoStore::delete_refresh_sessions_of_user(const std::string& user_id) {
  if (!ready()) return not_ready();
  Doc filter;
  append_string(filter.get(), "user_id", user_id);
  auto r = Ops(*pool_).remove(kSessions, filter.get(), true, "delete refresh sessions");
  if (!r) return r.error();
  return Status::Ok();
}

Result<std::int64_t> MongoStore::delete_expired_refresh_sessions(UnixMillis now) {
  if (!ready()) return not_ready().error();
  Doc filter;
  bson_t lte;
  BSON_APPEND_DOCUMENT_BEGIN(filter.get(), "expires_at", &lte);
  append_time(&lte, "$lte", now);
  bson_append_document_end(filter.get(), &lte);
  return Ops(*pool_).remove(kSessions, filter.get(), true, "delete expired refresh sessions");
}

// ---------------------------------------------------------------- roles

Result<Role> MongoStore::create_role(const Role& role) {
  if (!ready()) return not_ready().error();
  Role stored = role;
  stored.version = 1;
  Doc doc;
  mongo_codec::encode(stored, doc.get());
  Status st = Ops(*pool_).insert(kRoles, doc.get(), "create role");
  if (!st) {
    if (st.code() == StoreErrc::kConflict) return conflict("the role name or id is taken");
    return st.error();
  }
  return stored;
}

Result<Role> MongoStore::get_role(const std::string& id) {
  if (!ready()) return not_ready().error();
  Doc filter;
  append_id(filter.get(), "_id", id);
  return Ops(*pool_).find_one<Role>(kRoles, filter.get(), mongo_codec::decode_role, "role");
}

Result<Role> MongoStore::get_role_by_name(const std::string& name) {
  if (!ready()) return not_ready().error();
  Doc filter;
  append_string(filter.get(), "name", name);
  return Ops(*pool_).find_one<Role>(kRoles, filter.get(), mongo_codec::decode_role, "role");
}

Result<std::vector<Role>> MongoStore::list_roles() {
  if (!ready()) return not_ready().error();
  Doc filter, sort;
  sort_by_creation(sort.get());
  return Ops(*pool_).find_many<Role>(kRoles, filter.get(), sort.get(), mongo_codec::decode_role,
                                     "list roles");
}

Result<std::vector<Role>> MongoStore::get_roles_by_names(const std::vector<std::string>& names) {
  if (!ready()) return not_ready().error();
  if (names.empty()) return std::vector<Role>{};
  Doc filter, sort;
  bson_t in, arr;
  BSON_APPEND_DOCUMENT_BEGIN(filter.get(), "name", &in);
  BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
  uint32_t i = 0;
  for (const auto& n : names) {
    char buf[16];
    const char* key = nullptr;
    bson_uint32_to_string(i++, &key, buf, sizeof buf);
    append_string(&arr, key, n);
  }
  bson_append_array_end(&in, &arr);
  bson_append_document_end(filter.get(), &in);
  sort_by_creation(sort.get());
  return Ops(*pool_).find_many<Role>(kRoles, filter.get(), sort.get(), mongo_codec::decode_role,
                                     "roles by names");
}

Result<Role> MongoStore::update_role(const Role& role) {
  if (!ready()) return not_ready().error();
  Doc set;
  mongo_codec::encode_role_update(role, set.get());
  auto r = locked<Result<Role>>("roles/" + role.id, false, [&] {
    return Ops(*pool_).versioned_update<Role>(kRoles, role.id, role.version, set.get(),
                                              mongo_codec::decode_role, "update role");
  });
  if (!r && r.code() == StoreErrc::kConflict) return conflict("the role name is taken");
  return r;
}

Status MongoStore::delete_role(const std::string& id) {
  if (!ready()) return not_ready();
  Doc filter;
  append_id(filter.get(), "_id", id);
  auto n = Ops(*pool_).remove(kRoles, filter.get(), false, "delete role");
  if (!n) return n.error();
  if (*n == 0) return not_found("role not found");
  return Status::Ok();
}

// ---------------------------------------------------------------- permissions

Status MongoStore::upsert_permissions(const std::vector<Permission>& permissions) {
  if (!ready()) return not_ready();
  if (permissions.empty()) return Status::Ok();
  std::vector<BulkOp> statements(permissions.size());
  for (size_t i = 0; i < permissions.size(); ++i) {
    append_string(statements[i].filter->get(), "_id", permissions[i].key);
    mongo_codec::encode(permissions[i], statements[i].doc->get());
  }
  Ops ops(*pool_);
  Status st = ops.bulk(kPermissions, statements, "upsert permissions");
  // Two concurrent upserts of a new key can both try the insert; the loser's retry
  // finds the document and replaces it.
  if (!st && st.code() == StoreErrc::kConflict) {
    st = ops.bulk(kPermissions, statements, "upsert permissions");
  }
  return st;
}

Result<std::vector<Permission>> MongoStore::list_permissions() {
  if (!ready()) return not_ready().error();
  Doc filter, sort;
  BSON_APPEND_INT32(sort.get(), "key", 1);
  return Ops(*pool_).find_many<Permission>(kPermissions, filter.get(), sort.get(),
                                           mongo_codec::decode_permission, "list permissions");
}

// ---------------------------------------------------------------- strategies

Result<Strategy> MongoStore::create_strategy(const Strategy& strategy) {
  if (!ready()) return not_ready().error();
  Strategy stored = strategy;
  stored.version = 1;
  Doc doc;
  mongo_codec::encode(stored, doc.get());
  Status st = Ops(*pool_).insert(kStrategies, doc.get(), "create strategy");
  if (!st) {
    if (st.code() == StoreErrc::kConflict) return conflict("a strategy with this id exists");
    return st.error();
  }
  return stored;
}

Result<Strategy> MongoStore::get_strategy(const std::string& id) {
  if (!ready()) return not_ready().error();
  Doc filter;
  append_id(filter.get(), "_id", id);
  return Ops(*pool_).find_one<Strategy>(kStrategies, filter.get(), mongo_codec::decode_strategy,
                                        "strategy");
}

Result<std::vector<Strategy>> MongoStore::list_strategies(const StrategyFilter& f) {
  if (!ready()) return not_ready().error();
  Doc filter, sort;
  if (f.creator_id) append_string(filter.get(), "creator_id", *f.creator_id);
  sort_by_creation(sort.get());
  return Ops(*pool_).find_many<Strategy>(kStrategies, filter.get(), sort.get(),
                                         mongo_codec::decode_strategy, "list strategies");
}

Result<Strategy> MongoStore::update_strategy(const Strategy& strategy) {
  if (!ready()) return not_ready().error();
  Doc set;
  mongo_codec::encode_strategy_update(strategy, set.get());
  return locked<Result<Strategy>>("strategies/" + strategy.id, false, [&] {
    return Ops(*pool_).versioned_update<Strategy>(kStrategies, strategy.id, strategy.version,
                                                  set.get(), mongo_codec::decode_strategy,
                                                  "update strategy");
  });
}

Status MongoStore::delete_strategy(const std::string& id) {
  if (!ready()) return not_ready();
  // Without transactions: intents first, then the strategy. A crash in between leaves
  // a strategy without intents (the next replan derives them again), never intents
  // without a strategy. The per-strategy lock keeps a concurrent replace from slipping
  // intents in between; a final sweep catches any writer that does not take it.
  return locked<Status>("intents-of/" + id, true, [&]() -> Status {
    Ops ops(*pool_);
    Doc of_strategy, by_id;
    append_string(of_strategy.get(), "strategy_id", id);
    append_id(by_id.get(), "_id", id);
    auto n = ops.remove(kIntents, of_strategy.get(), true, "delete intents of strategy");
    if (!n) return n.error();
    n = ops.remove(kStrategies, by_id.get(), false, "delete strategy");
    if (!n) return n.error();
    if (*n == 0) return not_found("strategy not found");
    n = ops.remove(kIntents, of_strategy.get(), true, "delete intents of strategy");
    if (!n) return n.error();
    return Status::Ok();
  });
}

// ---------------------------------------------------------------- intents

Status MongoStore::replace_strategy_intents(const std::string& strategy_id,
                                            const std::vector<Intent>& intents) {
  if (!ready()) return not_ready();
  std::vector<std::string> ids;
  ids.reserve(intents.size());
  for (const auto& i : intents) {
    if (i.strategy_id != strategy_id) {
      return invalid("intent " + i.id + " belongs to strategy " + i.strategy_id + ", not " +
                     strategy_id);
    }
    ids.push_back(i.id);
  }
  if (unique_ids(ids).size() != ids.size()) return invalid("duplicate intent id in the set");

  // No transactions. Under the strategy's lock: read the current set, write only the
  // difference — new intents inserted, changed ones replaced, then the ones no longer
  // wanted deleted — so a reader (an agent) sees the old set, a mix or the new set but
  // never an empty one in between, and an unchanged set costs no write at all.
  return locked<Status>("intents-of/" + strategy_id, true, [&]() -> Status {
    Ops ops(*pool_);
    Doc of_strategy;
    append_string(of_strategy.get(), "strategy_id", strategy_id);
    auto current = ops.find_many<Intent>(kIntents, of_strategy.get(), nullptr,
                                         mongo_codec::decode_intent, "replace intents");
    if (!current) return current.error();
    std::map<std::string, const Intent*> existing;
    for (const auto& i : *current) existing.emplace(i.id, &i);

    std::vector<BulkOp> writes;
    std::vector<std::string> inserted;
    for (const auto& intent : intents) {
      BulkOp op;
      auto it = existing.find(intent.id);
      if (it == existing.end()) {
        op.kind = BulkOp::kInsert;
        inserted.push_back(intent.id);
      } else {
        // Unchanged (and as a fresh write would leave it): nothing to write.
        const bool unchanged = it->second->version == 1 && same_intent(*it->second, intent);
        existing.erase(it);
        if (unchanged) continue;
        op.kind = BulkOp::kUpsert;
      }
      append_id(op.filter->get(), "_id", intent.id);
      append_string(op.filter->get(), "strategy_id", strategy_id);
      Intent stored = intent;
      stored.version = 1;
      mongo_codec::encode(stored, op.doc->get());
      writes.push_back(std::move(op));
    }
    // `existing` now holds exactly the intents to delete.

    if (!inserted.empty()) {
      // An id held by another strategy's intent would fail the bulk half-way.
      Doc taken;
      append_id_in(taken.get(), "_id", inserted);
      auto n = ops.count(kIntents, taken.get(), "replace intents");
      if (!n) return n.error();
      if (*n > 0) return conflict("an intent id belongs to another strategy");
    }
    if (!writes.empty()) {
      Status st = ops.bulk(kIntents, writes, "replace intents");
      if (!st) {
        if (st.code() == StoreErrc::kConflict) {
          return conflict("an intent id belongs to another strategy");
        }
        return st;
      }
    }
    if (!existing.empty()) {
      std::vector<std::string> gone;
      gone.reserve(existing.size());
      for (const auto& [id, _] : existing) gone.push_back(id);
      Doc stale;
      append_string(stale.get(), "strategy_id", strategy_id);
      append_id_in(stale.get(), "_id", gone);
      auto n = ops.remove(kIntents, stale.get(), true, "replace intents");
      if (!n) return n.error();
    }
    return Status::Ok();
  });
}

Result<std::vector<Intent>> MongoStore::list_intents(const IntentFilter& f) {
  if (!ready()) return not_ready().error();
  Doc filter, sort;
  if (f.creator_id) append_string(filter.get(), "creator_id", *f.creator_id);
  if (f.strategy_id) append_string(filter.get(), "strategy_id", *f.strategy_id);
  if (f.node_id) append_string(filter.get(), "node_id", *f.node_id);
  sort_by_creation(sort.get());
  return Ops(*pool_).find_many<Intent>(kIntents, filter.get(), sort.get(),
                                       mongo_codec::decode_intent, "list intents");
}

Status MongoStore::delete_intents(const std::vector<std::string>& ids,
                                  const std::optional<std::string>& creator_id) {
  if (!ready()) return not_ready();
  const auto wanted = unique_ids(ids);
  if (wanted.empty()) return Status::Ok();
  Ops ops(*pool_);
  Doc filter;
  append_id_in(filter.get(), "_id", wanted);
  if (creator_id) append_string(filter.get(), "creator_id", *creator_id);
  // All or nothing without a transaction: count first, delete only when every id is
  // there (and the caller's). A concurrent delete of one of them in between is harmless.
  auto n = ops.count(kIntents, filter.get(), "delete intents");
  if (!n) return n.error();
  if (*n != static_cast<int64_t>(wanted.size())) {
    return not_found("one or more intents do not exist or are not yours");
  }
  auto d = ops.remove(kIntents, filter.get(), true, "delete intents");
  if (!d) return d.error();
  return Status::Ok();
}

Result<Intent> MongoStore::update_intent_state(const std::string& id, IntentState state,
                                               const std::string& reason, UnixMillis now) {
  if (!ready()) return not_ready().error();
  Doc filter, update;
  append_id(filter.get(), "_id", id);
  bson_t set;
  BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$set", &set);
  BSON_APPEND_INT32(&set, "state", static_cast<int32_t>(state));
  append_string(&set, "state_reason", reason);
  append_time(&set, "updated_at", now);
  bson_append_document_end(update.get(), &set);
  inc_version(update.get());
  auto r = locked<Result<std::optional<Intent>>>("intents/" + id, false, [&] {
    return Ops(*pool_).find_and_modify<Intent>(kIntents, filter.get(), update.get(), true,
                                               mongo_codec::decode_intent, "update intent state");
  });
  if (!r) return r.error();
  if (!*r) return not_found("intent not found");
  return std::move(**r);
}

}  // namespace gthulhu::coordinator
