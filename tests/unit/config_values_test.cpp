#include "common/config/values.h"

#include <gtest/gtest.h>

namespace gthulhu::config {
namespace {

using namespace std::chrono_literals;

TEST(ConfigValues, BoolForms) {
  for (const char* yes : {"true", "TRUE", "True", "yes", "Yes", "on", "ON", "1"}) {
    EXPECT_EQ(parse_bool(yes), std::optional<bool>(true)) << yes;
  }
  for (const char* no : {"false", "FALSE", "no", "No", "off", "OFF", "0"}) {
    EXPECT_EQ(parse_bool(no), std::optional<bool>(false)) << no;
  }
  for (const char* bad : {"", "y", "n", "2", "truee", "enabled", " true"}) {
    EXPECT_FALSE(parse_bool(bad).has_value()) << bad;
  }
}

TEST(ConfigValues, IntForms) {
  EXPECT_EQ(parse_int("42"), std::optional<std::int64_t>(42));
  EXPECT_EQ(parse_int("-7"), std::optional<std::int64_t>(-7));
  EXPECT_EQ(parse_int("+7"), std::optional<std::int64_t>(7));
  EXPECT_EQ(parse_int("9223372036854775807"), std::optional<std::int64_t>(INT64_MAX));
  for (const char* bad : {"", "+", "-", "++1", "+-1", "1.5", "0x10", "1e3", "12a", " 1",
                          "9223372036854775808"}) {
    EXPECT_FALSE(parse_int(bad).has_value()) << bad;
  }
}

TEST(ConfigValues, DurationForms) {
  EXPECT_EQ(parse_duration("500ms"), std::optional<std::chrono::nanoseconds>(500ms));
  EXPECT_EQ(parse_duration("5s"), std::optional<std::chrono::nanoseconds>(5s));
  EXPECT_EQ(parse_duration("2m"), std::optional<std::chrono::nanoseconds>(2min));
  EXPECT_EQ(parse_duration("1h30m"), std::optional<std::chrono::nanoseconds>(90min));
  EXPECT_EQ(parse_duration("250us"), std::optional<std::chrono::nanoseconds>(250us));
  EXPECT_EQ(parse_duration("10ns"), std::optional<std::chrono::nanoseconds>(10ns));
  EXPECT_EQ(parse_duration("1m500ms"), std::optional<std::chrono::nanoseconds>(60500ms));
  EXPECT_EQ(parse_duration("0"), std::optional<std::chrono::nanoseconds>(0ns));
  EXPECT_EQ(parse_duration("0s"), std::optional<std::chrono::nanoseconds>(0ns));
  for (const char* bad : {"", "5", "-5s", "5 s", "5S", "1.5s", "s", "5sec", "5d", "ms",
                          "9999999999999h", "1h-1m"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
}

TEST(ConfigValues, DurationFormatsReadBack) {
  EXPECT_EQ(format_duration(0ns), "0");
  EXPECT_EQ(format_duration(5s), "5s");
  EXPECT_EQ(format_duration(90s), "1m30s");
  EXPECT_EQ(format_duration(2h), "2h");
  EXPECT_EQ(format_duration(1500ms), "1500ms");
  EXPECT_EQ(format_duration(250us), "250us");
  using ns = std::chrono::nanoseconds;
  for (ns d : {0ns, 1ns, 999ns, ns(1ms), ns(1500ms), ns(61s), ns(3723s), ns(25h)}) {
    EXPECT_EQ(parse_duration(format_duration(d)), std::optional<std::chrono::nanoseconds>(d))
        << format_duration(d);
  }
}

}  // namespace
}  // namespace gthulhu::config
