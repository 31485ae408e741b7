// Bad JSON values are the client's fault: parse_json_body and the typed readers answer
// them as 400/422 naming the field, with no library exception id in the text, and an
// answer that echoes invalid UTF-8 still serializes.
#include "common/http/json_input.h"

#include <gtest/gtest.h>

#include "common/http/json_api.h"

using namespace gthulhu::http;

namespace {

std::string parse_error_of(const std::string& body) {
  Request req;
  req.body = body;
  Response err;
  auto j = parse_json_body(req, &err);
  EXPECT_FALSE(j.has_value()) << body;
  EXPECT_EQ(err.status, 400) << body;
  auto parsed = json::parse(err.body);  // must be valid JSON (and valid UTF-8)
  return parsed.at("error").get<std::string>();
}

}  // namespace

TEST(JsonInput, NumberOverflowIs400NamingTheField) {
  const auto e = parse_error_of(R"({"name":"x","priority":1e400})");
  EXPECT_NE(e.find("priority"), std::string::npos) << e;
  EXPECT_EQ(e.find("json.exception"), std::string::npos) << e;
}

TEST(JsonInput, InvalidUtf8Is400AndTheAnswerIsValidJson) {
  const auto e = parse_error_of("{\"labels\":{\"app\":\"\xff\"}}");
  EXPECT_NE(e.find("UTF-8"), std::string::npos) << e;
  EXPECT_NE(e.find("app"), std::string::npos) << e;
  EXPECT_EQ(e.find("json.exception"), std::string::npos) << e;
}

TEST(JsonInput, SyntaxErrorsCarryNoLibraryIds) {
  const auto e = parse_error_of("{nope");
  EXPECT_EQ(e.find("json.exception"), std::string::npos) << e;
  EXPECT_EQ(e.find("last read"), std::string::npos) << e;
}

TEST(JsonInput, ResponsesWithInvalidUtf8DoNotThrow) {
  Response r;
  EXPECT_NO_THROW(r = json_error(400, "bad \xff value"));
  EXPECT_TRUE(json::accept(r.body));
  EXPECT_NO_THROW(r = json_ok({{"v", "\xc3"}}));
  EXPECT_TRUE(json::accept(r.body));
}

TEST(JsonInput, TypedReadersNameTheField) {
  const json body = {{"secret", 123}, {"all", "yes"}, {"n", 5}, {"s", "ok"}, {"z", nullptr}};
  try {
    (void)optional_string(body, "secret");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.status, 400);
    EXPECT_STREQ(e.what(), "secret must be a string");
  }
  EXPECT_THROW((void)optional_bool(body, "all"), InputError);
  EXPECT_EQ(optional_int(body, "n"), 5);
  EXPECT_EQ(optional_string(body, "s"), "ok");
  EXPECT_EQ(optional_string(body, "z"), std::nullopt);
  EXPECT_EQ(optional_string(body, "absent"), std::nullopt);
  EXPECT_EQ(optional_string(json::array(), "s"), std::nullopt);
}

TEST(JsonInput, IntegersBeyondInt64AreNamedAsSent) {
  const auto body = json::parse(R"({"executionTime":9223372036854775808,"f":5.0,"g":5.5,"h":1e300})");
  try {
    (void)optional_int(body, "executionTime");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.status, 422);
    const std::string m = e.what();
    EXPECT_NE(m.find("executionTime"), std::string::npos) << m;
    EXPECT_NE(m.find("9223372036854775808"), std::string::npos) << m;
    EXPECT_EQ(m.find("-9223372036854775808"), std::string::npos) << m;
  }
  EXPECT_EQ(optional_int(body, "f"), 5);
  EXPECT_THROW((void)optional_int(body, "g"), InputError);
  EXPECT_THROW((void)optional_int(body, "h"), InputError);
}

TEST(JsonInput, DescribeStripsTheExceptionId) {
  try {
    auto never = json::parse("[1,");
    (void)never;
  } catch (const json::exception& e) {
    const auto m = describe_json_exception(e);
    EXPECT_EQ(m.find("[json.exception"), std::string::npos) << m;
    EXPECT_FALSE(m.empty());
  }
}
