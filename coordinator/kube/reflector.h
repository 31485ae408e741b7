#pragma once
// Keeps a sink in step with one Kubernetes resource list (pods, in practice) the way
// client-go's reflector does:
//   1. LIST, in pages (limit/continue), as a consistent read; the sink receives the
//      full set (first time) or only what differs from what it had (a relist);
//   2. WATCH from the list's resourceVersion with allowWatchBookmarks and
//      timeoutSeconds; every event and bookmark advances the resourceVersion;
//   3. when the server ends the watch (timeout) or the connection drops, WATCH again
//      from the last resourceVersion: nothing is missed and nothing is relisted;
//   4. 410 Gone (an HTTP answer or an ERROR event): that resourceVersion was
//      compacted away, so LIST again and emit the differences;
//   5. no byte at all for dead_stream_timeout (bookmarks arrive about once a minute
//      on a healthy stream): the connection is dead, so reconnect;
//   6. failures back off exponentially with jitter; stop() returns promptly even
//      while a watch or a LIST is blocked.
// The reflector remembers only each object's key and resourceVersion (to compute the
// differences of a relist); the sink keeps whatever it needs of the objects.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "coordinator/kube/kube_client.h"
#include "coordinator/kube/watch_decoder.h"

namespace gthulhu::coordinator::kube {

struct ReflectorOptions {
  std::string name = "objects";  // for logs: "pods", "agent pods"
  std::string list_path;         // "/api/v1/pods" or "/api/v1/namespaces/NS/pods"
  std::string label_selector;    // "" = all
  std::string field_selector;    // "" = all
  std::int64_t page_size = 500;
  // timeoutSeconds of each watch; the actual value is drawn from [t, 1.25 t] so many
  // watchers do not reconnect in lockstep.
  std::chrono::seconds watch_timeout{300};
  std::chrono::seconds dead_stream_timeout{90};
  std::chrono::milliseconds backoff_initial{250};
  std::chrono::milliseconds backoff_max{30000};
  size_t max_event_bytes = 16u << 20;
};

struct ObjectDelta {
  enum class Kind { Upsert, Delete };
  Kind kind = Kind::Upsert;
  std::string key;        // "namespace/name" ("name" for cluster-scoped objects)
  nlohmann::json object;  // Upsert: the object. Delete: the object from a DELETED event,
                          // null when a relist found it gone
};

class ReflectorSink {
 public:
  virtual ~ReflectorSink() = default;
  // On the reflector's thread, in order. `initial` is true for the first LIST (the
  // sink is complete once it returns); later relists send only differences.
  virtual void apply(const std::vector<ObjectDelta>& deltas, bool initial) = 0;
};

struct ReflectorStats {
  std::uint64_t lists = 0;           // successful LISTs (initial + relists)
  std::uint64_t relists_gone = 0;    // LISTs forced by 410 Gone
  std::uint64_t watches = 0;         // watch connections opened
  std::uint64_t events = 0;          // ADDED/MODIFIED/DELETED applied
  std::uint64_t bookmarks = 0;
  std::uint64_t malformed = 0;       // skipped lines / objects
  std::uint64_t failures = 0;        // failed LISTs or watches (then backoff)
  std::uint64_t dead_streams = 0;    // reconnects after dead_stream_timeout
};

class Reflector {
 public:
  Reflector(KubeCredentials credentials, KubeClientOptions client_options,
            ReflectorOptions options, ReflectorSink& sink);
  ~Reflector();  // stop()
  Reflector(const Reflector&) = delete;
  Reflector& operator=(const Reflector&) = delete;

  void start();
  // Ends the thread: aborts a blocked request, returns within about a second.
  void stop();

  bool synced() const { return synced_.load(); }
  std::string resource_version() const;
  ReflectorStats stats() const;

 private:
  enum class WatchEnd { Expired, Gone, Failed, Stopped };

  void run();
  bool list();
  WatchEnd watch();
  bool handle_event(const WatchEvent& e, WatchEnd& end);
  bool apply_object_event(const WatchEvent& e);
  std::string list_url(const std::string& continue_token) const;
  std::string watch_url(const std::string& resource_version);
  void sleep_unless_stopped(std::chrono::milliseconds d);
  void set_resource_version(const std::string& rv);

  ReflectorOptions options_;
  ReflectorSink& sink_;
  std::atomic<bool> stopping_{false};
  KubeClient client_;
  std::thread thread_;
  std::mutex wait_mu_;
  std::condition_variable wait_cv_;

  std::map<std::string, std::string> known_;  // key -> resourceVersion (reflector thread only)
  std::atomic<bool> synced_{false};
  mutable std::mutex mu_;  // guards rv_ and stats_
  std::string rv_;
  ReflectorStats stats_;
  std::uint64_t rng_state_;
};

// "namespace/name" of an object (or "name" without a namespace); "" when it has no name.
std::string object_key(const nlohmann::json& object);
// metadata.resourceVersion; "" when absent.
std::string object_resource_version(const nlohmann::json& object);

}  // namespace gthulhu::coordinator::kube
