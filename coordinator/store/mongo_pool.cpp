#include "coordinator/store/mongo_pool.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace gthulhu::coordinator {
namespace {

using Clock = std::chrono::steady_clock;

// libmongoc logs through a process-wide handler; route it to spdlog. Debug and trace
// output is dropped (very chatty); the "Couldn't send endSessions" warning that every
// pool shutdown produces against servers without sessions (FerretDB) is debug level.
void mongoc_to_spdlog(mongoc_log_level_t level, const char* domain, const char* message,
                      void* /*user_data*/) {
  const std::string_view msg = message ? message : "";
  const char* dom = domain ? domain : "mongoc";
  switch (level) {
    case MONGOC_LOG_LEVEL_ERROR:
    case MONGOC_LOG_LEVEL_CRITICAL:
      spdlog::error("mongoc[{}]: {}", dom, msg);
      break;
    case MONGOC_LOG_LEVEL_WARNING:
      if (msg.find("endSessions") != std::string_view::npos) {
        spdlog::debug("mongoc[{}]: {}", dom, msg);
      } else {
        spdlog::warn("mongoc[{}]: {}", dom, msg);
      }
      break;
    case MONGOC_LOG_LEVEL_MESSAGE:
    case MONGOC_LOG_LEVEL_INFO:
      spdlog::info("mongoc[{}]: {}", dom, msg);
      break;
    default:
      break;  // debug, trace
  }
}

void init_mongoc_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    mongoc_init();
    mongoc_log_set_handler(mongoc_to_spdlog, nullptr);
    // mongoc_cleanup() is deliberately never called: pools may outlive main()'s locals
    // in static objects, and the process exit frees everything anyway.
  });
}

int32_t to_int32_ms(std::chrono::milliseconds v, const char* name, bool allow_zero) {
  if (v.count() < 0 || (!allow_zero && v.count() == 0) || v.count() > INT32_MAX) {
    throw std::invalid_argument(std::string("mongodb: ") + name + " out of range: " +
                                std::to_string(v.count()) + " ms");
  }
  return static_cast<int32_t>(v.count());
}

void set_int_option_unless_in_uri(mongoc_uri_t* uri, const char* key, int32_t value) {
  if (mongoc_uri_has_option(uri, key)) return;
  if (!mongoc_uri_set_option_as_int32(uri, key, value)) {
    throw std::invalid_argument(std::string("mongodb: cannot set URI option ") + key + "=" +
                                std::to_string(value));
  }
}

// mongodb://user:secret@host -> mongodb://user:***@host
std::string redact(std::string uri) {
  const auto scheme = uri.find("://");
  if (scheme == std::string::npos) return uri;
  const auto at = uri.find('@', scheme + 3);
  const auto slash = uri.find('/', scheme + 3);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return uri;
  const auto colon = uri.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return uri;
  uri.replace(colon + 1, at - colon - 1, "***");
  return uri;
}

bool contains(const char* haystack, const char* needle) {
  return haystack && std::strstr(haystack, needle) != nullptr;
}

}  // namespace

MongoClientPool::Lease::~Lease() {
  if (client_) pool_->release(client_);
}

