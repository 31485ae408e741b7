#pragma once
// The seed's MetricSet: the eleven counters an external scheduler pushes with
// POST /api/v1/metrics (upstream names), kept as the latest sample.
#include <array>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace gthulhu::agent {

inline constexpr std::array<const char*, 11> kMetricSetFields = {
    "usersched_last_run_at", "nr_queued",           "nr_scheduled",         "nr_running",
    "nr_online_cpus",        "nr_user_dispatches",  "nr_kernel_dispatches", "nr_cancel_dispatches",
    "nr_bounce_dispatches",  "nr_failed_dispatches", "nr_sched_congested"};

struct MetricSetSample {
  std::array<uint64_t, kMetricSetFields.size()> values{};
  std::chrono::system_clock::time_point received;
};

class MetricSetStore {
 public:
  // Every field is optional (absent = 0) but each present one must be a non-negative
  // integer; returns the error for a 400 otherwise.
  std::string update(const nlohmann::json& body);
  std::optional<MetricSetSample> latest() const;

 private:
  mutable std::mutex mu_;
  std::optional<MetricSetSample> latest_;
};

}  // namespace gthulhu::agent
