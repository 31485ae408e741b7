#include "coordinator/store/sqlite_store.h"

#include <sqlite3.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <utility>

namespace gthulhu::coordinator {

namespace {

using json = nlohmann::json;

// Thrown inside the store only; every public method converts it to a StoreError.
struct SqliteFailure {
  int rc;
  std::string message;
};

StoreError map_error(int rc, const std::string& message) {
  const int primary = rc & 0xff;
  switch (primary) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return conflict("already exists: " + message);
      }
      return invalid("constraint failed: " + message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return unavailable("database is busy: " + message);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS:
    case SQLITE_NOMEM:
      return unavailable("database unavailable: " + message);
    default:
      return internal_error("database error: " + message);
  }
}

// One schema step per entry; entry i brings the schema from version i to i + 1.
const char* const kMigrations[] = {
    // 1: the initial schema.
    R"sql(
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  roles TEXT NOT NULL,            -- JSON array of role names
  status INTEGER NOT NULL,
  token_version INTEGER NOT NULL,
  creator_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  version INTEGER NOT NULL
);
CREATE TABLE refresh_sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used INTEGER NOT NULL
);
CREATE INDEX refresh_sessions_user ON refresh_sessions(user_id);
CREATE TABLE roles (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL,
  policies TEXT NOT NULL,         -- JSON array of RolePolicy
  creator_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  version INTEGER NOT NULL
);
CREATE TABLE permissions (
  key TEXT PRIMARY KEY,
  resource TEXT NOT NULL,
  action TEXT NOT NULL,
  description TEXT NOT NULL
);
CREATE TABLE strategies (
  id TEXT PRIMARY KEY,
  strategy_namespace TEXT NOT NULL,
  label_selectors TEXT NOT NULL,  -- JSON array of {key,value}
  k8s_namespaces TEXT NOT NULL,   -- JSON array of strings
  command_regex TEXT NOT NULL,
  priority INTEGER NOT NULL,
  execution_time INTEGER NOT NULL,
  creator_id TEXT NOT NULL,
  updater_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  version INTEGER NOT NULL
);
CREATE INDEX strategies_creator ON strategies(creator_id);
CREATE TABLE intents (
  id TEXT PRIMARY KEY,
  strategy_id TEXT NOT NULL,
  pod_id TEXT NOT NULL,
  pod_name TEXT NOT NULL,
  node_id TEXT NOT NULL,
  k8s_namespace TEXT NOT NULL,
  command_regex TEXT NOT NULL,
  priority INTEGER NOT NULL,
  execution_time INTEGER NOT NULL,
  pod_labels TEXT NOT NULL,       -- JSON object
  state INTEGER NOT NULL,
  state_reason TEXT NOT NULL,
  creator_id TEXT NOT NULL,
  updater_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  version INTEGER NOT NULL
);
CREATE INDEX intents_strategy ON intents(strategy_id);
CREATE INDEX intents_node ON intents(node_id);
CREATE INDEX intents_creator ON intents(creator_id);
)sql",
};

constexpr int kSchemaVersion = static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));

}  // namespace

// ------------------------------------------------------------------ connection

class SqliteStore::Connection {
 public:
  Connection(const std::filesystem::path& path, std::chrono::milliseconds busy_timeout) {
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close_v2(db_);
      db_ = nullptr;
      throw std::runtime_error("cannot open SQLite database " + path.string() + ": " + msg);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, static_cast<int>(busy_timeout.count()));
    try {
      exec("PRAGMA journal_mode=WAL");
      exec("PRAGMA synchronous=FULL");
      exec("PRAGMA foreign_keys=OFF");
      exec("SELECT count(*) FROM sqlite_master");  // fails here for a non-database file
    } catch (const SqliteFailure& f) {
      close();
      throw std::runtime_error("cannot use SQLite database " + path.string() + ": " +
                               f.message);
    }
  }
  ~Connection() { close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void exec(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      throw SqliteFailure{sqlite3_extended_errcode(db_), msg};
    }
  }

  sqlite3_stmt* prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) throw SqliteFailure{rc, sqlite3_errmsg(db_)};
    cache_.emplace(sql, stmt);
    return stmt;
  }

  sqlite3* db() const { return db_; }

 private:
  void close() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    cache_.clear();
    if (db_) sqlite3_close_v2(db_);
    db_ = nullptr;
  }
  sqlite3* db_ = nullptr;
  std::map<std::string, sqlite3_stmt*> cache_;
};

