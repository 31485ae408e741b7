#include "common/http/json_api.h"

#include <gtest/gtest.h>

using namespace gthulhu::http;

TEST(JsonApi, SuccessEnvelopeHasDataAndTimestamp) {
  auto r = json_ok({{"token", "abc"}}, 201);
  EXPECT_EQ(r.status, 201);
  auto j = json::parse(r.body);
  EXPECT_TRUE(j["success"].get<bool>());
  EXPECT_EQ(j["data"]["token"], "abc");
  const std::string ts = j["timestamp"];
  EXPECT_EQ(ts.size(), 20u);
  EXPECT_EQ(ts.back(), 'Z');
}

TEST(JsonApi, SuccessEnvelopeOmitsNullData) {
  auto j = json::parse(json_ok().body);
  EXPECT_FALSE(j.contains("data"));
  EXPECT_TRUE(j["success"].get<bool>());
}

TEST(JsonApi, ErrorEnvelope) {
  auto r = json_error(404, "strategy not found");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body), (json{{"success", false}, {"error", "strategy not found"}}));
}

TEST(JsonApi, ParsesValidBody) {
  Request req;
  req.body = R"({"a":[1,2,{"b":true}]})";
  Response err;
  auto j = parse_json_body(req, &err);
  ASSERT_TRUE(j.has_value());
  EXPECT_TRUE((*j)["a"][2]["b"].get<bool>());
}

TEST(JsonApi, RejectsEmptyMalformedAndTooDeep) {
  Response err;
  Request req;
  EXPECT_FALSE(parse_json_body(req, &err).has_value());
  EXPECT_EQ(err.status, 400);

  req.body = R"({"a":)";
  EXPECT_FALSE(parse_json_body(req, &err).has_value());
  EXPECT_EQ(err.status, 400);
  EXPECT_NE(json::parse(err.body)["error"].get<std::string>().find("malformed JSON"),
            std::string::npos);

  req.body = std::string(100, '[') + std::string(100, ']');
  EXPECT_FALSE(parse_json_body(req, &err, JsonLimits{32}).has_value());
  EXPECT_NE(json::parse(err.body)["error"].get<std::string>().find("nesting"), std::string::npos);

  req.body = std::string(31, '[') + std::string(31, ']');
  EXPECT_TRUE(parse_json_body(req, &err, JsonLimits{32}).has_value());
}
