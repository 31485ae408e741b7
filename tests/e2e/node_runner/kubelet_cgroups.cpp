#include "tests/e2e/node_runner/kubelet_cgroups.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

#include <openssl/sha.h>

namespace gthulhu::e2e {
namespace {

const char* qos_name(QosClass q) {
  return q == QosClass::Guaranteed ? "guaranteed" : q == QosClass::Burstable ? "burstable" : "besteffort";
}

// A container id of 64 hex digits, stable for a pod and container (like a CRI id).
std::string container_id(const std::string& uid, const std::string& name) {
  std::string in = uid + "/" + name;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(in.data()), in.size(), digest);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : digest) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

std::optional<std::string> quantity(const nlohmann::json& resources, const char* kind, const char* res) {
  if (!resources.is_object() || !resources.contains(kind) || !resources[kind].is_object()) return std::nullopt;
  const auto& m = resources[kind];
  if (!m.contains(res)) return std::nullopt;
  if (m[res].is_string()) return m[res].get<std::string>();
  if (m[res].is_number()) return std::to_string(m[res].get<double>());
  return std::nullopt;
}

}  // namespace

std::optional<std::int64_t> parse_milli_cpu(const std::string& q) {
  if (q.empty()) return std::nullopt;
  if (q.back() == 'm') {
    std::int64_t v = 0;
    auto r = std::from_chars(q.data(), q.data() + q.size() - 1, v);
    if (r.ec != std::errc{} || r.ptr != q.data() + q.size() - 1 || v < 0) return std::nullopt;
    return v;
  }
  if (!std::all_of(q.begin(), q.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; }))
    return std::nullopt;
  try {
    size_t used = 0;
    double cores = std::stod(q, &used);
    if (used != q.size() || cores < 0) return std::nullopt;
    return static_cast<std::int64_t>(cores * 1000 + 0.5);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::uint64_t cpu_weight_from_milli(std::int64_t milli) {
  std::uint64_t shares = static_cast<std::uint64_t>(milli) * 1024 / 1000;
  shares = std::clamp<std::uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

std::string cpu_max_from_milli(std::optional<std::int64_t> milli) {
  constexpr std::int64_t period = 100000;
  if (!milli) return "max 100000";
  std::int64_t quota = std::max<std::int64_t>(*milli * period / 1000, 1000);  // kubelet's minimum 1 ms
  return std::to_string(quota) + " " + std::to_string(period);
}

PodCgroupPlan plan_pod_cgroups(const nlohmann::json& pod) {
  std::string uid = pod.value("/metadata/uid"_json_pointer, std::string{});
  if (uid.empty()) throw std::invalid_argument("metadata.uid is missing");
  const auto& containers = pod.value("/spec/containers"_json_pointer, nlohmann::json::array());
  bool any = false, all_guaranteed = !containers.empty();
  std::int64_t req_sum = 0, lim_sum = 0;
  bool all_limited = !containers.empty();
  for (const auto& c : containers) {
    const auto& res = c.value("resources", nlohmann::json::object());
    std::string name = c.value("name", std::string{});
    auto parse = [&](const char* kind) -> std::optional<std::int64_t> {
      auto q = quantity(res, kind, "cpu");
      if (!q) return std::nullopt;
      auto m = parse_milli_cpu(*q);
      if (!m) throw std::invalid_argument("spec.containers[" + name + "].resources." + kind + ".cpu: bad quantity '" + *q + "'");
      return m;
    };
    auto lim = parse("limits");
    auto req = parse("requests");
    if (!req && lim) req = lim;  // the API server defaults requests to limits
    auto mem_lim = quantity(res, "limits", "memory");
    auto mem_req = quantity(res, "requests", "memory");
    if (!mem_req && mem_lim) mem_req = mem_lim;
    any = any || req || lim || mem_lim || mem_req;
    if (!(lim && req && *lim == *req && mem_lim && mem_req && *mem_lim == *mem_req)) all_guaranteed = false;
    req_sum += req.value_or(0);
    if (lim) lim_sum += *lim; else all_limited = false;
  }
  PodCgroupPlan plan;
  plan.qos = all_guaranteed ? QosClass::Guaranteed : any ? QosClass::Burstable : QosClass::BestEffort;
  std::string u = uid;
  std::replace(u.begin(), u.end(), '-', '_');
  if (plan.qos == QosClass::Guaranteed) {
    plan.pod_dir = "kubepods.slice/kubepods-pod" + u + ".slice";
  } else {
    std::string q = qos_name(plan.qos);
    plan.pod_dir = "kubepods.slice/kubepods-" + q + ".slice/kubepods-" + q + "-pod" + u + ".slice";
  }
  for (const auto& c : containers) {
    plan.container_dirs.push_back(plan.pod_dir + "/cri-containerd-" +
                                  container_id(uid, c.value("name", std::string{})) + ".scope");
  }
  plan.cpu_weight = cpu_weight_from_milli(plan.qos == QosClass::BestEffort ? 0 : req_sum);
  plan.cpu_max = cpu_max_from_milli(all_limited ? std::optional<std::int64_t>(lim_sum) : std::nullopt);
  return plan;
}

}  // namespace gthulhu::e2e
