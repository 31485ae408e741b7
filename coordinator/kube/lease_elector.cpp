#include "coordinator/kube/lease_elector.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <stdexcept>

namespace gthulhu::coordinator::kube {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Requests of one round must end well inside a retry period, so a slow server cannot
// stretch a leader's renewals past its renew deadline unnoticed.
KubeClientOptions elector_client_options(KubeClientOptions o, const LeaseElectorOptions& e) {
  o.cancel = nullptr;  // release() at stop must still go out
  o.request_timeout = std::min(o.request_timeout, std::max(e.retry_period, milliseconds(1000)));
  o.connect_timeout = std::min(o.connect_timeout, o.request_timeout);
  return o;
}

}  // namespace

std::string default_lease_identity() {
  char host[256] = "";
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "gthulhu");
  std::random_device rd;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%08x", static_cast<unsigned>(rd()));
  return std::string(host) + "_" + suffix;
}

void validate_lease_timing(const LeaseElectorOptions& o) {
  if (o.namespace_.empty()) throw std::invalid_argument("the leader-election lease needs a namespace");
  if (o.name.empty()) throw std::invalid_argument("the leader-election lease needs a name");
  if (!(o.retry_period.count() > 0 && o.retry_period < o.renew_deadline &&
        o.renew_deadline < o.lease_duration)) {
    throw std::invalid_argument(
        "leader election needs 0 < retry_period < renew_deadline < lease duration (got " +
        std::to_string(o.retry_period.count()) + " ms, " + std::to_string(o.renew_deadline.count()) +
        " ms, " + std::to_string(o.lease_duration.count()) + " s)");
  }
}

LeaseElector::LeaseElector(KubeCredentials credentials, KubeClientOptions client_options,
                           LeaseElectorOptions options)
    : options_(std::move(options)),
      client_(std::move(credentials), elector_client_options(client_options, options_)),
      request_timeout_(elector_client_options(client_options, options_).request_timeout) {
  if (options_.identity.empty()) options_.identity = default_lease_identity();
  validate_lease_timing(options_);
}

LeaseElector::~LeaseElector() { stop(); }

std::string LeaseElector::lease_path() const {
  return "/apis/coordination.k8s.io/v1/namespaces/" + options_.namespace_ + "/leases/" + options_.name;
}

void LeaseElector::start(Callback on_change) {
  if (thread_.joinable()) return;
  on_change_ = std::move(on_change);
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

bool LeaseElector::halt() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  return leading_.exchange(false);
}

void LeaseElector::abandon() { halt(); }

void LeaseElector::stop() {
  if (!thread_.joinable()) return;
  const bool was_leading = halt();
  // The thread has ended, so the observed state is ours to use here.
  if (observed_ && observed_->holder == options_.identity) release();
  if (was_leading && on_change_) on_change_(false);
}

void LeaseElector::sleep_unless_stopped(milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [this] { return stopping_; });
}

void LeaseElector::observe(const LeaseRecord& record) {
  // Expiry counts from when the record last CHANGED as we saw it.
  if (!observed_ || !(*observed_ == record)) {
    observed_ = record;
    observed_at_ = Clock::now();
  }
}

void LeaseElector::set_leading(bool leading) {
  if (leading_.exchange(leading) == leading) return;
  if (leading) {
    spdlog::info("leader election: {} now leads (lease {}/{})", options_.identity,
                 options_.namespace_, options_.name);
  } else {
    spdlog::warn("leader election: {} no longer leads (lease {}/{})", options_.identity,
                 options_.namespace_, options_.name);
  }
  if (on_change_) on_change_(leading);
}

void LeaseElector::step_down_if_overdue(Clock::time_point last_renew) {
  if (leading_ && Clock::now() - last_renew >= options_.renew_deadline) {
    spdlog::warn("leader election: could not renew lease {}/{} within {} ms", options_.namespace_,
                 options_.name, options_.renew_deadline.count());
    set_leading(false);
  }
}