namespace {

using Connection = SqliteStore::Connection;

// A cached prepared statement, reset when the Stmt goes away.
class Stmt {
 public:
  Stmt(Connection& c, const char* sql) : conn_(c), s_(c.prepare(sql)) {}
  ~Stmt() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, const std::string& v) {
    check(sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& bind(int i, std::int64_t v) {
    check(sqlite3_bind_int64(s_, i, v));
    return *this;
  }
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }

  // True for a row, false when done; throws on error.
  bool step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw SqliteFailure{sqlite3_extended_errcode(conn_.db()), sqlite3_errmsg(conn_.db())};
  }
  void run() {
    while (step()) {
    }
  }
  int changes() const { return sqlite3_changes(conn_.db()); }

  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, col))) : std::string();
  }
  std::int64_t i64(int col) const { return sqlite3_column_int64(s_, col); }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) throw SqliteFailure{rc, sqlite3_errmsg(conn_.db())};
  }
  Connection& conn_;
  sqlite3_stmt* s_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back unless committed.
class Tx {
 public:
  explicit Tx(Connection& c) : c_(c) { c_.exec("BEGIN IMMEDIATE"); }
  ~Tx() {
    if (!done_) {
      char* err = nullptr;
      sqlite3_exec(c_.db(), "ROLLBACK", nullptr, nullptr, &err);
      sqlite3_free(err);
    }
  }
  void commit() {
    c_.exec("COMMIT");
    done_ = true;
  }

 private:
  Connection& c_;
  bool done_ = false;
};

// ---- JSON columns ----

std::string roles_json(const std::vector<std::string>& v) { return json(v).dump(); }
std::vector<std::string> strings_of(const std::string& s) {
  return json::parse(s).get<std::vector<std::string>>();
}

std::string policies_json(const std::vector<RolePolicy>& ps) {
  json a = json::array();
  for (const auto& p : ps) {
    a.push_back({{"permissionKey", p.permission_key},
                 {"self", p.self},
                 {"k8sNamespace", p.k8s_namespace},
                 {"policyNamespace", p.policy_namespace}});
  }
  return a.dump();
}
std::vector<RolePolicy> policies_of(const std::string& s) {
  std::vector<RolePolicy> out;
  for (const auto& p : json::parse(s)) {
    out.push_back({p.at("permissionKey").get<std::string>(), p.at("self").get<bool>(),
                   p.at("k8sNamespace").get<std::string>(),
                   p.at("policyNamespace").get<std::string>()});
  }
  return out;
}

std::string selectors_json(const std::vector<LabelSelector>& v) {
  json a = json::array();
  for (const auto& s : v) a.push_back({{"key", s.key}, {"value", s.value}});
  return a.dump();
}
std::vector<LabelSelector> selectors_of(const std::string& s) {
  std::vector<LabelSelector> out;
  for (const auto& e : json::parse(s)) {
    out.push_back({e.at("key").get<std::string>(), e.at("value").get<std::string>()});
  }
  return out;
}

std::string labels_json(const std::map<std::string, std::string>& m) { return json(m).dump(); }
std::map<std::string, std::string> labels_of(const std::string& s) {
  return json::parse(s).get<std::map<std::string, std::string>>();
}

// ---- rows ----

User read_user(const Stmt& s) {
  User u;
  u.id = s.text(0);
  u.username = s.text(1);
  u.password_hash = s.text(2);
  u.roles = strings_of(s.text(3));
  u.status = static_cast<UserStatus>(s.i64(4));
  u.token_version = s.i64(5);
  u.creator_id = s.text(6);
  u.created_at = s.i64(7);
  u.updated_at = s.i64(8);
  u.version = s.i64(9);
  return u;
}

