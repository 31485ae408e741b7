#pragma once
// The minimum password policy: at least `min_length` characters (Unicode code points,
// default 12), at most 256 bytes (Argon2 input stays bounded), not the username, not
// one character repeated, and not on a short list of the most common passwords.
// No composition rules (NIST SP 800-63B: length beats complexity rules).
#include <cstddef>
#include <string>

namespace gthulhu::coordinator {

struct PasswordPolicy {
  std::size_t min_length = 12;
  std::size_t max_bytes = 256;

  // "" when acceptable, else the reason (never echoes the password).
  std::string check(const std::string& password, const std::string& username) const;
};

}  // namespace gthulhu::coordinator
