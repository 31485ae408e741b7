// The shared HTTP server end to end on loopback: routing, envelope, limits, timeouts,
// request ids, metrics and graceful shutdown.
#include "common/http/server.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <atomic>
#include <future>
#include <thread>

#include "common/http/client.h"
#include "common/http/json_api.h"
#include "common/http/json_input.h"
#include "common/metrics/exposition.h"
#include "tests/support/loopback.h"

using namespace gthulhu::http;
using gthulhu::test::RawConnection;
using namespace std::chrono_literals;

namespace {

// Set when /slow's handler runs: the event StopLetsInFlightRequestsFinish waits for.
std::atomic<bool>& slow_entered() {
  static std::atomic<bool> entered{false};
  return entered;
}

// Polls `cond` until it holds or `timeout` passes (a deadline for a failure only).
template <typename Cond>
bool eventually(Cond cond, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// /hold blocks in its handler until released (bounded, so a failing test still ends).
struct Hold {
  std::atomic<bool> entered{false};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
};
Hold*& current_hold() {
  static Hold* h = nullptr;
  return h;
}

Router test_routes() {
  Router r;
  r.get("/health", [](Request&) { return json_raw({{"status", "healthy"}}); });
  r.post("/echo", [](Request& req) {
    Response err;
    auto body = parse_json_body(req, &err);
    if (!body) return err;
    return json_ok({{"echo", *body}}, 201);
  });
  r.get("/items/:id", [](Request& req) {
    return json_ok({{"id", req.param("id")}, {"q", req.query_param("q").value_or("")}});
  });
  r.get("/boom", [](Request&) -> Response { throw std::runtime_error("kaput"); });
  // A handler that trusts the client's types, as the agent's token route did.
  r.post("/unchecked", [](Request& req) {
    Response err;
    auto body = parse_json_body(req, &err);
    if (!body) return err;
    return json_ok({{"secret", body->value("secret", "")}});
  });
  r.post("/reader", [](Request& req) {
    Response err;
    auto body = parse_json_body(req, &err);
    if (!body) return err;
    return json_ok({{"n", optional_int(*body, "n").value_or(0)}});
  });
  r.get("/slow", [](Request&) {
    slow_entered().store(true);
    std::this_thread::sleep_for(300ms);  // the handler's own work, not a wait
    return json_ok({{"slow", true}});
  });
  r.get("/hold", [](Request&) {
    Hold* h = current_hold();
    if (h == nullptr) return json_error(500, "no hold armed");
    h->entered.store(true);
    h->released.wait_for(20s);
    return json_ok({{"held", true}});
  });
  return r;
}

struct ServerFixture : ::testing::Test {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<Server> server;
  Client client;

  void start(ServerOptions o = {}) {
    o.listen = "127.0.0.1:0";
    o.name = "test";
    o.metrics = registry;
    server = std::make_unique<Server>(o, test_routes());
    server->start();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server->port()) + path;
  }
  // GET /hold on its own connection, blocked in the handler until `hold` is released.
  std::future<ClientResult> request_held_by(Hold& hold) {
    current_hold() = &hold;
    return std::async(std::launch::async, [this] {
      Client c;
      return c.get(url("/hold"));
    });
  }
  void SetUp() override {}
};

}  // namespace

TEST_F(ServerFixture, ServesRoutesWithEnvelopeAndParams) {
  start();
  auto r = client.get(url("/items/abc?q=1"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.response.status, 200);
  EXPECT_EQ(r.response.headers["content-type"], "application/json");
  auto j = json::parse(r.response.body);
  EXPECT_TRUE(j["success"].get<bool>());
  EXPECT_EQ(j["data"]["id"], "abc");
  EXPECT_EQ(j["data"]["q"], "1");

  auto p = client.post_json(url("/echo"), R"({"x":[1,2]})");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.response.status, 201);
  EXPECT_EQ(json::parse(p.response.body)["data"]["echo"]["x"][1], 2);
}

TEST_F(ServerFixture, UnknownRouteIs404Json) {
  start();
  auto r = client.get(url("/nope"));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.response.status, 404);
  auto j = json::parse(r.response.body);
  EXPECT_FALSE(j["success"].get<bool>());
  EXPECT_NE(j["error"].get<std::string>().find("/nope"), std::string::npos);
}

