#pragma once
// Token buckets keyed by a string (an IP address, a username). Each key may spend
// `burst` attempts at once and earns them back evenly over `window`
// (rate = burst / window). A refused attempt reports when the next one will be allowed,
// for a Retry-After header. Keys whose bucket is full again are forgotten, and the
// number of keys is capped (the oldest full-looking entries go first; when every entry
// is busy, new keys are refused rather than memory growing without bound).
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace gthulhu::coordinator {

using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;

class RateLimiter {
 public:
  struct Decision {
    bool allowed = true;
    std::chrono::seconds retry_after{0};  // when !allowed: >= 1
  };

  RateLimiter(unsigned burst, std::chrono::nanoseconds window, std::size_t max_keys = 100000,
              SteadyClock clock = {});

  // Would an attempt for `key` be allowed now? Does not spend anything.
  Decision check(const std::string& key);
  // Spends one attempt (allowed or not: a refused attempt still counts nothing extra).
  Decision consume(const std::string& key);
  // Forgets the key (its bucket is full again).
  void reset(const std::string& key);
  std::size_t size() const;

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point updated;
  };
  Decision decide(Bucket& b, std::chrono::steady_clock::time_point now, bool spend);
  void refill(Bucket& b, std::chrono::steady_clock::time_point now) const;
  void prune(std::chrono::steady_clock::time_point now);

  const double burst_;
  const double per_second_;
  const std::size_t max_keys_;
  SteadyClock clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace gthulhu::coordinator
