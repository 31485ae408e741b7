#include "common/auth/base64url.h"

#include <gtest/gtest.h>

namespace gthulhu::auth {
namespace {

TEST(Base64url, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 64; ++i) {
    auto decoded = base64url_decode(base64url_encode(bytes));
    ASSERT_TRUE(decoded.has_value()) << i;
    EXPECT_EQ(*decoded, bytes);
    bytes += static_cast<char>(i * 37 + 200);
  }
}

TEST(Base64url, UsesTheUrlAlphabetWithoutPadding) {
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_encode("{\"alg\":\"RS256\"}"), "eyJhbGciOiJSUzI1NiJ9");
}

TEST(Base64url, RejectsAnythingButTheCanonicalSpelling) {
  EXPECT_FALSE(base64url_decode("eyJ=").has_value());   // padding
  EXPECT_FALSE(base64url_decode("ab+/").has_value());   // standard alphabet
  EXPECT_FALSE(base64url_decode("abcde").has_value());  // impossible length
  EXPECT_FALSE(base64url_decode("ab c").has_value());
  EXPECT_FALSE(base64url_decode("QR").has_value());     // "Q" with non-zero spare bits
  EXPECT_EQ(base64url_decode("QQ"), std::optional<std::string>("A"));
  EXPECT_EQ(base64url_decode(""), std::optional<std::string>(""));
}

}  // namespace
}  // namespace gthulhu::auth
