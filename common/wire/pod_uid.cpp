#include "common/wire/pod_uid.h"

#include <cctype>

namespace gthulhu::wire {

std::optional<std::string> canonical_pod_uid(std::string_view uid) {
  if (uid.size() != 36) return std::nullopt;
  std::string out(uid);
  for (size_t i = 0; i < out.size(); ++i) {
    const bool sep = i == 8 || i == 13 || i == 18 || i == 23;
    if (sep) {
      if (out[i] != '-' && out[i] != '_') return std::nullopt;
      out[i] = '-';
    } else {
      if (!std::isxdigit(static_cast<unsigned char>(out[i]))) return std::nullopt;
      out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
    }
  }
  return out;
}

}  // namespace gthulhu::wire