Role read_role(const Stmt& s) {
  Role r;
  r.id = s.text(0);
  r.name = s.text(1);
  r.description = s.text(2);
  r.policies = policies_of(s.text(3));
  r.creator_id = s.text(4);
  r.created_at = s.i64(5);
  r.updated_at = s.i64(6);
  r.version = s.i64(7);
  return r;
}

Strategy read_strategy(const Stmt& s) {
  Strategy st;
  st.id = s.text(0);
  st.strategy_namespace = s.text(1);
  st.label_selectors = selectors_of(s.text(2));
  st.k8s_namespaces = strings_of(s.text(3));
  st.command_regex = s.text(4);
  st.priority = static_cast<int>(s.i64(5));
  st.execution_time = s.i64(6);
  st.creator_id = s.text(7);
  st.updater_id = s.text(8);
  st.created_at = s.i64(9);
  st.updated_at = s.i64(10);
  st.version = s.i64(11);
  return st;
}

Intent read_intent(const Stmt& s) {
  Intent i;
  i.id = s.text(0);
  i.strategy_id = s.text(1);
  i.pod_id = s.text(2);
  i.pod_name = s.text(3);
  i.node_id = s.text(4);
  i.k8s_namespace = s.text(5);
  i.command_regex = s.text(6);
  i.priority = static_cast<int>(s.i64(7));
  i.execution_time = s.i64(8);
  i.pod_labels = labels_of(s.text(9));
  i.state = static_cast<IntentState>(s.i64(10));
  i.state_reason = s.text(11);
  i.creator_id = s.text(12);
  i.updater_id = s.text(13);
  i.created_at = s.i64(14);
  i.updated_at = s.i64(15);
  i.version = s.i64(16);
  return i;
}

#define USER_COLS \
  "id, username, password_hash, roles, status, token_version, creator_id, created_at, updated_at, version"
#define ROLE_COLS "id, name, description, policies, creator_id, created_at, updated_at, version"
#define STRATEGY_COLS                                                                       \
  "id, strategy_namespace, label_selectors, k8s_namespaces, command_regex, priority, "     \
  "execution_time, creator_id, updater_id, created_at, updated_at, version"
#define INTENT_COLS                                                                         \
  "id, strategy_id, pod_id, pod_name, node_id, k8s_namespace, command_regex, priority, "   \
  "execution_time, pod_labels, state, state_reason, creator_id, updater_id, created_at, "  \
  "updated_at, version"

}  // namespace

// ------------------------------------------------------------------ pool

class SqliteStore::Pool {
 public:
  Pool(const SqliteOptions& o) {
    const unsigned n = o.pool_size == 0 ? 1 : o.pool_size;
    for (unsigned i = 0; i < n; ++i) {
      all_.push_back(std::make_unique<Connection>(o.path, o.busy_timeout));
      free_.push_back(all_.back().get());
    }
  }

  class Lease {
   public:
    Lease(Pool& p, Connection* c) : p_(p), c_(c) {}
    ~Lease() { p_.release(c_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection& operator*() const { return *c_; }

   private:
    Pool& p_;
    Connection* c_;
  };

  Lease acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !free_.empty(); });
    Connection* c = free_.back();
    free_.pop_back();
    return Lease(*this, c);
  }

 private:
  void release(Connection* c) {
    {
      std::lock_guard lock(mu_);
      free_.push_back(c);
    }
    cv_.notify_one();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> all_;
  std::vector<Connection*> free_;
};

namespace {

// Runs `fn(connection)` and turns every failure into a StoreError.
template <typename Fn>
auto with_connection(SqliteStore::Pool& pool, Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
  try {
    auto lease = pool.acquire();
    return fn(*lease);
  } catch (const SqliteFailure& f) {
    return map_error(f.rc, f.message);
  } catch (const json::exception& e) {
    return internal_error(std::string("corrupt JSON column: ") + e.what());
  } catch (const std::bad_alloc&) {
    return unavailable("out of memory");
  }
}

}  // namespace

// ------------------------------------------------------------------ lifecycle

SqliteStore::SqliteStore(SqliteOptions options) : options_(std::move(options)) {
  pool_ = std::make_unique<Pool>(options_);
}

