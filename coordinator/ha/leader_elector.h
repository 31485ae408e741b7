#pragma once
// Which coordinator replica runs the watch, the planning and the push. Every replica
// serves REST from the shared store; only the leader drives agents. In a cluster the
// leader holds a coordination.k8s.io/v1 Lease (kube/lease_elector.h); without one
// there is a single replica and it always leads (AlwaysLeader).
#include <functional>

namespace gthulhu::coordinator {

class LeaderElector {
 public:
  // Called with true when this replica becomes the leader, false when it stops being
  // one (lease lost or not renewed in time). Runs on the elector's thread.
  using Callback = std::function<void(bool leading)>;
  virtual ~LeaderElector() = default;
  virtual void start(Callback on_change) = 0;
  // Stops campaigning; a leader releases its lease so another can take over at once.
  virtual void stop() = 0;
  virtual bool leading() const = 0;
};

class AlwaysLeader final : public LeaderElector {
 public:
  void start(Callback on_change) override {
    leading_ = true;
    if (on_change) on_change(true);
  }
  void stop() override { leading_ = false; }
  bool leading() const override { return leading_; }

 private:
  bool leading_ = false;
};

}  // namespace gthulhu::coordinator
