#pragma once
// The leader-election record a coordination.k8s.io/v1 Lease holds, and the decisions
// made on it, as client-go's leaderelection makes them:
//   - a lease is free when it has no holder, or when the record has not changed for
//     leaseDurationSeconds as measured on OUR clock since we first saw it (never by
//     comparing the holder's renewTime with our wall clock: clocks are skewed);
//   - taking a lease from another holder (or a free one) bumps leaseTransitions and
//     sets acquireTime; renewing our own keeps both and moves renewTime;
//   - releasing clears the holder and sets leaseDurationSeconds to 1, so a waiting
//     replica takes over at its next retry instead of after a full lease duration.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace gthulhu::coordinator::kube {

struct LeaseRecord {
  std::string holder;          // spec.holderIdentity; "" = free
  std::int64_t duration_seconds = 0;
  std::string acquire_time;    // MicroTime text
  std::string renew_time;
  std::int64_t transitions = 0;
  bool operator==(const LeaseRecord&) const = default;
};

// The record in a Lease object's spec (missing fields are zero / empty).
LeaseRecord lease_record_of(const nlohmann::json& lease);
// Writes `record` into lease.spec (leaving metadata, so resourceVersion stays for the PUT).
void set_lease_record(nlohmann::json& lease, const LeaseRecord& record);
// A new Lease object holding `record`.
nlohmann::json new_lease_object(const std::string& namespace_, const std::string& name,
                                const LeaseRecord& record);

// Kubernetes MicroTime of a wall-clock instant: "2026-12-02T10:04:05.123456Z".
std::string micro_time(std::chrono::system_clock::time_point t);

enum class LeaseDecision { Create, Acquire, Renew, HeldByOther };

// What to do having read the lease (nullopt: it does not exist). `expired` comes from
// lease_expired() on the observation time of `current`.
LeaseDecision decide_lease(const std::optional<LeaseRecord>& current, const std::string& identity,
                           bool expired);

// True when a record observed (first seen unchanged) at `observed_at` is stale at `now`.
bool lease_expired(const LeaseRecord& record, std::chrono::steady_clock::time_point observed_at,
                   std::chrono::steady_clock::time_point now);

// The record to write for a decision (Create / Acquire / Renew).
LeaseRecord next_lease_record(const std::optional<LeaseRecord>& current, LeaseDecision decision,
                              const std::string& identity, std::chrono::seconds duration,
                              const std::string& now_text);

// The record that releases our lease.
LeaseRecord released_lease_record(const LeaseRecord& current, const std::string& now_text);

}  // namespace gthulhu::coordinator::kube
