#include "coordinator/store/store_health.h"

namespace gthulhu::coordinator {

StoreHealthMonitor::StoreHealthMonitor(Store& store, StoreHealthOptions options)
    : store_(store), options_(options) {}

StoreHealthMonitor::~StoreHealthMonitor() { stop(); }

void StoreHealthMonitor::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void StoreHealthMonitor::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StoreHealthMonitor::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    pinging_ = true;
    lock.unlock();
    const auto began = Clock::now();
    Status st = store_.ping();
    const auto ended = Clock::now();
    lock.lock();
    pinging_ = false;
    last_ok_ = st.ok();
    last_error_ = st.ok() ? "" : st.error().message;
    last_latency_ = std::chrono::duration_cast<std::chrono::milliseconds>(ended - began);
    finished_at_ = ended;
    ++checks_;
    cv_.notify_all();
    cv_.wait_for(lock, options_.interval, [&] { return stopping_ || check_requested_; });
    check_requested_ = false;
  }
}

StoreHealth StoreHealthMonitor::current() const {
  std::lock_guard lock(mu_);
  StoreHealth h;
  if (!finished_at_) {
    h.error = "the first store check has not finished yet";
    return h;
  }
  h.checked = true;
  h.age = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - *finished_at_);
  h.latency = last_latency_;
  if (h.age > options_.stale_after) {
    h.error = "the last store check finished " + std::to_string(h.age.count()) +
              " ms ago (the store is not answering pings)";
    return h;
  }
  h.ok = last_ok_;
  h.error = last_error_;
  return h;
}

bool StoreHealthMonitor::check_now(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  // A ping already running began before the request: wait for the one after it.
  const uint64_t want = checks_ + (pinging_ ? 2 : 1);
  check_requested_ = true;
  cv_.notify_all();
  return cv_.wait_for(lock, timeout, [&] { return checks_ >= want; });
}

bool StoreHealthMonitor::wait_for_check(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  const uint64_t seen = checks_;
  return cv_.wait_for(lock, timeout, [&] { return checks_ > seen; });
}

}  // namespace gthulhu::coordinator