SqliteStore::~SqliteStore() = default;

int SqliteStore::schema_version() { return kSchemaVersion; }

Status SqliteStore::migrate() {
  return with_connection(*pool_, [&](Connection& c) -> Status {
    Tx tx(c);
    c.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    std::int64_t current = 0;
    bool have_row = false;
    {
      Stmt s(c, "SELECT version FROM schema_version");
      if (s.step()) {
        current = s.i64(0);
        have_row = true;
      }
    }
    if (current > kSchemaVersion) {
      return internal_error("database schema version " + std::to_string(current) +
                            " is newer than this coordinator supports (" +
                            std::to_string(kSchemaVersion) + ")");
    }
    for (auto v = current; v < kSchemaVersion; ++v) c.exec(kMigrations[v]);
    if (!have_row) {
      Stmt s(c, "INSERT INTO schema_version(version) VALUES (?)");
      s.bind(1, static_cast<std::int64_t>(kSchemaVersion)).run();
    } else if (current != kSchemaVersion) {
      Stmt s(c, "UPDATE schema_version SET version = ?");
      s.bind(1, static_cast<std::int64_t>(kSchemaVersion)).run();
    }
    tx.commit();
    return Status::Ok();
  });
}

Status SqliteStore::ping() {
  return with_connection(*pool_, [&](Connection& c) -> Status {
    Stmt s(c, "SELECT version FROM schema_version");
    s.step();
    return Status::Ok();
  });
}

// ------------------------------------------------------------------ users

namespace {
Result<User> get_user_where(Connection& c, const char* sql, const std::string& key,
                            const char* what) {
  Stmt s(c, sql);
  s.bind(1, key);
  if (!s.step()) return not_found(std::string(what) + " not found");
  return read_user(s);
}
}  // namespace

Result<User> SqliteStore::create_user(const User& u) {
  return with_connection(*pool_, [&](Connection& c) -> Result<User> {
    Stmt s(c, "INSERT INTO users(" USER_COLS ") VALUES (?,?,?,?,?,?,?,?,?,1)");
    s.bind(1, u.id).bind(2, u.username).bind(3, u.password_hash).bind(4, roles_json(u.roles));
    s.bind(5, static_cast<int>(u.status)).bind(6, u.token_version).bind(7, u.creator_id);
    s.bind(8, u.created_at).bind(9, u.updated_at);
    s.run();
    User out = u;
    out.version = 1;
    return out;
  });
}

Result<User> SqliteStore::get_user(const std::string& id) {
  return with_connection(*pool_, [&](Connection& c) {
    return get_user_where(c, "SELECT " USER_COLS " FROM users WHERE id = ?", id, "user");
  });
}

Result<User> SqliteStore::get_user_by_username(const std::string& username) {
  return with_connection(*pool_, [&](Connection& c) {
    return get_user_where(c, "SELECT " USER_COLS " FROM users WHERE username = ?", username,
                          "user");
  });
}

Result<std::vector<User>> SqliteStore::list_users() {
  return with_connection(*pool_, [&](Connection& c) -> Result<std::vector<User>> {
    Stmt s(c, "SELECT " USER_COLS " FROM users ORDER BY created_at, id");
    std::vector<User> out;
    while (s.step()) out.push_back(read_user(s));
    return out;
  });
}

Result<User> SqliteStore::update_user(const User& u) {
  return with_connection(*pool_, [&](Connection& c) -> Result<User> {
    Stmt s(c,
           "UPDATE users SET username = ?, password_hash = ?, roles = ?, status = ?, "
           "token_version = ?, updated_at = ?, version = version + 1 "
           "WHERE id = ? AND version = ?");
    s.bind(1, u.username).bind(2, u.password_hash).bind(3, roles_json(u.roles));
    s.bind(4, static_cast<int>(u.status)).bind(5, u.token_version).bind(6, u.updated_at);
    s.bind(7, u.id).bind(8, u.version);
    s.run();
    if (s.changes() == 0) {
      auto existing = get_user_where(c, "SELECT " USER_COLS " FROM users WHERE id = ?", u.id,
                                     "user");
      if (!existing.ok()) return existing;
      return version_mismatch("user changed concurrently (stored version " +
                              std::to_string(existing->version) + ", given " +
                              std::to_string(u.version) + ")");
    }
    return get_user_where(c, "SELECT " USER_COLS " FROM users WHERE id = ?", u.id, "user");
  });
}

