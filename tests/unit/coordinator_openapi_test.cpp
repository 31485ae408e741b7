// The OpenAPI document and the server's routes are the same set, and both forms of the
// documentation are served.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "coordinator/openapi/openapi.h"
#include "tests/unit/coordinator_harness.h"

namespace gthulhu::test {
namespace {

using coordinator::documented_routes;
using coordinator::openapi_document;

TEST(CoordinatorOpenApi, EveryRouteIsDocumentedAndEveryDocumentedRouteExists) {
  CoordinatorHarness h;
  std::set<std::pair<std::string, std::string>> served, documented;
  for (const auto& r : h.app().router().routes()) served.insert(r);
  for (const auto& r : documented_routes(openapi_document())) documented.insert(r);
  for (const auto& r : served) EXPECT_TRUE(documented.count(r)) << "undocumented: " << r.first << " " << r.second;
  for (const auto& r : documented) EXPECT_TRUE(served.count(r)) << "not served: " << r.first << " " << r.second;
  EXPECT_EQ(served.size(), h.app().router().routes().size());  // no duplicates
}

TEST(CoordinatorOpenApi, DocumentIsWellFormed) {
  const auto doc = openapi_document();
  EXPECT_EQ(doc["openapi"], "3.0.3");
  const auto& schemas = doc["components"]["schemas"];
  // Every $ref points at a schema that exists.
  std::function<void(const json&)> walk = [&](const json& j) {
    if (j.is_object()) {
      for (const auto& [k, v] : j.items()) {
        if (k == "$ref") {
          const std::string ref = v.get<std::string>();
          const std::string prefix = "#/components/schemas/";
          ASSERT_EQ(ref.rfind(prefix, 0), 0u) << ref;
          EXPECT_TRUE(schemas.contains(ref.substr(prefix.size()))) << ref;
        } else {
          walk(v);
        }
      }
    } else if (j.is_array()) {
      for (const auto& v : j) walk(v);
    }
  };
  walk(doc);
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      EXPECT_TRUE(op.contains("summary")) << method << " " << path;
      EXPECT_FALSE(op["responses"].empty()) << method << " " << path;
      if (path.rfind("/api/v1/", 0) == 0 && path.find("/auth/") == std::string::npos) {
        EXPECT_TRUE(op.contains("x-permission")) << method << " " << path;
        EXPECT_TRUE(op["responses"].contains("401")) << method << " " << path;
      }
    }
  }
}

TEST(CoordinatorOpenApi, ServedAsJsonAndAsAnOfflineHtmlPage) {
  CoordinatorHarness h;
  auto doc = h.call("GET", "/swagger/doc.json");
  ASSERT_EQ(doc.status, 200);
  EXPECT_EQ(doc.body, openapi_document());
  auto page = h.call("GET", "/swagger/");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.headers["content-type"].find("text/html"), std::string::npos);
  EXPECT_NE(page.raw.find("Gthulhu coordinator API"), std::string::npos);
  EXPECT_NE(page.raw.find("/api/v1/strategies/self"), std::string::npos);
  EXPECT_NE(page.raw.find("schedule_strategy.create"), std::string::npos);
  // Self-contained: nothing loaded from elsewhere.
  EXPECT_EQ(page.raw.find("<script src"), std::string::npos);
  EXPECT_EQ(page.raw.find("http://"), std::string::npos);
  EXPECT_EQ(page.raw.find("https://"), std::string::npos);
  EXPECT_EQ(h.call("GET", "/swagger").status, 200);
}

}  // namespace
}  // namespace gthulhu::test

// The rules a schema-driven client needs to build valid requests (issue 12).
TEST(CoordinatorOpenApi, SchemasCarryTheValidationRules) {
  const auto doc = gthulhu::coordinator::openapi_document();
  const auto& s = doc["components"]["schemas"];
  const auto& prio = s["StrategyCreate"]["properties"]["priority"];
  EXPECT_EQ(prio["minimum"], -20);
  EXPECT_EQ(prio["maximum"], 20);
  EXPECT_EQ(s["StrategyCreate"]["properties"]["executionTime"]["maximum"], 100000000);
  const auto& keys = s["RolePolicy"]["properties"]["permissionKey"]["enum"];
  EXPECT_NE(std::find(keys.begin(), keys.end(), "role.update"), keys.end());
  EXPECT_EQ(s["User"]["properties"]["status"]["enum"], (nlohmann::json{1, 2, 3}));
  EXPECT_EQ(s["Strategy"]["properties"]["createdTime"]["format"], "date-time");
  EXPECT_TRUE(s["StrategyDelete"]["properties"]["strategyId"].contains("pattern"));
  EXPECT_EQ(s["IntentDelete"]["properties"]["intentIds"]["minItems"], 1);
  const auto& login = doc["paths"]["/api/v1/auth/login"]["post"];
  EXPECT_TRUE(login["responses"]["429"]["headers"].contains("Retry-After"));
  EXPECT_TRUE(login.contains("links"));
  const auto& validate = doc["paths"]["/api/v1/auth/validate"]["get"];
  EXPECT_TRUE(validate["responses"]["401"]["headers"].contains("WWW-Authenticate"));
  const auto& intents = doc["paths"]["/api/v1/intents/self"]["get"];
  ASSERT_TRUE(intents.contains("parameters"));
  EXPECT_EQ(intents["parameters"].size(), 2u);
  EXPECT_EQ(doc["paths"]["/swagger/doc.json"]["get"]["responses"]["200"]["content"]["application/json"]
               ["schema"]["$ref"],
            "#/components/schemas/OpenApiDocument");
}
