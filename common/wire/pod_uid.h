#pragma once
// Pod UIDs as they cross the wire and as they appear in cgroup names.
#include <optional>
#include <string>
#include <string_view>

namespace gthulhu::wire {

// "0a1b2c3d-4e5f-6789-abcd-ef0123456789" from the API's form or the systemd cgroup
// driver's (underscores for dashes); lower-cased. nullopt when it is not a UID.
std::optional<std::string> canonical_pod_uid(std::string_view uid);

}  // namespace gthulhu::wire
