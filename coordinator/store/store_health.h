#pragma once
// The store's health as /health reports it, from a background check instead of a
// round trip per request: a probe (load balancer, kubelet) polling /health at any
// rate costs the store one ping per interval. The answer carries the check's age, and
// a check older than `stale_after` (the pinger hung on a dead store) counts as failed.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "coordinator/store/store.h"

namespace gthulhu::coordinator {

struct StoreHealthOptions {
  std::chrono::milliseconds interval{1000};     // between the end of one ping and the next
  std::chrono::milliseconds stale_after{5000};  // a result older than this is not trusted
};

struct StoreHealth {
  bool checked = false;  // false until the first ping finished
  bool ok = false;       // the last ping succeeded and is not stale
  std::string error;     // why not, when !ok
  std::chrono::milliseconds age{0};      // since the last ping finished
  std::chrono::milliseconds latency{0};  // how long that ping took
};

class StoreHealthMonitor {
 public:
  using Clock = std::chrono::steady_clock;
  StoreHealthMonitor(Store& store, StoreHealthOptions options = {});
  ~StoreHealthMonitor();
  StoreHealthMonitor(const StoreHealthMonitor&) = delete;
  StoreHealthMonitor& operator=(const StoreHealthMonitor&) = delete;

  void start();  // starts the background pinger (first ping at once)
  void stop();   // joins it; safe to call twice

  StoreHealth current() const;
  // Blocks until a ping finishes after this call began, or the timeout passes; for
  // tests and start-up. True when one did.
  bool wait_for_check(std::chrono::milliseconds timeout) const;
  // Pings now (not at the next interval) and waits up to timeout for that result: the
  // coordinator calls it once the schema exists, so "ready" never reports the failed
  // ping of an unmigrated store.
  bool check_now(std::chrono::milliseconds timeout);

 private:
  void run();

  Store& store_;
  StoreHealthOptions options_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool stopping_ = false;
  bool check_requested_ = false;
  bool pinging_ = false;
  uint64_t checks_ = 0;
  std::optional<Clock::time_point> finished_at_;
  bool last_ok_ = false;
  std::string last_error_;
  std::chrono::milliseconds last_latency_{0};
  std::thread thread_;
};

}  // namespace gthulhu::coordinator
