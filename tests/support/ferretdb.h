#pragma once
// FerretDB (a MongoDB wire-protocol server on SQLite) as a child process on loopback, for
// the MongoDB store's tests. Each FerretDb owns a free port and a private temporary data
// directory; stop() and start() again reuse both, so tests can take the database away
// mid-run and bring it back with its data.
//
// The binary is $GTHULHU_FERRETDB if set, else $GTHULHU_CACHE/bin/ferretdb (default
// ${XDG_CACHE_HOME:-$HOME/.cache}/gthulhu/bin/ferretdb, installed by scripts/ferretdb.sh).
// Tests call FerretDb::unavailable_reason() first and GTEST_SKIP with it when non-empty.
//
// The child gets PR_SET_PDEATHSIG(SIGKILL) so a crashed test run leaves no server behind.
// That signal fires when the *thread* that started it exits, so call start() from the
// test's main thread (or a thread that outlives the server), not from a short-lived one.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "tests/support/temp_dir.h"

namespace gthulhu::test {

class FerretDb {
 public:
  // Where the binary is expected (see above); it may not exist.
  static std::filesystem::path binary_path();
  // Empty when a FerretDB binary is present and runs (`--version` works); otherwise a
  // sentence for GTEST_SKIP. The check runs once per process.
  static const std::string& unavailable_reason();

  // Picks a free loopback port and creates the data directories; does not start.
  FerretDb();
  ~FerretDb();  // stop()
  FerretDb(const FerretDb&) = delete;
  FerretDb& operator=(const FerretDb&) = delete;

  // Starts the server and waits until it answers a wire-protocol ping. Returns false (and
  // sets last_error(), which includes the tail of the server log) on failure or timeout.
  bool start(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Graceful stop: SIGTERM, then SIGKILL after `grace`; reaps the child. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  // Abrupt stop (SIGKILL), as a crash.
  void kill();
  bool running() const { return pid_ > 0; }

  uint16_t port() const { return port_; }
  // "mongodb://127.0.0.1:<port>/" (no options).
  std::string uri() const;
  const std::string& last_error() const { return last_error_; }
  // The last `max_bytes` of the server's combined stdout/stderr.
  std::string log_tail(size_t max_bytes = 4096) const;

  // One wire-protocol ping (OP_MSG {ping: 1, $db: "admin"}) with a timeout; true on ok:1.
  static bool ping(uint16_t port, std::chrono::milliseconds timeout);

 private:
  void reap(std::chrono::milliseconds wait);

  TempDir dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::string last_error_;
};

}  // namespace gthulhu::test
