#pragma once
// The MongoDB connection layer of the coordinator's store: one mongoc_client_pool_t
// configured from MongoOptions (timeouts, pool size, Stable API v1, write concern) and an
// RAII lease of one client from it. Knows nothing of the domain; mongo_store.* does.
//
// Fail-fast policy: every wait is bounded. Popping a client waits at most
// wait_queue_timeout; selecting a server at most server_selection_timeout; one socket
// read/write at most socket_timeout. Whatever exceeds them comes back as kUnavailable.
#include <mongoc/mongoc.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "coordinator/store/result.h"

namespace gthulhu::coordinator {

struct MongoOptions {
  // Any MongoDB connection string (mongodb:// or mongodb+srv://, credentials, TLS,
  // replicaSet...). Options written in the URI win over the fields below.
  std::string uri = "mongodb://127.0.0.1:27017/";
  std::string database = "gthulhu";
  std::string app_name = "gthulhu-coordinator";

  int max_pool_size = 32;                                  // maxPoolSize
  std::chrono::milliseconds wait_queue_timeout{1000};      // waitQueueTimeoutMS
  std::chrono::milliseconds server_selection_timeout{2000};  // serverSelectionTimeoutMS
  std::chrono::milliseconds connect_timeout{2000};         // connectTimeoutMS
  std::chrono::milliseconds socket_timeout{5000};          // socketTimeoutMS
  // heartbeatFrequencyMS of the pool's background monitor; 0 = the driver's default
  // (10 s). Lower means a restarted server is noticed sooner without traffic.
  std::chrono::milliseconds heartbeat_frequency{0};
  // A pooled client idle for longer than this is checked with a ping (retried once on a
  // fresh connection) before it is used, so a write is not sent on a connection the
  // server closed while it was idle (a restarted server). 0 disables the check.
  std::chrono::milliseconds idle_check_after{1000};

  // Write concern of every write: w ("majority" or a number as text), journal and the
  // wtimeout (0 = socket_timeout). journal=true falls back to false, with a warning, on a
  // server that has no journal (migrate() finds out).
  std::string write_concern_w = "majority";
  bool journal = true;
  std::chrono::milliseconds write_timeout{0};

  // Stable API: version 1 is always declared; strict rejects anything outside it.
  bool api_strict = true;

  // Record locks around read-modify-write operations. MongoDB applies a findAndModify /
  // update to one document atomically; FerretDB v1 does not (it reads, modifies in Go
  // and writes back, so concurrent updates of one document are lost). kAuto detects
  // FerretDB at migrate() and then serialises each such operation with a short-lived
  // lock document (a unique insert, which FerretDB does make atomic).
  // Multi-document operations (replacing a strategy's intents) take the lock on every
  // server.
  enum class UpdateLocks { kAuto, kAlways, kNever };
  UpdateLocks update_locks = UpdateLocks::kAuto;
  // How long an operation waits for a record lock held by another coordinator before
  // kUnavailable, and after how long a lock left by a crashed holder is taken over.
  std::chrono::milliseconds lock_wait{3000};
  std::chrono::milliseconds lock_lease{15000};

  // Start-up: migrate() retries while the database is unavailable, waiting
  // retry_initial_backoff, doubling up to retry_max_backoff, for at most start_timeout
  // in total (0 = until it works or the store is destroyed / cancel_start() is called).
  std::chrono::milliseconds retry_initial_backoff{250};
  std::chrono::milliseconds retry_max_backoff{5000};
  std::chrono::milliseconds start_timeout{0};
};

class MongoClientPool {
 public:
  // A client popped from the pool, pushed back on destruction. Move-only.
  class Lease {
   public:
    Lease(MongoClientPool* pool, mongoc_client_t* client) : pool_(pool), client_(client) {}
    Lease(Lease&& other) noexcept : pool_(other.pool_), client_(other.client_) {
      other.client_ = nullptr;
    }
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();
    mongoc_client_t* get() const { return client_; }

   private:
    MongoClientPool* pool_;
    mongoc_client_t* client_;
  };

  // Throws std::invalid_argument for a malformed URI or an invalid option value (a
  // configuration error, reported at start-up). Contacts no server.
  explicit MongoClientPool(const MongoOptions& options);
  ~MongoClientPool();
  MongoClientPool(const MongoClientPool&) = delete;
  MongoClientPool& operator=(const MongoClientPool&) = delete;

  // A client, or kUnavailable when none frees up within waitQueueTimeoutMS or (for an
  // idle client) the server does not answer the pre-use ping.
  Result<Lease> acquire();

  // One ping on a client of the pool.
  Status ping();

  const std::string& database() const { return database_; }
  // The URI with any password masked, for logs.
  const std::string& redacted_uri() const { return redacted_uri_; }
  // Appends {writeConcern: ...} to `opts`.
  void append_write_concern(bson_t* opts) const;
  // Sets `j` of the write concern (false for a server without journaling).
  void set_journal(bool journal);
  bool journal() const;

 private:
  void release(mongoc_client_t* client);

  mongoc_client_pool_t* pool_ = nullptr;
  mongoc_uri_t* uri_ = nullptr;
  std::string database_;
  std::string redacted_uri_;
  std::chrono::milliseconds idle_check_after_;

  mutable std::mutex mu_;
  mongoc_write_concern_t* write_concern_ = nullptr;  // guarded by mu_ when changed
  std::unordered_map<mongoc_client_t*, std::chrono::steady_clock::time_point> last_used_;
};

// Maps a libmongoc / server error to the store's error model. `what` names the operation
// for the message ("insert user"). Duplicate keys -> kConflict; network, server
// selection, pool timeout, shutdown/stepdown and write-concern errors -> kUnavailable;
// anything else -> kInternal (detail logged, not returned).
StoreError map_mongo_error(const bson_error_t& error, const std::string& what);

// True when the error means "the server could not be reached or is going away".
bool is_unavailable_error(const bson_error_t& error);

}  // namespace gthulhu::coordinator
