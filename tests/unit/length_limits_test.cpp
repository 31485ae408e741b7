// Length limits count characters (code points), as the OpenAPI document's maxLength
// does: a name or password of multi-byte characters within the documented length is
// accepted, one character more is refused.
#include <gtest/gtest.h>

#include <string>

#include "coordinator/auth/password_policy.h"
#include "coordinator/domain/validation.h"

using namespace gthulhu::coordinator;

namespace {

std::string repeat(const std::string& unit, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += unit;
  return out;
}

TEST(LengthLimits, Utf8LengthCountsCodePoints) {
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("\xc3\xa9\xe2\x82\xac\xf0\x9d\x95\x8b"), 3u);  // é € 𝕋
}

TEST(LengthLimits, UsernameOf128FourByteCharactersIsAccepted) {
  const std::string t = "\xf0\x9d\x95\x8b";  // 4 bytes
  EXPECT_EQ(check_username(repeat(t, 128)), "");
  EXPECT_EQ(check_username(repeat(t, 129)), "must be at most 128 characters");
  EXPECT_EQ(check_username(repeat("a", 129)), "must be at most 128 characters");
}

TEST(LengthLimits, PasswordOf256TwoByteCharactersIsAccepted) {
  PasswordPolicy policy;
  const std::string two = "\xc3\xa9\xc3\xb6";  // é ö: 2 characters, 4 bytes
  EXPECT_EQ(policy.check(repeat(two, 128), "alice"), "");
  EXPECT_EQ(policy.check(repeat(two, 128) + "x", "alice"),
            "password must be at most 256 characters");
}

}  // namespace
