#include "common/http/router.h"

#include <gtest/gtest.h>

using gthulhu::http::Request;
using gthulhu::http::Response;
using gthulhu::http::Router;

namespace {
gthulhu::http::Handler tag(int n) {
  return [n](Request&) { return Response{n, "", "text/plain", {}}; };
}
int call(const Router::Match& m) {
  Request r;
  return (*m.handler)(r).status;
}
}  // namespace

TEST(Router, MatchesLiteralAndParameters) {
  Router r;
  r.get("/api/v1/nodes/:nodeID/pods/pids", tag(1));
  r.get("/health", tag(2));
  auto m = r.match("GET", "/api/v1/nodes/node-a/pods/pids");
  ASSERT_EQ(m.outcome, Router::Outcome::kMatched);
  EXPECT_EQ(call(m), 1);
  EXPECT_EQ(m.params.at("nodeID"), "node-a");
  EXPECT_EQ(m.pattern, "/api/v1/nodes/:nodeID/pods/pids");
  EXPECT_EQ(call(r.match("GET", "/health")), 2);
}

TEST(Router, LiteralBeatsParameterRegardlessOfOrder) {
  Router r;
  r.get("/users/:id", tag(1));
  r.get("/users/self", tag(2));
  EXPECT_EQ(call(r.match("GET", "/users/self")), 2);
  EXPECT_EQ(call(r.match("GET", "/users/42")), 1);
}

TEST(Router, NotFoundAndMethodNotAllowed) {
  Router r;
  r.get("/a", tag(1));
  r.post("/a", tag(2));
  EXPECT_EQ(r.match("GET", "/b").outcome, Router::Outcome::kNotFound);
  EXPECT_EQ(r.match("GET", "/a/extra").outcome, Router::Outcome::kNotFound);
  auto m = r.match("DELETE", "/a");
  EXPECT_EQ(m.outcome, Router::Outcome::kMethodNotAllowed);
  EXPECT_EQ(m.allowed_methods, (std::vector<std::string>{"GET", "POST"}));
}

TEST(Router, TrailingSlashAndDoubleSlashesAreTolerated) {
  Router r;
  r.get("/api/v1/intents", tag(1));
  EXPECT_EQ(r.match("GET", "/api/v1/intents/").outcome, Router::Outcome::kMatched);
  EXPECT_EQ(r.match("GET", "//api//v1/intents").outcome, Router::Outcome::kMatched);
}

TEST(Router, WildcardTakesTheRest) {
  Router r;
  r.get("/swagger/*", tag(1));
  auto m = r.match("GET", "/swagger/ui/index.html");
  ASSERT_EQ(m.outcome, Router::Outcome::kMatched);
  EXPECT_EQ(m.params.at("*"), "ui/index.html");
  EXPECT_EQ(r.match("GET", "/swagger").outcome, Router::Outcome::kMatched);
}

TEST(Router, HeadIsServedByGet) {
  Router r;
  r.get("/x", tag(7));
  EXPECT_EQ(call(r.match("HEAD", "/x")), 7);
}

TEST(Router, WrapperCoversOnlyTheRoutesAddedWhileItIsSet) {
  Router r;
  r.get("/before", tag(1));
  r.wrap_next_routes([](gthulhu::http::Handler h) {
    return [h = std::move(h)](Request& req) {
      Response resp = h(req);
      resp.status += 100;
      return resp;
    };
  });
  r.get("/during", tag(2));
  r.wrap_next_routes({});
  r.get("/after", tag(3));
  EXPECT_EQ(call(r.match("GET", "/before")), 1);
  EXPECT_EQ(call(r.match("GET", "/during")), 102);
  EXPECT_EQ(call(r.match("GET", "/after")), 3);
}

TEST(Router, RejectsBadPatternsAndDuplicates) {
  Router r;
  EXPECT_THROW(r.get("no-slash", tag(1)), std::invalid_argument);
  EXPECT_THROW(r.get("/a/*/b", tag(1)), std::invalid_argument);
  r.get("/a", tag(1));
  EXPECT_THROW(r.get("/a", tag(2)), std::invalid_argument);
  EXPECT_EQ(r.routes().size(), 1u);
}
