#pragma once
// "Tell me when you changed": the callbacks a source (pods, agents) runs after each
// change, on its own thread. Listeners must be quick (mark dirty, wake a worker).
#include <functional>
#include <mutex>
#include <vector>

namespace gthulhu::coordinator {

class ChangeListeners {
 public:
  using Listener = std::function<void()>;

  void subscribe(Listener listener) {
    std::lock_guard lock(listeners_mu_);
    listeners_.push_back(std::move(listener));
  }

 protected:
  ~ChangeListeners() = default;
  void notify_listeners() const {
    std::vector<Listener> copy;
    {
      std::lock_guard lock(listeners_mu_);
      copy = listeners_;
    }
    for (const auto& l : copy) l();
  }

 private:
  mutable std::mutex listeners_mu_;
  std::vector<Listener> listeners_;
};

}  // namespace gthulhu::coordinator