MongoClientPool::MongoClientPool(const MongoOptions& o)
    : database_(o.database), idle_check_after_(o.idle_check_after) {
  init_mongoc_once();
  if (o.database.empty() || o.database.find_first_of("/\\. \"$") != std::string::npos) {
    throw std::invalid_argument("mongodb: invalid database name '" + o.database + "'");
  }
  if (o.max_pool_size <= 0) throw std::invalid_argument("mongodb: max_pool_size must be > 0");
  if (o.idle_check_after.count() < 0) {
    throw std::invalid_argument("mongodb: idle_check_after must be >= 0");
  }

  bson_error_t err{};
  uri_ = mongoc_uri_new_with_error(o.uri.c_str(), &err);
  if (!uri_) throw std::invalid_argument(std::string("mongodb: invalid URI: ") + err.message);
  redacted_uri_ = redact(o.uri);
  try {
    set_int_option_unless_in_uri(uri_, MONGOC_URI_MAXPOOLSIZE, o.max_pool_size);
    set_int_option_unless_in_uri(uri_, MONGOC_URI_WAITQUEUETIMEOUTMS,
                                 to_int32_ms(o.wait_queue_timeout, "wait_queue_timeout", false));
    set_int_option_unless_in_uri(
        uri_, MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
        to_int32_ms(o.server_selection_timeout, "server_selection_timeout", false));
    set_int_option_unless_in_uri(uri_, MONGOC_URI_CONNECTTIMEOUTMS,
                                 to_int32_ms(o.connect_timeout, "connect_timeout", false));
    set_int_option_unless_in_uri(uri_, MONGOC_URI_SOCKETTIMEOUTMS,
                                 to_int32_ms(o.socket_timeout, "socket_timeout", false));
    if (o.heartbeat_frequency.count() != 0) {
      const int32_t hb = to_int32_ms(o.heartbeat_frequency, "heartbeat_frequency", false);
      if (hb < 500) throw std::invalid_argument("mongodb: heartbeat_frequency must be >= 500 ms");
      set_int_option_unless_in_uri(uri_, MONGOC_URI_HEARTBEATFREQUENCYMS, hb);
    }
    if (!mongoc_uri_get_appname(uri_) && !o.app_name.empty()) {
      mongoc_uri_set_appname(uri_, o.app_name.c_str());
    }

    // The write concern: what the URI says, completed from the options.
    write_concern_ = mongoc_write_concern_copy(mongoc_uri_get_write_concern(uri_));
    const int32_t wtimeout = to_int32_ms(
        o.write_timeout.count() ? o.write_timeout : o.socket_timeout, "write_timeout", false);
    if (mongoc_write_concern_get_w(write_concern_) == MONGOC_WRITE_CONCERN_W_DEFAULT) {
      if (o.write_concern_w == "majority") {
        mongoc_write_concern_set_wmajority(write_concern_, wtimeout);
      } else {
        int w = 0;
        const char* b = o.write_concern_w.data();
        const char* e = b + o.write_concern_w.size();
        auto [p, ec] = std::from_chars(b, e, w);
        if (ec != std::errc() || p != e || w < 1) {
          throw std::invalid_argument("mongodb: write_concern_w must be \"majority\" or a number >= 1, got '" +
                                      o.write_concern_w + "'");
        }
        mongoc_write_concern_set_w(write_concern_, w);
        mongoc_write_concern_set_wtimeout_int64(write_concern_, wtimeout);
      }
    } else if (mongoc_write_concern_get_w(write_concern_) < 1 &&
               !mongoc_write_concern_get_wmajority(write_concern_)) {
      throw std::invalid_argument("mongodb: unacknowledged writes (w=0) are not allowed");
    }
    if (!mongoc_write_concern_journal_is_set(write_concern_)) {
      mongoc_write_concern_set_journal(write_concern_, o.journal);
    }
    if (mongoc_write_concern_get_wtimeout_int64(write_concern_) == 0) {
      mongoc_write_concern_set_wtimeout_int64(write_concern_, wtimeout);
    }
    if (!mongoc_write_concern_is_acknowledged(write_concern_) ||
        !mongoc_write_concern_is_valid(write_concern_)) {
      throw std::invalid_argument("mongodb: invalid write concern");
    }

    pool_ = mongoc_client_pool_new(uri_);
    if (!pool_) throw std::invalid_argument("mongodb: cannot create a client pool for this URI");
    mongoc_client_pool_set_error_api(pool_, MONGOC_ERROR_API_VERSION_2);
    mongoc_server_api_t* api = mongoc_server_api_new(MONGOC_SERVER_API_V1);
    mongoc_server_api_strict(api, o.api_strict);
    const bool api_ok = mongoc_client_pool_set_server_api(pool_, api, &err);
    mongoc_server_api_destroy(api);
    if (!api_ok) throw std::invalid_argument(std::string("mongodb: Stable API: ") + err.message);
  } catch (...) {
    if (pool_) mongoc_client_pool_destroy(pool_);
    if (write_concern_) mongoc_write_concern_destroy(write_concern_);
    mongoc_uri_destroy(uri_);
    throw;
  }
}

MongoClientPool::~MongoClientPool() {
  mongoc_client_pool_destroy(pool_);
  mongoc_write_concern_destroy(write_concern_);
  mongoc_uri_destroy(uri_);
}

Result<MongoClientPool::Lease> MongoClientPool::acquire() {
  mongoc_client_t* client = mongoc_client_pool_pop(pool_);
  if (!client) {
    return unavailable("database unavailable: no connection free within " +
                       std::to_string(mongoc_uri_get_option_as_int32(
                           uri_, MONGOC_URI_WAITQUEUETIMEOUTMS, 0)) +
                       " ms (waitQueueTimeoutMS)");
  }
  Lease lease(this, client);
  bool check = false;
  if (idle_check_after_.count() > 0) {
    std::lock_guard lock(mu_);
    auto it = last_used_.find(client);
    check = it != last_used_.end() && Clock::now() - it->second > idle_check_after_;
  }
  if (check) {
    // A ping on a connection the server closed fails at once and makes libmongoc drop
    // every pooled connection to that server; the second ping then selects the server
    // afresh (waiting at most serverSelectionTimeoutMS) on a new connection.
    bson_error_t err{};
    bool ok = false;
    for (int attempt = 0; attempt < 2 && !ok; ++attempt) {
      bson_t* cmd = BCON_NEW("ping", BCON_INT32(1));
      ok = mongoc_client_command_simple(client, "admin", cmd, nullptr, nullptr, &err);
      bson_destroy(cmd);
      if (!ok && !is_unavailable_error(err)) break;
    }
    if (!ok) return map_mongo_error(err, "connection check");
  }
  return lease;
}

