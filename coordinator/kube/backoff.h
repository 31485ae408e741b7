#pragma once
// Exponential backoff with jitter for reconnecting to the API server: each failure
// doubles the base delay up to a cap, and each delay is drawn at random from
// [base/2, base] so many coordinators (or components) that lost the server at once do
// not come back in lockstep. A success resets it.
#include <chrono>
#include <cstdint>
#include <random>

namespace gthulhu::coordinator::kube {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
          std::uint64_t seed = std::random_device{}());

  // The delay before the next attempt; grows the base for the one after.
  std::chrono::milliseconds next();
  void reset() { base_ = initial_; }
  std::chrono::milliseconds base() const { return base_; }

 private:
  std::chrono::milliseconds initial_, max_, base_;
  std::mt19937_64 rng_;
};

}  // namespace gthulhu::coordinator::kube
