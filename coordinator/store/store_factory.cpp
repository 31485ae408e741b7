#include "coordinator/store/store_factory.h"

#include <stdexcept>

#include "coordinator/store/mongo_store.h"
#include "coordinator/store/sqlite_store.h"

namespace gthulhu::coordinator {

void add_store_config(config::Schema& s) {
  s.add_string("store", "backend", "sqlite",
               "Where users, roles, strategies and intents live: sqlite (embedded file, "
               "no server needed) or mongodb");
  s.add_path("sqlite", "path", "/var/lib/gthulhu-coordinator/coordinator.db",
             "SQLite database file (created if absent; WAL journal beside it)");
  s.add_duration("sqlite", "busy_timeout", std::chrono::seconds(5),
                 "How long a request waits for a database lock before failing with 503");
  s.add_int("sqlite", "pool_size", 4, 1, 64, "SQLite connections shared by request threads");
  s.add_duration("store", "cache_ttl", std::chrono::seconds(1),
                 "Longest a cached user record or strategy list is reused (0 = read the store "
                 "on every request): a write through this instance is seen at once, another "
                 "replica's or a direct database write within this bound");
  s.add_duration("store", "health_interval", std::chrono::seconds(1),
                 "Pause between two background store pings reported by /health (100ms..1h)");
  s.add_duration("store", "health_stale_after", std::chrono::seconds(5),
                 "A store ping older than this counts as failed in /health (a hung store); "
                 "must exceed store.health_interval");
  s.add_string("mongodb", "uri", "mongodb://127.0.0.1:27017/",
               "MongoDB connection string (credentials, TLS, replicaSet... in the URI)");
  s.add_string("mongodb", "database", "gthulhu", "MongoDB database name");
  s.add_int("mongodb", "max_pool_size", 32, 1, 1000, "MongoDB client pool size");
  s.add_duration("mongodb", "server_selection_timeout", std::chrono::seconds(2),
                 "Fail a request with 503 when no server is selectable within this");
  s.add_duration("mongodb", "connect_timeout", std::chrono::seconds(2), "TCP/TLS connect timeout");
  s.add_duration("mongodb", "socket_timeout", std::chrono::seconds(5),
                 "Per read/write socket timeout");
  s.add_string("mongodb", "write_concern", "majority",
               "Write concern w of every write (\"majority\" or a number)");
  s.add_bool("mongodb", "journal", true, "Writes wait for the journal (j: true)");
}

std::chrono::milliseconds store_cache_ttl(const config::Config& cfg) {
  const auto ttl = cfg.get_millis("store.cache_ttl");
  if (ttl < std::chrono::milliseconds(0) || ttl > std::chrono::minutes(10)) {
    throw config::ConfigError({"store.cache_ttl must be between 0 and 10m, got " +
                               std::to_string(ttl.count()) + " ms"});
  }
  return ttl;
}

StoreHealthOptions store_health_options(const config::Config& cfg) {
  StoreHealthOptions o;
  o.interval = cfg.get_millis("store.health_interval");
  o.stale_after = cfg.get_millis("store.health_stale_after");
  std::vector<std::string> errors;
  if (o.interval < std::chrono::milliseconds(100) || o.interval > std::chrono::hours(1)) {
    errors.push_back("store.health_interval must be between 100ms and 1h, got " +
                     std::to_string(o.interval.count()) + " ms");
  }
  if (o.stale_after <= o.interval) {
    errors.push_back("store.health_stale_after (" + std::to_string(o.stale_after.count()) +
                     " ms) must be longer than store.health_interval (" +
                     std::to_string(o.interval.count()) + " ms)");
  }
  if (!errors.empty()) throw config::ConfigError(errors);
  return o;
}

std::shared_ptr<Store> make_store(const config::Config& cfg) {
  const std::string& backend = cfg.get_string("store.backend");
  if (backend == "sqlite") {
    SqliteOptions o;
    o.path = cfg.get_path("sqlite.path");
    o.busy_timeout = cfg.get_millis("sqlite.busy_timeout");
    o.pool_size = static_cast<unsigned>(cfg.get_int("sqlite.pool_size"));
    return std::make_shared<SqliteStore>(o);
  }
  if (backend == "mongodb") {
    MongoOptions o;
    o.uri = cfg.get_string("mongodb.uri");
    o.database = cfg.get_string("mongodb.database");
    o.max_pool_size = static_cast<int>(cfg.get_int("mongodb.max_pool_size"));
    o.server_selection_timeout = cfg.get_millis("mongodb.server_selection_timeout");
    o.connect_timeout = cfg.get_millis("mongodb.connect_timeout");
    o.socket_timeout = cfg.get_millis("mongodb.socket_timeout");
    o.write_concern_w = cfg.get_string("mongodb.write_concern");
    o.journal = cfg.get_bool("mongodb.journal");
    return std::make_shared<MongoStore>(o);
  }
  throw std::invalid_argument("store.backend must be sqlite or mongodb, not \"" + backend + "\"");
}

}  // namespace gthulhu::coordinator