Result<User> SqliteStore::bump_token_version(const std::string& user_id, UnixMillis now) {
  return with_connection(*pool_, [&](Connection& c) -> Result<User> {
    Tx tx(c);
    Stmt s(c,
           "UPDATE users SET token_version = token_version + 1, version = version + 1, "
           "updated_at = ? WHERE id = ?");
    s.bind(1, now).bind(2, user_id).run();
    if (s.changes() == 0) return not_found("user not found");
    auto u = get_user_where(c, "SELECT " USER_COLS " FROM users WHERE id = ?", user_id, "user");
    tx.commit();
    return u;
  });
}

Result<std::int64_t> SqliteStore::count_users_with_role(const std::string& role_name) {
  return with_connection(*pool_, [&](Connection& c) -> Result<std::int64_t> {
    Stmt s(c,
           "SELECT count(*) FROM users WHERE EXISTS "
           "(SELECT 1 FROM json_each(users.roles) WHERE json_each.value = ?)");
    s.bind(1, role_name);
    s.step();
    return s.i64(0);
  });
}

// ------------------------------------------------------------------ refresh sessions

Status SqliteStore::create_refresh_session(const RefreshSession& r) {
  return with_connection(*pool_, [&](Connection& c) -> Status {
    Stmt s(c,
           "INSERT INTO refresh_sessions(id, user_id, token_hash, created_at, expires_at, used) "
           "VALUES (?,?,?,?,?,?)");
    s.bind(1, r.id).bind(2, r.user_id).bind(3, r.token_hash).bind(4, r.created_at);
    s.bind(5, r.expires_at).bind(6, r.used ? 1 : 0).run();
    return Status::Ok();
  });
}

Result<RefreshSession> SqliteStore::consume_refresh_session(const std::string& token_hash,
                                                            UnixMillis now) {
  return with_connection(*pool_, [&](Connection& c) -> Result<RefreshSession> {
    Tx tx(c);  // IMMEDIATE: the read and the mark happen under the write lock
    RefreshSession r;
    {
      Stmt s(c,
             "SELECT id, user_id, token_hash, created_at, expires_at, used "
             "FROM refresh_sessions WHERE token_hash = ?");
      s.bind(1, token_hash);
      if (!s.step()) return not_found("refresh session not found");
      r.id = s.text(0);
      r.user_id = s.text(1);
      r.token_hash = s.text(2);
      r.created_at = s.i64(3);
      r.expires_at = s.i64(4);
      r.used = s.i64(5) != 0;
    }
    if (r.expires_at <= now) return not_found("refresh session expired");
    if (r.used) return conflict("refresh token already used");
    Stmt u(c, "UPDATE refresh_sessions SET used = 1 WHERE id = ?");
    u.bind(1, r.id).run();
    tx.commit();
    return r;
  });
}

Status SqliteStore::delete_refresh_sessions_of_user(const std::string& user_id) {
  return with_connection(*pool_, [&](Connection& c) -> Status {
    Stmt s(c, "DELETE FROM refresh_sessions WHERE user_id = ?");
    s.bind(1, user_id).run();
    return Status::Ok();
  });
}

Result<std::int64_t> SqliteStore::delete_expired_refresh_sessions(UnixMillis now) {
  return with_connection(*pool_, [&](Connection& c) -> Result<std::int64_t> {
    Stmt s(c, "DELETE FROM refresh_sessions WHERE expires_at <= ?");
    s.bind(1, now).run();
    return static_cast<std::int64_t>(s.changes());
  });
}

// ------------------------------------------------------------------ roles

namespace {
Result<Role> get_role_where(Connection& c, const char* sql, const std::string& key) {
  Stmt s(c, sql);
  s.bind(1, key);
  if (!s.step()) return not_found("role not found");
  return read_role(s);
}
}  // namespace

