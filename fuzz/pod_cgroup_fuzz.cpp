// The pod cgroup path parser: any path either is not a pod cgroup or yields a pod UID
// already in canonical form.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/pod_cgroup.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view path(reinterpret_cast<const char*>(data), size);
  auto pod = gthulhu::agent::parse_pod_cgroup(path);
  if (!pod) return 0;
  if (gthulhu::agent::canonical_pod_uid(pod->pod_uid) != pod->pod_uid) std::abort();
  return 0;
}