void MongoClientPool::release(mongoc_client_t* client) {
  {
    std::lock_guard lock(mu_);
    last_used_[client] = Clock::now();
  }
  mongoc_client_pool_push(pool_, client);
}

Status MongoClientPool::ping() {
  auto lease = acquire();
  if (!lease) return lease.error();
  bson_error_t err{};
  bson_t* cmd = BCON_NEW("ping", BCON_INT32(1));
  const bool ok = mongoc_client_command_simple(lease->get(), "admin", cmd, nullptr, nullptr, &err);
  bson_destroy(cmd);
  if (!ok) return map_mongo_error(err, "ping");
  return Status::Ok();
}

void MongoClientPool::append_write_concern(bson_t* opts) const {
  std::lock_guard lock(mu_);
  mongoc_write_concern_append(write_concern_, opts);
}

void MongoClientPool::set_journal(bool journal) {
  std::lock_guard lock(mu_);
  mongoc_write_concern_set_journal(write_concern_, journal);
}

bool MongoClientPool::journal() const {
  std::lock_guard lock(mu_);
  return mongoc_write_concern_get_journal(write_concern_);
}

bool is_unavailable_error(const bson_error_t& e) {
  switch (e.domain) {
    case MONGOC_ERROR_STREAM:
    case MONGOC_ERROR_SERVER_SELECTION:
    case MONGOC_ERROR_PROTOCOL:
    case MONGOC_ERROR_WRITE_CONCERN:
    case MONGOC_ERROR_POOL:
      return true;
    case MONGOC_ERROR_CLIENT:
      switch (e.code) {
        case MONGOC_ERROR_CLIENT_NOT_READY:
        case MONGOC_ERROR_CLIENT_GETNONCE:
        case MONGOC_ERROR_CLIENT_AUTHENTICATE:
        case MONGOC_ERROR_CLIENT_NO_ACCEPTABLE_PEER:
          return true;
        default:
          return false;
      }
    case MONGOC_ERROR_SERVER:
    case MONGOC_ERROR_QUERY:
    case MONGOC_ERROR_COMMAND:
      switch (e.code) {
        case 6:      // HostUnreachable
        case 7:      // HostNotFound
        case 50:     // MaxTimeMSExpired
        case 64:     // WriteConcernFailed (wtimeout)
        case 89:     // NetworkTimeout
        case 91:     // ShutdownInProgress
        case 134:    // ReadConcernMajorityNotAvailableYet
        case 189:    // PrimarySteppedDown
        case 262:    // ExceededTimeLimit
        case 9001:   // SocketException
        case 10107:  // NotWritablePrimary
        case 11600:  // InterruptedAtShutdown
        case 11602:  // InterruptedDueToReplStateChange
        case 13435:  // NotPrimaryNoSecondaryOk
        case 13436:  // NotPrimaryOrSecondary
          return true;
        case 1:  // InternalError: FerretDB reports a busy SQLite file this way
          return contains(e.message, "database is locked") || contains(e.message, "SQLITE_BUSY");
        default:
          return false;
      }
    default:
      return false;
  }
}

StoreError map_mongo_error(const bson_error_t& e, const std::string& what) {
  const bool server_side = e.domain == MONGOC_ERROR_SERVER || e.domain == MONGOC_ERROR_QUERY ||
                           e.domain == MONGOC_ERROR_COMMAND ||
                           e.domain == MONGOC_ERROR_COLLECTION;
  if (server_side && (e.code == 11000 || e.code == 11001 || e.code == 12582 ||
                      // FerretDB (SQLite backend) reports a unique index violated by an
                      // update as InternalError carrying SQLite's message.
                      (e.code == 1 && contains(e.message, "UNIQUE constraint failed")))) {
    return conflict(what + ": a record with the same unique key already exists");
  }
  if (is_unavailable_error(e)) {
    if (e.domain == MONGOC_ERROR_WRITE_CONCERN) {
      spdlog::warn("mongodb: {}: write concern not satisfied: {}", what, e.message);
      return unavailable("database unavailable (" + what +
                         "): the write was not acknowledged by the required servers");
    }
    return unavailable("database unavailable (" + what + "): " + e.message);
  }
  spdlog::error("mongodb: {} failed: domain {} code {}: {}", what, e.domain, e.code, e.message);
  return internal_error("database error during " + what);
}

}  // namespace gthulhu::coordinator
