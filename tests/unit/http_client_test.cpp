// The shared HTTP client's timeouts and limits against deliberately bad servers.
#include "common/http/client.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/http/json_api.h"
#include "common/http/server.h"

using namespace gthulhu::http;
using namespace std::chrono_literals;

namespace {
std::unique_ptr<Server> start(Router r) {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.access_log = false;
  auto s = std::make_unique<Server>(o, std::move(r));
  s->start();
  return s;
}
}  // namespace

TEST(HttpClient, TotalTimeoutIsEnforced) {
  Router r;
  r.get("/slow", [](Request&) {
    std::this_thread::sleep_for(1500ms);
    return json_ok();
  });
  auto s = start(std::move(r));
  ClientOptions o;
  o.total_timeout = 300ms;
  Client c(o);
  const auto t0 = std::chrono::steady_clock::now();
  auto res = c.get("http://127.0.0.1:" + std::to_string(s->port()) + "/slow");
  EXPECT_FALSE(res.ok);
  EXPECT_TRUE(res.timed_out) << res.error;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1200ms);
}

TEST(HttpClient, ConnectionRefusedIsAnErrorNotAStatus) {
  Client c;
  // Port 1 on loopback: nothing listens there.
  auto res = c.get("http://127.0.0.1:1/");
  EXPECT_FALSE(res.ok);
  EXPECT_FALSE(res.error.empty());
}

TEST(HttpClient, ResponseSizeLimit) {
  Router r;
  r.get("/big", [](Request&) { return Response{200, std::string(100000, 'x'), "text/plain", {}}; });
  auto s = start(std::move(r));
  ClientOptions o;
  o.max_response_bytes = 1000;
  Client c(o);
  auto res = c.get("http://127.0.0.1:" + std::to_string(s->port()) + "/big");
  EXPECT_FALSE(res.ok);
  EXPECT_NE(res.error.find("larger than"), std::string::npos);
}

TEST(HttpClient, StreamDeliversChunksAndCanStopEarly) {
  Router r;
  r.get("/stream", [](Request&) { return Response{200, std::string(50000, 'y'), "text/plain", {}}; });
  auto s = start(std::move(r));
  Client c;
  size_t seen = 0;
  auto res = c.stream("http://127.0.0.1:" + std::to_string(s->port()) + "/stream", {},
                      [&](std::string_view chunk) {
                        seen += chunk.size();
                        return seen < 10000;
                      });
  EXPECT_TRUE(res.ok) << res.error;
  EXPECT_EQ(res.response.status, 200);
  EXPECT_GE(seen, 10000u);
  EXPECT_LE(seen, 50000u);
}

TEST(HttpClient, ReusesOneClientForManyRequests) {
  Router r;
  r.post("/n", [](Request& req) { return json_ok({{"len", req.body.size()}}); });
  auto s = start(std::move(r));
  Client c;
  for (int i = 0; i < 20; ++i) {
    auto res = c.post_json("http://127.0.0.1:" + std::to_string(s->port()) + "/n",
                           std::string("\"") + std::string(static_cast<size_t>(i), 'a') + "\"");
    ASSERT_TRUE(res.ok);
    EXPECT_EQ(json::parse(res.response.body)["data"]["len"], i + 2);
  }
}
