#include "coordinator/auth/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace gthulhu::coordinator {

RateLimiter::RateLimiter(unsigned burst, std::chrono::nanoseconds window, std::size_t max_keys,
                         SteadyClock clock)
    : burst_(std::max(1u, burst)),
      per_second_(burst_ / std::max(1e-9, std::chrono::duration<double>(window).count())),
      max_keys_(std::max<std::size_t>(1, max_keys)),
      clock_(clock ? std::move(clock) : [] { return std::chrono::steady_clock::now(); }) {}

void RateLimiter::refill(Bucket& b, std::chrono::steady_clock::time_point now) const {
  const double elapsed = std::chrono::duration<double>(now - b.updated).count();
  if (elapsed > 0) {
    b.tokens = std::min(burst_, b.tokens + elapsed * per_second_);
    b.updated = now;
  }
}

RateLimiter::Decision RateLimiter::decide(Bucket& b, std::chrono::steady_clock::time_point now,
                                          bool spend) {
  refill(b, now);
  if (b.tokens >= 1.0) {
    if (spend) b.tokens -= 1.0;
    return {};
  }
  const double wait = (1.0 - b.tokens) / per_second_;
  const auto secs = static_cast<long long>(std::ceil(wait));
  return {false, std::chrono::seconds(std::max(1LL, secs))};
}

void RateLimiter::prune(std::chrono::steady_clock::time_point now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    refill(it->second, now);
    if (it->second.tokens >= burst_) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
}

RateLimiter::Decision RateLimiter::check(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) return {};
  return decide(it->second, clock_(), false);
}

RateLimiter::Decision RateLimiter::consume(const std::string& key) {
  std::lock_guard lock(mu_);
  const auto now = clock_();
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) prune(now);
    if (buckets_.size() >= max_keys_) {
      // Every tracked key is still cooling down: refuse rather than grow.
      return {false, std::chrono::seconds(1)};
    }
    it = buckets_.emplace(key, Bucket{burst_, now}).first;
  }
  return decide(it->second, now, true);
}

void RateLimiter::reset(const std::string& key) {
  std::lock_guard lock(mu_);
  buckets_.erase(key);
}

std::size_t RateLimiter::size() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace gthulhu::coordinator
