#include "coordinator/kube/lease_record.h"

#include <ctime>

namespace gthulhu::coordinator::kube {
namespace {

using nlohmann::json;

std::string text_of(const json& spec, const char* name) {
  auto it = spec.find(name);
  return it != spec.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t int_of(const json& spec, const char* name) {
  auto it = spec.find(name);
  return it != spec.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

}  // namespace

LeaseRecord lease_record_of(const json& lease) {
  LeaseRecord r;
  auto spec = lease.find("spec");
  if (spec == lease.end() || !spec->is_object()) return r;
  r.holder = text_of(*spec, "holderIdentity");
  r.duration_seconds = int_of(*spec, "leaseDurationSeconds");
  r.acquire_time = text_of(*spec, "acquireTime");
  r.renew_time = text_of(*spec, "renewTime");
  r.transitions = int_of(*spec, "leaseTransitions");
  return r;
}

void set_lease_record(json& lease, const LeaseRecord& r) {
  json& spec = lease["spec"];
  if (!spec.is_object()) spec = json::object();
  // An empty holder is written as absent, as client-go's release does.
  if (r.holder.empty()) spec.erase("holderIdentity");
  else spec["holderIdentity"] = r.holder;
  spec["leaseDurationSeconds"] = r.duration_seconds;
  spec["acquireTime"] = r.acquire_time;
  spec["renewTime"] = r.renew_time;
  spec["leaseTransitions"] = r.transitions;
}

json new_lease_object(const std::string& namespace_, const std::string& name, const LeaseRecord& r) {
  json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", name}, {"namespace", namespace_}}}};
  set_lease_record(lease, r);
  return lease;
}

std::string micro_time(std::chrono::system_clock::time_point t) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // ample for any int values snprintf may be handed
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(us % 1000000));
  return buf;
}

LeaseDecision decide_lease(const std::optional<LeaseRecord>& current, const std::string& identity,
                           bool expired) {
  if (!current) return LeaseDecision::Create;
  if (current->holder == identity) return LeaseDecision::Renew;
  if (current->holder.empty() || expired) return LeaseDecision::Acquire;
  return LeaseDecision::HeldByOther;
}

bool lease_expired(const LeaseRecord& record, std::chrono::steady_clock::time_point observed_at,
                   std::chrono::steady_clock::time_point now) {
  return observed_at + std::chrono::seconds(record.duration_seconds) <= now;
}

LeaseRecord next_lease_record(const std::optional<LeaseRecord>& current, LeaseDecision decision,
                              const std::string& identity, std::chrono::seconds duration,
                              const std::string& now_text) {
  LeaseRecord r;
  r.holder = identity;
  r.duration_seconds = duration.count();
  r.renew_time = now_text;
  r.acquire_time = now_text;
  if (decision == LeaseDecision::Renew && current) {
    r.acquire_time = current->acquire_time;
    r.transitions = current->transitions;
  } else if (decision == LeaseDecision::Acquire && current) {
    r.transitions = current->transitions + 1;
  }
  return r;
}

LeaseRecord released_lease_record(const LeaseRecord& current, const std::string& now_text) {
  LeaseRecord r;
  r.duration_seconds = 1;
  r.acquire_time = now_text;
  r.renew_time = now_text;
  r.transitions = current.transitions;
  return r;
}

}  // namespace gthulhu::coordinator::kube
