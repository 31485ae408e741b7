#pragma once
// The minimum password policy: at least `min_length` characters (Unicode code points,
// default 12), at most 256 characters (as JSON Schema's maxLength counts them; the
// Argon2 input stays under 1 KiB), not the username, not
// one character repeated, and not on a short list of the most common passwords.
// No composition rules (NIST SP 800-63B: length beats complexity rules).
#include <cstddef>
#include <string>

namespace gthulhu::coordinator {

struct PasswordPolicy {
  std::size_t min_length = 12;
  std::size_t max_length = 256;  // code points

  // "" when acceptable, else the reason (never echoes the password).
  std::string check(const std::string& password, const std::string& username) const;
};

}  // namespace gthulhu::coordinator
