#pragma once
// Base64url without padding (RFC 4648 section 5), as JWT segments use it. Decoding is
// strict: libjwt's own decoder skips characters it does not know, so "sig!!!" verifies
// like "sig"; this one accepts exactly one spelling per byte string.
#include <optional>
#include <string>
#include <string_view>

namespace gthulhu::auth {

std::string base64url_encode(std::string_view bytes);

// nullopt for any character outside [A-Za-z0-9_-], padding, an impossible length, or
// non-zero unused bits in the last character.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace gthulhu::auth
