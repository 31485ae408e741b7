#pragma once
// Exponential backoff with full jitter (each wait uniform in [initial, current]), so
// many channels retrying a recovered agent do not all arrive at once.
#include <algorithm>
#include <chrono>
#include <random>

namespace gthulhu::coordinator {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
      : initial_(initial), max_(max), current_(initial), rng_(std::random_device{}()) {}

  std::chrono::milliseconds next() {
    std::uniform_int_distribution<long long> pick(initial_.count(), current_.count());
    const auto wait = std::chrono::milliseconds(pick(rng_));
    current_ = std::min(current_ * 2, max_);
    return wait;
  }
  void reset() { current_ = initial_; }

 private:
  std::chrono::milliseconds initial_, max_, current_;
  std::mt19937_64 rng_;
};

}  // namespace gthulhu::coordinator
