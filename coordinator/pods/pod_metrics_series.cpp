#include "coordinator/pods/pod_metrics_series.h"

#include <algorithm>
#include <cmath>

#include "coordinator/api/route_support.h"

namespace gthulhu::coordinator {

using nlohmann::json;

namespace {

bool non_negative_integer(const json& v) {
  return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
}

bool read_u64(const json& j, const char* key, uint64_t* out) {
  auto it = j.find(key);
  if (it == j.end() || !non_negative_integer(*it)) return false;
  *out = it->get<uint64_t>();
  return true;
}

bool read_u64_array(const json& j, std::vector<uint64_t>* out) {
  if (!j.is_array()) return false;
  for (const auto& v : j) {
    if (!non_negative_integer(v)) return false;
    out->push_back(v.get<uint64_t>());
  }
  return true;
}

// a - b per bucket; false when any bucket shrank.
bool difference(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b, std::vector<uint64_t>* out) {
  if (a.size() != b.size()) return false;
  out->resize(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] < b[i]) return false;
    (*out)[i] = a[i] - b[i];
  }
  return true;
}

bool went_backwards(const PodStatsSnapshot& prev, const PodStatsSnapshot& next) {
  std::vector<uint64_t> d;
  return next.cpu_time_ns < prev.cpu_time_ns || next.runs < prev.runs || next.node != prev.node ||
         next.bounds_ns != prev.bounds_ns || !difference(next.counts, prev.counts, &d);
}

json optional_number(const std::optional<double>& v) {
  return v ? json(static_cast<uint64_t>(std::llround(*v))) : json(nullptr);
}

}  // namespace

std::optional<PodStatsSnapshot> snapshot_from_agent(const json& data, UnixMillis time, std::string* why) {
  PodStatsSnapshot s;
  s.time = time;
  if (!data.is_object()) {
    *why = "pod stats answer is not an object";
    return std::nullopt;
  }
  s.node = data.value("node", "");
  s.source = data.value("source", "");
  const auto hist = data.find("waitHistogram");
  if (!read_u64(data, "cpuTimeNs", &s.cpu_time_ns) || !read_u64(data, "runs", &s.runs) ||
      !read_u64(data, "waitTimeNs", &s.wait_time_ns) || hist == data.end() || !hist->is_object() ||
      !read_u64_array(hist->value("boundsNs", json()), &s.bounds_ns) ||
      !read_u64_array(hist->value("counts", json()), &s.counts)) {
    *why = "pod stats answer lacks cpuTimeNs/runs/waitTimeNs/waitHistogram";
    return std::nullopt;
  }
  if (s.counts.empty() || s.bounds_ns.size() + 1 != s.counts.size() ||
      !std::is_sorted(s.bounds_ns.begin(), s.bounds_ns.end())) {
    *why = "pod stats histogram needs ascending boundsNs with one entry fewer than counts";
    return std::nullopt;
  }
  return s;
}

std::optional<double> histogram_quantile(const std::vector<uint64_t>& bounds_ns,
                                         const std::vector<uint64_t>& counts, double q) {
  uint64_t total = 0;
  for (auto c : counts) total += c;
  if (total == 0) return std::nullopt;
  const double rank = q * static_cast<double>(total);
  double below = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const double c = static_cast<double>(counts[i]);
    if (c > 0 && below + c >= rank) {
      const double lo = i == 0 ? 0.0 : static_cast<double>(bounds_ns[i - 1]);
      if (i >= bounds_ns.size()) return lo;  // the open last bucket
      const double hi = static_cast<double>(bounds_ns[i]);
      return lo + (hi - lo) * std::clamp((rank - below) / c, 0.0, 1.0);
    }
    below += c;
  }
  return bounds_ns.empty() ? 0.0 : static_cast<double>(bounds_ns.back());
}

void PodMetricsSeries::add(const std::string& pod_uid, PodStatsSnapshot snapshot) {
  std::lock_guard lock(mu_);
  if (!pods_.count(pod_uid) && pods_.size() >= kMaxPods) {
    auto oldest = std::min_element(pods_.begin(), pods_.end(),
                                   [](const auto& a, const auto& b) { return a.second.touched < b.second.touched; });
    pods_.erase(oldest);
  }
  Entry& e = pods_[pod_uid];
  e.touched = ++tick_;
  if (!e.samples.empty() && went_backwards(e.samples.back(), snapshot)) e.samples.clear();
  e.samples.push_back(std::move(snapshot));
  while (e.samples.size() > kMaxSamples) e.samples.pop_front();
}

std::optional<UnixMillis> PodMetricsSeries::latest_time(const std::string& pod_uid) const {
  std::lock_guard lock(mu_);
  auto it = pods_.find(pod_uid);
  if (it == pods_.end() || it->second.samples.empty()) return std::nullopt;
  return it->second.samples.back().time;
}

std::optional<json> PodMetricsSeries::to_json(const std::string& pod_uid) const {
  std::lock_guard lock(mu_);
  auto it = pods_.find(pod_uid);
  if (it == pods_.end() || it->second.samples.empty()) return std::nullopt;
  const auto& samples = it->second.samples;
  const PodStatsSnapshot& last = samples.back();
  json rows = json::array();
  // Each row describes the interval since the previous snapshot; the first one (no
  // previous) describes everything counted so far and has no CPU use figure.
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const PodStatsSnapshot& s = samples[i];
    std::vector<uint64_t> counts = s.counts;
    json cpu_use = nullptr;
    uint64_t runs = s.runs;
    if (i > 0) {
      const PodStatsSnapshot& p = samples[i - 1];
      difference(s.counts, p.counts, &counts);
      runs = s.runs - p.runs;
      const double wall_ns = static_cast<double>(s.time - p.time) * 1e6;
      if (wall_ns > 0) cpu_use = static_cast<double>(s.cpu_time_ns - p.cpu_time_ns) / wall_ns;
    }
    rows.push_back({{"time", rfc3339_millis(s.time)},
                    {"cpuTimeNs", s.cpu_time_ns},
                    {"cpuUse", cpu_use},
                    {"runs", runs},
                    {"waitP50Ns", optional_number(histogram_quantile(s.bounds_ns, counts, 0.50))},
                    {"waitP99Ns", optional_number(histogram_quantile(s.bounds_ns, counts, 0.99))}});
  }
  return json{{"podId", pod_uid},
              {"node", last.node},
              {"source", last.source},
              {"sampledAt", rfc3339_millis(last.time)},
              {"cpuTimeNs", last.cpu_time_ns},
              {"runs", last.runs},
              {"waitTimeNs", last.wait_time_ns},
              {"waitHistogram", {{"boundsNs", last.bounds_ns}, {"counts", last.counts}}},
              {"samples", rows}};
}

}  // namespace gthulhu::coordinator
