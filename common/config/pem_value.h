#pragma once
// A PEM-typed configuration value: the PEM text inline, or a path to a file with it.
#include <string>

namespace gthulhu::config {

struct PemValue {
  bool ok = false;
  std::string pem;    // when ok
  std::string error;  // when !ok: what went wrong, naming the file for a path value
};

inline constexpr std::size_t kMaxPemFileBytes = 1 << 20;

// Values starting with "-----BEGIN" are inline PEM (a value without real line breaks
// may spell them "\n", as environment variables often must); anything else is a path.
// The result must contain a "-----BEGIN" line; the key material itself is checked by
// whoever uses it (e.g. the JWT or TLS code), which knows what kind of object it needs.
PemValue resolve_pem(const std::string& value);

}  // namespace gthulhu::config
