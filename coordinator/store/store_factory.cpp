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