void LeaseElector::run() {
  auto last_renew = Clock::now();
  std::mt19937 rng(std::random_device{}());
  const auto left_until_deadline = [&] {
    return std::chrono::duration_cast<milliseconds>(options_.renew_deadline - (Clock::now() - last_renew));
  };
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    step_down_if_overdue(last_renew);
    // A leader's attempt may not outlast its renew deadline: it must know in time
    // that it failed, before others may take the lease.
    milliseconds budget = request_timeout_;
    if (leading_) budget = std::clamp(left_until_deadline(), milliseconds(50), budget);
    const auto attempt_started = Clock::now();
    const Attempt a = try_acquire_or_renew(budget);
    if (a == Attempt::Leading) {
      last_renew = attempt_started;
      set_leading(true);
    } else if (leading_ && a == Attempt::LostToOther) {
      spdlog::warn("leader election: lease {}/{} was taken by {}", options_.namespace_,
                   options_.name, observed_ ? observed_->holder : "another replica");
      set_leading(false);
    }
    step_down_if_overdue(last_renew);
    // Candidates wait retry_period * [1, 1.2) (client-go's jitter); a leader renews on
    // time and wakes for its deadline if that comes first.
    auto wait = options_.retry_period;
    if (leading_) {
      wait = std::clamp(left_until_deadline(), milliseconds(0), wait);
    } else {
      std::uniform_int_distribution<long long> extra(0, options_.retry_period.count() / 5);
      wait += milliseconds(extra(rng));
    }
    sleep_unless_stopped(wait);
  }
}

LeaseElector::Attempt LeaseElector::try_acquire_or_renew(milliseconds budget) {
  const auto deadline = Clock::now() + budget;
  const auto left = [&] {
    return std::max(milliseconds(1), std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
  };
  const std::string now_text = micro_time(std::chrono::system_clock::now());
  ApiResponse got = client_.get(lease_path(), left());
  if (!got.ok && got.status != 404) {
    spdlog::warn("leader election: reading lease {}/{} failed: {}", options_.namespace_,
                 options_.name, got.error);
    return Attempt::NotLeading;
  }
  std::optional<LeaseRecord> current;
  if (got.ok) {
    current = lease_record_of(got.body);
    observe(*current);
    last_lease_ = got.body;
  }
  const bool expired = current && lease_expired(*current, observed_at_, Clock::now());
  const LeaseDecision decision = decide_lease(current, options_.identity, expired);
  if (decision == LeaseDecision::HeldByOther) {
    return leading_ ? Attempt::LostToOther : Attempt::NotLeading;
  }
  const LeaseRecord next =
      next_lease_record(current, decision, options_.identity, options_.lease_duration, now_text);
  ApiResponse wrote;
  if (decision == LeaseDecision::Create) {
    wrote = client_.create("/apis/coordination.k8s.io/v1/namespaces/" + options_.namespace_ + "/leases",
                           new_lease_object(options_.namespace_, options_.name, next), left());
  } else {
    nlohmann::json lease = last_lease_;  // keeps metadata.resourceVersion: a conditional update
    set_lease_record(lease, next);
    wrote = client_.replace(lease_path(), lease, left());
  }
  if (!wrote.ok) {
    // 409: another replica wrote between our read and our write; it wins this round.
    if (wrote.status != 409) {
      spdlog::warn("leader election: writing lease {}/{} failed: {}", options_.namespace_,
                   options_.name, wrote.error);
    }
    return Attempt::NotLeading;
  }
  last_lease_ = wrote.body;
  observe(next);
  return Attempt::Leading;
}

void LeaseElector::release() {
  if (last_lease_.is_null()) return;
  nlohmann::json lease = last_lease_;
  set_lease_record(lease, released_lease_record(*observed_, micro_time(std::chrono::system_clock::now())));
  ApiResponse r = client_.replace(lease_path(), lease);
  if (r.ok) {
    spdlog::info("leader election: {} released lease {}/{}", options_.identity, options_.namespace_,
                 options_.name);
    observed_ = lease_record_of(r.body);
  } else {
    spdlog::warn("leader election: releasing lease {}/{} failed (others take over when it expires): {}",
                 options_.namespace_, options_.name, r.error);
  }
}

}  // namespace gthulhu::coordinator::kube
