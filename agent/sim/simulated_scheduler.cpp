#include "agent/sim/simulated_scheduler.h"

#include <algorithm>
#include <cmath>

namespace gthulhu::agent {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kSigma = 0.9;
constexpr double kMedianNs = 60e3;
constexpr double kLoadPeriodS = 90.0;
// A policy far behind (not read for a long time) is caught up in at most this many
// chunks, each at the load of its middle: bounded work per read.
constexpr uint64_t kMaxChunks = 6000;

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

// P(wait in bucket b) for a log-normal wait with the given median; bucket b holds
// [2^(b+9), 2^(b+10)) ns, the first from 0 and the last to infinity.
double bucket_probability(int b, double median_ns) {
  const double mu = std::log(median_ns);
  auto cdf = [&](double x) { return x <= 0 ? 0.0 : normal_cdf((std::log(x) - mu) / kSigma); };
  const double lo = b == 0 ? 0.0 : std::ldexp(1.0, b + 9);
  const double hi = b + 1 == GTHULHU_WAIT_HIST_BUCKETS ? INFINITY : std::ldexp(1.0, b + 10);
  return (std::isinf(hi) ? 1.0 : cdf(hi)) - cdf(lo);
}

}  // namespace

SimulatedScheduler::SimulatedScheduler(const MemoryMaps& maps, MemoryMaps::Now clock)
    : maps_(maps), clock_(std::move(clock)) {}

SchedulerStatus SimulatedScheduler::status() const {
  SchedulerStatus s;
  s.state = "simulated";
  s.reason = "simulated node: no BPF scheduler (agent.simulate)";
  return s;
}

void SimulatedScheduler::advance(Model& m, uint32_t policy_id, uint32_t weight, uint64_t steps) {
  const double rel = std::max(1.0, static_cast<double>(weight)) / GTHULHU_WEIGHT_DEFAULT;
  const double phase = static_cast<double>(policy_id % 16) * (2 * kPi / 16);
  const double step_s = std::chrono::duration<double>(kStep).count();
  const uint64_t chunk = std::max<uint64_t>(1, steps / kMaxChunks);
  for (uint64_t done = 0; done < steps; done += chunk) {
    const uint64_t n = std::min(chunk, steps - done);
    const double t = (static_cast<double>(m.steps_done) + static_cast<double>(n) / 2) * step_s;
    const double load = 1.0 + 0.6 * std::sin(2 * kPi * t / kLoadPeriodS + phase);
    const double share = std::min(0.95, 0.25 * load * std::pow(rel, 0.3));
    const double median = kMedianNs * load / std::sqrt(rel);
    const double runs = static_cast<double>(n) * kRunsPerStep;
    m.stats.cpu_time_ns += static_cast<uint64_t>(share * static_cast<double>(n) * step_s * 1e9);
    m.stats.run_count += static_cast<uint64_t>(runs);
    m.stats.wait_time_ns += static_cast<uint64_t>(runs * median * std::exp(kSigma * kSigma / 2));
    for (int b = 0; b < GTHULHU_WAIT_HIST_BUCKETS; ++b) {
      m.carry[b] += runs * bucket_probability(b, median);
      const double whole = std::floor(m.carry[b]);
      m.stats.wait_hist[b] += static_cast<uint64_t>(whole);
      m.carry[b] -= whole;
    }
    m.steps_done += n;
  }
}

std::map<uint32_t, gthulhu_policy_stats> SimulatedScheduler::policy_stats() const {
  const auto live = maps_.live_policies();
  const auto now = clock_();
  std::lock_guard lock(mu_);
  std::erase_if(models_, [&](const auto& e) {
    auto it = live.find(e.first);
    return it == live.end() || it->second.since != e.second.since;  // released (or reused)
  });
  std::map<uint32_t, gthulhu_policy_stats> out;
  for (const auto& [id, p] : live) {
    auto [it, fresh] = models_.try_emplace(id);
    if (fresh) it->second.since = p.since;
    Model& m = it->second;
    const auto elapsed = now - m.since;
    const uint64_t due = elapsed.count() > 0 ? static_cast<uint64_t>(elapsed / kStep) : 0;
    if (due > m.steps_done) advance(m, id, p.policy.weight, due - m.steps_done);
    out[id] = m.stats;
  }
  return out;
}

}  // namespace gthulhu::agent
