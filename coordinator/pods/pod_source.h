#pragma once
// Where the coordinator learns which pods exist: a Kubernetes list+watch
// (kube/pod_reflector.h) or a static inventory file (pods/static_pod_source.h).
#include <map>
#include <string>
#include <vector>

#include "coordinator/support/change_listeners.h"

namespace gthulhu::coordinator {

struct Pod {
  std::string uid;
  std::string name;
  std::string namespace_;
  std::map<std::string, std::string> labels;
  std::string node_name;  // spec.nodeName; empty while unscheduled
  std::string phase;      // Pending | Running | Succeeded | Failed | Unknown
  std::string pod_ip;     // status.podIP; empty until the pod has one
  bool operator==(const Pod&) const = default;
};

// Pods that may receive intents: scheduled on a node and not finished.
bool is_schedulable(const Pod& pod);

// subscribe(): called after every change (the pod source also once when it first
// becomes synced), on the source's own thread.
class PodSource : public ChangeListeners {
 public:
  virtual ~PodSource() = default;
  // A consistent snapshot of every known pod, in a stable order (namespace, name).
  virtual std::vector<Pod> pods() const = 0;
  // Node names that host at least one pod (or that the source knows otherwise), sorted.
  virtual std::vector<std::string> nodes() const = 0;
  // True once the source has a complete view (a watch has synced, a file was read).
  virtual bool synced() const = 0;
};

}  // namespace gthulhu::coordinator