TEST_F(ServerFixture, WrongMethodIs405WithAllow) {
  start();
  auto r = client.request("DELETE", url("/health"));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.response.status, 405);
  EXPECT_EQ(r.response.headers["allow"], "GET");
  EXPECT_FALSE(json::parse(r.response.body)["success"].get<bool>());
}

TEST_F(ServerFixture, MalformedJsonIs400WithJsonError) {
  start();
  auto r = client.post_json(url("/echo"), R"({"x": )");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.response.status, 400);
  auto j = json::parse(r.response.body);
  EXPECT_FALSE(j["success"].get<bool>());
  EXPECT_NE(j["error"].get<std::string>().find("malformed JSON"), std::string::npos);
}

TEST_F(ServerFixture, TooDeepJsonIs400) {
  start();
  auto r = client.post_json(url("/echo"), std::string(500, '[') + std::string(500, ']'));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.response.status, 400);
  EXPECT_NE(json::parse(r.response.body)["error"].get<std::string>().find("nesting"),
            std::string::npos);
}

TEST_F(ServerFixture, BodyOverLimitIs413) {
  ServerOptions o;
  o.max_body_bytes = 1024;
  start(o);
  auto r = client.post_json(url("/echo"), "[\"" + std::string(4096, 'a') + "\"]");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.response.status, 413);
  EXPECT_FALSE(json::parse(r.response.body)["success"].get<bool>());
  // Exactly at the limit is fine.
  std::string ok_body = "[\"" + std::string(1020, 'a') + "\"]";
  ASSERT_EQ(ok_body.size(), 1024u);
  EXPECT_EQ(client.post_json(url("/echo"), ok_body).response.status, 201);
}

TEST_F(ServerFixture, ChunkedBodyOverLimitIs413) {
  ServerOptions o;
  o.max_body_bytes = 1024;
  start(o);
  RawConnection c(server->port());
  std::string chunk(900, 'a');
  char size_hex[16];
  std::snprintf(size_hex, sizeof size_hex, "%zx", chunk.size());
  std::string req =
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Content-Type: application/json\r\n\r\n";
  for (int i = 0; i < 3; ++i) req += std::string(size_hex) + "\r\n" + chunk + "\r\n";
  req += "0\r\n\r\n";
  ASSERT_TRUE(c.send_all(req));
  auto answer = c.read_until_close(3s);
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
}

TEST_F(ServerFixture, SilentClientIsDisconnectedAfterTimeout) {
  ServerOptions o;
  o.connection_timeout = 1s;
  start(o);
  RawConnection silent(server->port());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.closed_by_peer_within(5s));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 900ms);

  RawConnection half(server->port());
  ASSERT_TRUE(half.send_all("GET /health HTTP/1.1\r\nHost: x\r\n"));  // never finishes
  EXPECT_TRUE(half.closed_by_peer_within(5s));
}

TEST_F(ServerFixture, HandlerExceptionIs500WithRequestId) {
  start();
  auto r = client.get(url("/boom"), {"X-Request-ID: trace-123"});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.response.status, 500);
  EXPECT_EQ(r.response.headers["x-request-id"], "trace-123");
  EXPECT_NE(r.response.body.find("trace-123"), std::string::npos);
  EXPECT_EQ(r.response.body.find("kaput"), std::string::npos) << "internals must not leak";
}

TEST_F(ServerFixture, WrongTypesAndReaderErrorsAreClientErrorsNot500) {
  start();
  auto unchecked = client.post_json(url("/unchecked"), R"({"secret":123})");
  EXPECT_EQ(unchecked.response.status, 400) << unchecked.response.body;
  EXPECT_EQ(unchecked.response.body.find("json.exception"), std::string::npos)
      << unchecked.response.body;
  auto reader = client.post_json(url("/reader"), R"({"n":"five"})");
  EXPECT_EQ(reader.response.status, 400) << reader.response.body;
  EXPECT_NE(reader.response.body.find("n must be an integer"), std::string::npos)
      << reader.response.body;
  auto range = client.post_json(url("/reader"), R"({"n":18446744073709551615})");
  EXPECT_EQ(range.response.status, 422) << range.response.body;
  auto utf8 = client.post_json(url("/reader"), "{\"n\":\"\xff\"}");
  EXPECT_EQ(utf8.response.status, 400) << utf8.response.body;
  EXPECT_TRUE(json::accept(utf8.response.body));
}

