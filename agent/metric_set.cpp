#include "agent/metric_set.h"

namespace gthulhu::agent {

std::string MetricSetStore::update(const nlohmann::json& body) {
  if (!body.is_object()) return "metrics must be a JSON object";
  MetricSetSample s;
  for (size_t i = 0; i < kMetricSetFields.size(); ++i) {
    auto it = body.find(kMetricSetFields[i]);
    if (it == body.end() || it->is_null()) continue;
    if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0)) {
      return std::string(kMetricSetFields[i]) + " must be a non-negative integer";
    }
    s.values[i] = it->get<uint64_t>();
  }
  s.received = std::chrono::system_clock::now();
  std::lock_guard lock(mu_);
  latest_ = s;
  return "";
}

std::optional<MetricSetSample> MetricSetStore::latest() const {
  std::lock_guard lock(mu_);
  return latest_;
}

}  // namespace gthulhu::agent
