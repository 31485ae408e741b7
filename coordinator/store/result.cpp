#include "coordinator/store/result.h"

namespace gthulhu::coordinator {

const char* to_string(StoreErrc code) {
  switch (code) {
    case StoreErrc::kNotFound: return "not found";
    case StoreErrc::kConflict: return "conflict";
    case StoreErrc::kVersionMismatch: return "version mismatch";
    case StoreErrc::kUnavailable: return "unavailable";
    case StoreErrc::kInvalid: return "invalid";
    case StoreErrc::kInternal: return "internal";
  }
  return "unknown";
}

}  // namespace gthulhu::coordinator
