#include "coordinator/auth/login_throttle.h"

#include <algorithm>
#include <cmath>

namespace gthulhu::coordinator {

using std::chrono::steady_clock;

LoginThrottle::LoginThrottle(LoginThrottleOptions options, SteadyClock clock)
    : options_(options),
      clock_(clock ? std::move(clock) : [] { return steady_clock::now(); }) {}

std::string LoginThrottle::key(const std::string& username, const std::string& client) {
  // A NUL cannot occur in either part (usernames are validated, addresses are text).
  return username + '\0' + client;
}

bool LoginThrottle::expired(const Entry& e, steady_clock::time_point now) const {
  return now >= e.blocked_until && now - e.last_failure >= options_.forget_after;
}

RateLimiter::Decision LoginThrottle::check(const std::string& username, const std::string& client) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key(username, client));
  if (it == entries_.end()) return {};
  const auto now = clock_();
  if (expired(it->second, now)) {
    entries_.erase(it);
    return {};
  }
  if (now >= it->second.blocked_until) return {};
  const double wait = std::chrono::duration<double>(it->second.blocked_until - now).count();
  return {false, std::chrono::seconds(std::max(1LL, static_cast<long long>(std::ceil(wait))))};
}

void LoginThrottle::make_room(steady_clock::time_point now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = expired(it->second, now) ? entries_.erase(it) : std::next(it);
  }
  if (entries_.size() < options_.max_entries) return;
  // Still full: drop the pair whose last failure is oldest. Evicting (not refusing new
  // pairs) keeps a flood of made-up usernames from blocking anyone else's login.
  auto oldest = std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
    return a.second.last_failure < b.second.last_failure;
  });
  if (oldest != entries_.end()) entries_.erase(oldest);
}

void LoginThrottle::record_failure(const std::string& username, const std::string& client) {
  std::lock_guard lock(mu_);
  const auto now = clock_();
  const std::string k = key(username, client);
  auto it = entries_.find(k);
  if (it != entries_.end() && expired(it->second, now)) {
    entries_.erase(it);
    it = entries_.end();
  }
  if (it == entries_.end()) {
    if (entries_.size() >= options_.max_entries) make_room(now);
    it = entries_.emplace(k, Entry{}).first;
  }
  Entry& e = it->second;
  e.failures += 1;
  e.last_failure = now;
  if (e.failures > options_.free_failures) {
    // In double: base * 2^n overflows int64 nanoseconds long before the cap matters.
    const double exponent = std::min<double>(e.failures - options_.free_failures - 1, 62);
    const double ns = std::min(static_cast<double>(options_.max_delay.count()),
                               static_cast<double>(options_.base_delay.count()) *
                                   std::exp2(exponent));
    e.blocked_until = now + std::chrono::nanoseconds(static_cast<std::int64_t>(ns));
  }
}

void LoginThrottle::record_success(const std::string& username, const std::string& client) {
  std::lock_guard lock(mu_);
  entries_.erase(key(username, client));
}

std::size_t LoginThrottle::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace gthulhu::coordinator