Result<Role> SqliteStore::create_role(const Role& r) {
  return with_connection(*pool_, [&](Connection& c) -> Result<Role> {
    Stmt s(c, "INSERT INTO roles(" ROLE_COLS ") VALUES (?,?,?,?,?,?,?,1)");
    s.bind(1, r.id).bind(2, r.name).bind(3, r.description).bind(4, policies_json(r.policies));
    s.bind(5, r.creator_id).bind(6, r.created_at).bind(7, r.updated_at).run();
    Role out = r;
    out.version = 1;
    return out;
  });
}

Result<Role> SqliteStore::get_role(const std::string& id) {
  return with_connection(*pool_, [&](Connection& c) {
    return get_role_where(c, "SELECT " ROLE_COLS " FROM roles WHERE id = ?", id);
  });
}

Result<Role> SqliteStore::get_role_by_name(const std::string& name) {
  return with_connection(*pool_, [&](Connection& c) {
    return get_role_where(c, "SELECT " ROLE_COLS " FROM roles WHERE name = ?", name);
  });
}

Result<std::vector<Role>> SqliteStore::list_roles() {
  return with_connection(*pool_, [&](Connection& c) -> Result<std::vector<Role>> {
    Stmt s(c, "SELECT " ROLE_COLS " FROM roles ORDER BY created_at, id");
    std::vector<Role> out;
    while (s.step()) out.push_back(read_role(s));
    return out;
  });
}

Result<std::vector<Role>> SqliteStore::get_roles_by_names(const std::vector<std::string>& names) {
  return with_connection(*pool_, [&](Connection& c) -> Result<std::vector<Role>> {
    std::vector<Role> out;
    if (names.empty()) return out;
    Stmt s(c,
           "SELECT " ROLE_COLS " FROM roles WHERE name IN (SELECT value FROM json_each(?)) "
           "ORDER BY created_at, id");
    s.bind(1, roles_json(names));
    while (s.step()) out.push_back(read_role(s));
    return out;
  });
}

Result<Role> SqliteStore::update_role(const Role& r) {
  return with_connection(*pool_, [&](Connection& c) -> Result<Role> {
    Stmt s(c,
           "UPDATE roles SET name = ?, description = ?, policies = ?, updated_at = ?, "
           "version = version + 1 WHERE id = ? AND version = ?");
    s.bind(1, r.name).bind(2, r.description).bind(3, policies_json(r.policies));
    s.bind(4, r.updated_at).bind(5, r.id).bind(6, r.version).run();
    if (s.changes() == 0) {
      auto existing = get_role_where(c, "SELECT " ROLE_COLS " FROM roles WHERE id = ?", r.id);
      if (!existing.ok()) return existing;
      return version_mismatch("role changed concurrently");
    }
    return get_role_where(c, "SELECT " ROLE_COLS " FROM roles WHERE id = ?", r.id);
  });
}

Status SqliteStore::delete_role(const std::string& id) {
  return with_connection(*pool_, [&](Connection& c) -> Status {
    Stmt s(c, "DELETE FROM roles WHERE id = ?");
    s.bind(1, id).run();
    if (s.changes() == 0) return not_found("role not found");
    return Status::Ok();
  });
}

// ------------------------------------------------------------------ permissions

Status SqliteStore::upsert_permissions(const std::vector<Permission>& ps) {
  return with_connection(*pool_, [&](Connection& c) -> Status {
    Tx tx(c);
    for (const auto& p : ps) {
      Stmt s(c,
             "INSERT INTO permissions(key, resource, action, description) VALUES (?,?,?,?) "
             "ON CONFLICT(key) DO UPDATE SET resource = excluded.resource, "
             "action = excluded.action, description = excluded.description");
      s.bind(1, p.key).bind(2, p.resource).bind(3, p.action).bind(4, p.description).run();
    }
    tx.commit();
    return Status::Ok();
  });
}

Result<std::vector<Permission>> SqliteStore::list_permissions() {
  return with_connection(*pool_, [&](Connection& c) -> Result<std::vector<Permission>> {
    Stmt s(c, "SELECT key, resource, action, description FROM permissions ORDER BY key");
    std::vector<Permission> out;
    while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2), s.text(3)});
    return out;
  });
}

