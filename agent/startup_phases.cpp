#include "agent/startup_phases.h"

#include <cstdio>

namespace gthulhu::agent {

void StartupPhases::mark(Phase p) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started_);
  ns_[static_cast<size_t>(p)].store(ns.count(), std::memory_order_release);
}

std::optional<double> StartupPhases::seconds(Phase p) const {
  const int64_t ns = ns_[static_cast<size_t>(p)].load(std::memory_order_acquire);
  if (ns < 0) return std::nullopt;
  return static_cast<double>(ns) / 1e9;
}

std::vector<std::pair<std::string, double>> StartupPhases::reached() const {
  std::vector<std::pair<std::string, double>> out;
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (auto s = seconds(static_cast<Phase>(i))) out.emplace_back(kNames[i], *s);
  }
  return out;
}

std::string StartupPhases::summary() const {
  std::string out;
  for (const auto& [name, s] : reached()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%s %.3f s", out.empty() ? "" : ", ", name.c_str(), s);
    out += buf;
  }
  return out.empty() ? "no step reached" : out;
}

}  // namespace gthulhu::agent
