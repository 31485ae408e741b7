#include "coordinator/kube/backoff.h"

#include <algorithm>

namespace gthulhu::coordinator::kube {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
                 std::uint64_t seed)
    : initial_(std::max(initial, std::chrono::milliseconds(1))),
      max_(std::max(max, initial_)),
      base_(initial_),
      rng_(seed) {}

std::chrono::milliseconds Backoff::next() {
  const auto base = base_.count();
  std::uniform_int_distribution<long long> pick((base + 1) / 2, base);
  const std::chrono::milliseconds delay(pick(rng_));
  base_ = std::min(max_, base_ * 2);
  return delay;
}

}  // namespace gthulhu::coordinator::kube
