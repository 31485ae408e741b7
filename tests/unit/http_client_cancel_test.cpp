// The HTTP client's cancellation flag (stop() of a blocked watch) and the status
// passed along with streamed data.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/http/client.h"
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

TEST(HttpClientCancel, RaisingTheFlagAbortsAnIdleTransferPromptly) {
  // A server that accepts and then sends nothing for a while, as a quiet watch.
  Router r;
  r.get("/idle", [](Request&) {
    std::this_thread::sleep_for(3s);
    return json_ok();
  });
  auto s = start(std::move(r));
  const uint16_t port = s->port();

  std::atomic<bool> cancel{false};
  ClientOptions o;
  o.total_timeout = 0ms;
  o.cancel = &cancel;
  Client c(o);
  std::thread raiser([&] {
    std::this_thread::sleep_for(200ms);
    cancel = true;
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto res = c.stream("http://127.0.0.1:" + std::to_string(port) + "/idle", {},
                      [](std::string_view) { return true; });
  const auto took = std::chrono::steady_clock::now() - t0;
  raiser.join();
  EXPECT_FALSE(res.ok);
  EXPECT_TRUE(res.cancelled) << res.error;
  EXPECT_LT(took, 1800ms) << "cancel took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
}

TEST(HttpClientCancel, AFlagRaisedBeforehandSendsNothing) {
  std::atomic<bool> cancel{true};
  ClientOptions o;
  o.cancel = &cancel;
  Client c(o);
  auto res = c.get("http://127.0.0.1:1/");
  EXPECT_FALSE(res.ok);
  EXPECT_TRUE(res.cancelled);
}

TEST(HttpClientCancel, StreamWithStatusSeesTheErrorStatus) {
  Router r;
  r.get("/gone", [](Request&) {
    return Response{410, R"({"kind":"Status","code":410})", "application/json", {}};
  });
  auto s = start(std::move(r));
  Client c;
  long seen = 0;
  std::string body;
  auto res = c.stream_with_status("http://127.0.0.1:" + std::to_string(s->port()) + "/gone", {},
                                  [&](long status, std::string_view d) {
                                    seen = status;
                                    body.append(d);
                                    return true;
                                  });
  ASSERT_TRUE(res.ok) << res.error;
  EXPECT_EQ(res.response.status, 410);
  EXPECT_EQ(seen, 410);
  EXPECT_NE(body.find("410"), std::string::npos);
}
