#pragma once
// Leader election on a coordination.k8s.io/v1 Lease, the way client-go's leaderelection
// does it (see lease_record.h for the rules): every retry_period the elector reads the
// Lease and creates, takes over or renews it with an optimistic-concurrency PUT (the
// resourceVersion it read; a 409 means someone else wrote first). A leader that could
// not renew for renew_deadline stops leading (before the lease_duration others wait,
// so two replicas never both believe they lead for long), then campaigns again.
// stop() releases the lease, so another replica takes over at its next retry.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "coordinator/ha/leader_elector.h"
#include "coordinator/kube/kube_client.h"
#include "coordinator/kube/lease_record.h"

namespace gthulhu::coordinator::kube {

struct LeaseElectorOptions {
  std::string namespace_;  // required
  std::string name = "gthulhu-coordinator";
  std::string identity;    // "" = hostname + "_" + random suffix
  std::chrono::seconds lease_duration{15};
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
};

// hostname + "_" + 8 random hex digits.
std::string default_lease_identity();

// Throws std::invalid_argument unless 0 < retry_period < renew_deadline < lease_duration.
void validate_lease_timing(const LeaseElectorOptions& options);

class LeaseElector final : public LeaderElector {
 public:
  LeaseElector(KubeCredentials credentials, KubeClientOptions client_options,
               LeaseElectorOptions options);
  ~LeaseElector() override;  // stop()

  void start(Callback on_change) override;
  void stop() override;
  bool leading() const override { return leading_.load(); }

  // Stops campaigning WITHOUT releasing the lease and without calling back, as if the
  // process had died (kill -9): others take over only once the lease expires. Tests.
  void abandon();

  const std::string& identity() const { return options_.identity; }

 private:
  enum class Attempt { Leading, NotLeading, LostToOther };

  void run();
  bool halt();  // ends the thread; returns whether we were leading
  Attempt try_acquire_or_renew(std::chrono::milliseconds budget);
  void step_down_if_overdue(std::chrono::steady_clock::time_point last_renew);
  void release();
  void observe(const LeaseRecord& record);
  void set_leading(bool leading);
  std::string lease_path() const;
  void sleep_unless_stopped(std::chrono::milliseconds d);

  LeaseElectorOptions options_;
  KubeClient client_;
  std::chrono::milliseconds request_timeout_;
  Callback on_change_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<bool> leading_{false};

  // Elector thread only.
  std::optional<LeaseRecord> observed_;
  std::chrono::steady_clock::time_point observed_at_{};
  nlohmann::json last_lease_;  // the object last read or written (for its resourceVersion)
};

}  // namespace gthulhu::coordinator::kube