TEST_F(ServerFixture, GeneratesRequestIdWhenAbsentOrUnsafe) {
  start();
  auto a = client.get(url("/health"));
  EXPECT_EQ(a.response.headers["x-request-id"].size(), 16u);
  auto b = client.get(url("/health"), {"X-Request-ID: bad id\twith spaces"});
  EXPECT_EQ(b.response.headers["x-request-id"].size(), 16u);
  EXPECT_NE(a.response.headers["x-request-id"], b.response.headers["x-request-id"]);
}

TEST_F(ServerFixture, PerIpConnectionLimitAnswers503JsonAndServesOtherAddresses) {
  ServerOptions o;
  o.max_connections_per_ip = 2;
  o.connection_timeout = 5s;
  start(o);
  // Two connections the server has certainly accepted (each answered once and kept
  // open), so the third is the one over the limit whatever order accepts run in.
  RawConnection a(server->port()), b(server->port());
  for (auto* held : {&a, &b}) {
    ASSERT_TRUE(held->send_all("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_EQ(held->read_response(15s).rfind("HTTP/1.1 200", 0), 0u);
  }
  RawConnection c(server->port());
  // The third connection from the same address is told why, in JSON, and closed.
  ASSERT_TRUE(c.send_all("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  // Deadlines, not delays: they return as soon as the server answers or closes, and
  // are long enough for a sanitizer build on a loaded machine.
  const auto answer = c.read_until_close(15s);
  EXPECT_EQ(answer.rfind("HTTP/1.1 503", 0), 0u) << answer;
  EXPECT_NE(answer.find("Retry-After: 1"), std::string::npos) << answer;
  EXPECT_NE(answer.find(R"("success":false)"), std::string::npos) << answer;
  // One that never sends a request is closed soon, not kept.
  RawConnection silent(server->port());
  EXPECT_TRUE(silent.closed_by_peer_within(15s));
  EXPECT_FALSE(a.closed_by_peer_within(200ms));
  // Another client machine is served meanwhile.
  RawConnection other(server->port(), "127.0.0.2");
  ASSERT_TRUE(other.send_all("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(other.read_until_close(15s).rfind("HTTP/1.1 200", 0), 0u);
}

TEST_F(ServerFixture, TricklingHeadIsClosedAtTheHeadDeadline) {
  ServerOptions o;
  o.connection_timeout = 30s;  // the idle timeout never fires: bytes keep coming
  o.request_head_timeout = 1000ms;
  start(o);
  RawConnection slow(server->port());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(slow.trickle_until_closed("GET /health HTTP/1.1\r\nX-Slow: ", 100ms, 8s));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 5s);
  // A prompt client on a keep-alive connection: two requests, both served.
  RawConnection prompt(server->port());
  ASSERT_TRUE(prompt.send_all("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                              "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const auto both = prompt.read_until_close(3s);
  EXPECT_EQ(both.rfind("HTTP/1.1 200", 0), 0u) << both;
  EXPECT_NE(both.find("HTTP/1.1 200", 10), std::string::npos) << both;
}

TEST_F(ServerFixture, TricklingBodyIsClosedAtTheBodyDeadline) {
  ServerOptions o;
  o.connection_timeout = 30s;
  o.request_head_timeout = 5000ms;
  o.request_body_timeout = 1000ms;
  start(o);
  RawConnection slow(server->port());
  ASSERT_TRUE(slow.send_all("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            "Content-Length: 100000\r\n\r\n"));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(slow.trickle_until_closed("[", 100ms, 8s, ' '));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 4s);  // the head timeout (5 s) is not the one that acted
  EXPECT_TRUE(client.get(url("/health")).ok);
}

TEST_F(ServerFixture, OverlongUrlAndHeadersAreAnsweredInJson) {
  start();
  const std::string long_url = "/health?q=" + std::string(9000, 'a');
  auto url_reply = client.get(url(long_url));
  ASSERT_TRUE(url_reply.ok) << url_reply.error;
  EXPECT_EQ(url_reply.response.status, 414);
  EXPECT_NE(url_reply.response.body.find("request URL exceeds the limit of 8192 bytes"),
            std::string::npos)
      << url_reply.response.body;
  auto headers = client.get(url("/health"), {"X-Big: " + std::string(70000, 'h')});
  ASSERT_TRUE(headers.ok) << headers.error;
  EXPECT_EQ(headers.response.status, 431);
  EXPECT_TRUE(json::accept(headers.response.body)) << headers.response.body;
  // Far beyond our limits libmicrohttpd answers by itself; the server stays healthy.
  RawConnection huge(server->port());
  huge.send_all("GET /" + std::string(1 << 20, 'u') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  (void)huge.read_until_close(3s);
  EXPECT_EQ(client.get(url("/health")).response.status, 200);
}

TEST_F(ServerFixture, ExportsRequestMetricsByRoutePattern) {
  start();
  client.get(url("/items/1"));
  client.get(url("/items/2"));
  // Completion is recorded after the response is on the wire: allow it a moment.
  const std::string want =
      R"(gthulhu_http_requests_total{method="GET",route="/items/:id",server="test",status="200"} 2)";
  std::string text;
  EXPECT_TRUE(eventually([&] {
    text = gthulhu::metrics::exposition({registry}).body;
    return text.find(want) != std::string::npos;
  })) << text;
  EXPECT_NE(text.find("gthulhu_http_request_duration_seconds_bucket"), std::string::npos);
}

// The agent's results long poll blocks its handler for up to 30 s. In a thread pool a
// keep-alive connection stays on the thread that accepted it, so every connection
// sharing the blocked thread waited (100 agents: pushes timed out at 5 s; this test
// fails that way with a pool of 2). With a thread per connection none waits.
TEST_F(ServerFixture, ABlockedHandlerHoldsUpNoOtherKeepAliveConnection) {
  ServerOptions o;
  o.thread_per_connection = true;
  start(o);
  ClientOptions quick;
  quick.total_timeout = 3s;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::make_unique<Client>(quick));
    auto r = clients.back()->get(url("/health"));
    ASSERT_TRUE(r.ok) << r.error;
  }
  Hold hold;
  auto held = request_held_by(hold);
  ASSERT_TRUE(eventually([&] { return hold.entered.load(); }));
  for (size_t i = 0; i < clients.size(); ++i) {
    auto r = clients[i]->get(url("/health"));
    EXPECT_TRUE(r.ok) << "keep-alive connection " << i << " while a handler blocks: " << r.error;
  }
  hold.release.set_value();
  auto r = held.get();
  current_hold() = nullptr;
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.response.status, 200);
}

TEST_F(ServerFixture, CountsRequestsInFlight) {
  start();
  Hold hold;
  auto held = request_held_by(hold);
  ASSERT_TRUE(eventually([&] { return hold.entered.load(); }));
  const std::string text = gthulhu::metrics::exposition({registry}).body;
  EXPECT_NE(text.find("gthulhu_http_requests_in_flight{server=\"test\"} 1"), std::string::npos) << text;
  hold.release.set_value();
  ASSERT_TRUE(held.get().ok);
  current_hold() = nullptr;
  // The client has its answer a moment before the server counts the request done.
  EXPECT_TRUE(eventually([&] {
    return gthulhu::metrics::exposition({registry}).body.find("gthulhu_http_requests_in_flight{server=\"test\"} 0") !=
           std::string::npos;
  }));
}

TEST_F(ServerFixture, StopLetsInFlightRequestsFinish) {
  start();
  slow_entered().store(false);
  auto slow = std::async(std::launch::async, [this] {
    Client c;
    return c.get(url("/slow"));
  });
  // Stop only once the request is being handled (not merely sent).
  ASSERT_TRUE(eventually([] { return slow_entered().load(); }));
  server->stop();
  auto r = slow.get();
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.response.status, 200);
  // And no new connection is accepted afterwards.
  ClientOptions quick;
  quick.connect_timeout = 500ms;
  Client c2(quick);
  EXPECT_FALSE(c2.get(url("/health")).ok);
}

TEST(ListenSpec, ParsesForms) {
  auto a = parse_listen(":8080");
  EXPECT_EQ(a.host, "");
  EXPECT_EQ(a.port, 8080);
  auto b = parse_listen("[::1]:9000");
  EXPECT_TRUE(b.ipv6);
  EXPECT_EQ(b.host, "::1");
  EXPECT_EQ(parse_listen("localhost:1").host, "127.0.0.1");
  EXPECT_THROW(parse_listen("8080"), std::invalid_argument);
  EXPECT_THROW(parse_listen(":99999"), std::invalid_argument);
  EXPECT_THROW(parse_listen(":"), std::invalid_argument);
}

TEST(ServerStart, FailsClearlyWhenPortIsTaken) {
  Router r;
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  Server first(o, r);
  first.start();
  o.listen = "127.0.0.1:" + std::to_string(first.port());
  Server second(o, r);
  EXPECT_THROW(second.start(), std::runtime_error);
}