// ------------------------------------------------------------------ strategies

namespace {
Result<Strategy> get_strategy_by_id(Connection& c, const std::string& id) {
  Stmt s(c, "SELECT " STRATEGY_COLS " FROM strategies WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return not_found("strategy not found");
  return read_strategy(s);
}
}  // namespace

Result<Strategy> SqliteStore::create_strategy(const Strategy& st) {
  return with_connection(*pool_, [&](Connection& c) -> Result<Strategy> {
    Stmt s(c, "INSERT INTO strategies(" STRATEGY_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,1)");
    s.bind(1, st.id).bind(2, st.strategy_namespace).bind(3, selectors_json(st.label_selectors));
    s.bind(4, roles_json(st.k8s_namespaces)).bind(5, st.command_regex).bind(6, st.priority);
    s.bind(7, st.execution_time).bind(8, st.creator_id).bind(9, st.updater_id);
    s.bind(10, st.created_at).bind(11, st.updated_at).run();
    Strategy out = st;
    out.version = 1;
    return out;
  });
}

Result<Strategy> SqliteStore::get_strategy(const std::string& id) {
  return with_connection(*pool_, [&](Connection& c) { return get_strategy_by_id(c, id); });
}

Result<std::vector<Strategy>> SqliteStore::list_strategies(const StrategyFilter& f) {
  return with_connection(*pool_, [&](Connection& c) -> Result<std::vector<Strategy>> {
    std::vector<Strategy> out;
    if (f.creator_id) {
      Stmt s(c, "SELECT " STRATEGY_COLS
                " FROM strategies WHERE creator_id = ? ORDER BY created_at, id");
      s.bind(1, *f.creator_id);
      while (s.step()) out.push_back(read_strategy(s));
    } else {
      Stmt s(c, "SELECT " STRATEGY_COLS " FROM strategies ORDER BY created_at, id");
      while (s.step()) out.push_back(read_strategy(s));
    }
    return out;
  });
}

Result<Strategy> SqliteStore::update_strategy(const Strategy& st) {
  return with_connection(*pool_, [&](Connection& c) -> Result<Strategy> {
    Stmt s(c,
           "UPDATE strategies SET strategy_namespace = ?, label_selectors = ?, "
           "k8s_namespaces = ?, command_regex = ?, priority = ?, execution_time = ?, "
           "updater_id = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?");
    s.bind(1, st.strategy_namespace).bind(2, selectors_json(st.label_selectors));
    s.bind(3, roles_json(st.k8s_namespaces)).bind(4, st.command_regex).bind(5, st.priority);
    s.bind(6, st.execution_time).bind(7, st.updater_id).bind(8, st.updated_at);
    s.bind(9, st.id).bind(10, st.version).run();
    if (s.changes() == 0) {
      auto existing = get_strategy_by_id(c, st.id);
      if (!existing.ok()) return existing;
      return version_mismatch("strategy changed concurrently");
    }
    return get_strategy_by_id(c, st.id);
  });
}

Status SqliteStore::delete_strategy(const std::string& id) {
  return with_connection(*pool_, [&](Connection& c) -> Status {
    Tx tx(c);
    Stmt s(c, "DELETE FROM strategies WHERE id = ?");
    s.bind(1, id).run();
    if (s.changes() == 0) return not_found("strategy not found");
    Stmt i(c, "DELETE FROM intents WHERE strategy_id = ?");
    i.bind(1, id).run();
    tx.commit();
    return Status::Ok();
  });
}

// ------------------------------------------------------------------ intents

Status SqliteStore::replace_strategy_intents(const std::string& strategy_id,
                                             const std::vector<Intent>& intents) {
  for (const auto& i : intents) {
    if (i.strategy_id != strategy_id) {
      return invalid("intent " + i.id + " belongs to strategy " + i.strategy_id + ", not " +
                     strategy_id);
    }
  }
  return with_connection(*pool_, [&](Connection& c) -> Status {
    Tx tx(c);
    {
      Stmt d(c, "DELETE FROM intents WHERE strategy_id = ?");
      d.bind(1, strategy_id).run();
    }
    for (const auto& i : intents) {
      Stmt s(c, "INSERT INTO intents(" INTENT_COLS
                ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1)");
      s.bind(1, i.id).bind(2, i.strategy_id).bind(3, i.pod_id).bind(4, i.pod_name);
      s.bind(5, i.node_id).bind(6, i.k8s_namespace).bind(7, i.command_regex);
      s.bind(8, i.priority).bind(9, i.execution_time).bind(10, labels_json(i.pod_labels));
      s.bind(11, static_cast<int>(i.state)).bind(12, i.state_reason).bind(13, i.creator_id);
      s.bind(14, i.updater_id).bind(15, i.created_at).bind(16, i.updated_at).run();
    }
    tx.commit();
    return Status::Ok();
  });
}

Result<std::vector<Intent>> SqliteStore::list_intents(const IntentFilter& f) {
  return with_connection(*pool_, [&](Connection& c) -> Result<std::vector<Intent>> {
    // NULL parameters match everything; one cached statement for every filter shape.
    Stmt s(c, "SELECT " INTENT_COLS
              " FROM intents WHERE (?1 IS NULL OR creator_id = ?1) AND "
              "(?2 IS NULL OR strategy_id = ?2) AND (?3 IS NULL OR node_id = ?3) "
              "ORDER BY created_at, id");
    if (f.creator_id) s.bind(1, *f.creator_id);
    if (f.strategy_id) s.bind(2, *f.strategy_id);
    if (f.node_id) s.bind(3, *f.node_id);
    std::vector<Intent> out;
    while (s.step()) out.push_back(read_intent(s));
    return out;
  });
}

Status SqliteStore::delete_intents(const std::vector<std::string>& ids,
                                   const std::optional<std::string>& creator_id) {
  const std::set<std::string> unique(ids.begin(), ids.end());
  return with_connection(*pool_, [&](Connection& c) -> Status {
    Tx tx(c);
    for (const auto& id : unique) {
      Stmt s(c, "DELETE FROM intents WHERE id = ?1 AND (?2 IS NULL OR creator_id = ?2)");
      s.bind(1, id);
      if (creator_id) s.bind(2, *creator_id);
      s.run();
      if (s.changes() == 0) return not_found("intent " + id + " not found");  // rolls back
    }
    tx.commit();
    return Status::Ok();
  });
}

Result<Intent> SqliteStore::update_intent_state(const std::string& id, IntentState state,
                                                const std::string& reason, UnixMillis now) {
  return with_connection(*pool_, [&](Connection& c) -> Result<Intent> {
    Tx tx(c);
    {
      Stmt s(c,
             "UPDATE intents SET state = ?, state_reason = ?, updated_at = ?, "
             "version = version + 1 WHERE id = ?");
      s.bind(1, static_cast<int>(state)).bind(2, reason).bind(3, now).bind(4, id).run();
      if (s.changes() == 0) return not_found("intent not found");
    }
    Intent out;
    {
      Stmt g(c, "SELECT " INTENT_COLS " FROM intents WHERE id = ?");
      g.bind(1, id);
      if (!g.step()) return not_found("intent not found");
      out = read_intent(g);
    }
    tx.commit();
    return out;
  });
}

Result<std::size_t> SqliteStore::update_intent_states(const std::vector<IntentStateUpdate>& updates) {
  return with_connection(*pool_, [&](Connection& c) -> Result<std::size_t> {
    Tx tx(c);
    std::size_t written = 0;
    for (const auto& u : updates) {
      Stmt s(c,  // prepared once per connection (cached), reset per row
             "UPDATE intents SET state = ?, state_reason = ?, updated_at = ?, "
             "version = version + 1 WHERE id = ?");
      s.bind(1, static_cast<int>(u.state)).bind(2, u.reason).bind(3, u.at).bind(4, u.id).run();
      written += s.changes() > 0 ? 1 : 0;
    }
    tx.commit();
    return written;
  });
}

}  // namespace gthulhu::coordinator
