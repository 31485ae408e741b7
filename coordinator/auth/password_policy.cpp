#include "coordinator/auth/password_policy.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

namespace gthulhu::coordinator {

namespace {

std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

constexpr std::array<std::string_view, 16> kCommon = {
    "password1234", "123456789012", "qwertyuiop12", "passwordpassword", "administrator",
    "changeme1234", "letmein12345", "welcome12345", "iloveyou1234", "1q2w3e4r5t6y",
    "qwerty123456", "password123!", "adminadmin12", "your-password-here", "abcdefghijkl",
    "000000000000"};

}  // namespace

std::string PasswordPolicy::check(const std::string& password, const std::string& username) const {
  if (code_points(password) > max_length) {
    return "password must be at most " + std::to_string(max_length) + " characters";
  }
  if (code_points(password) < min_length) {
    return "password must be at least " + std::to_string(min_length) + " characters";
  }
  if (!username.empty() && lower(password) == lower(username)) {
    return "password must not be the username";
  }
  if (std::all_of(password.begin(), password.end(), [&](char c) { return c == password[0]; })) {
    return "password must not be one repeated character";
  }
  const std::string l = lower(password);
  for (auto common : kCommon) {
    if (l == common) return "password is too common";
  }
  return {};
}

}  // namespace gthulhu::coordinator
