// The reflector's protocol against a scripted server on loopback (the real-server tier
// is tests/kube): the watch parameters, resuming from a bookmark's resourceVersion,
// malformed events skipped, 410 as an ERROR event and as an HTTP answer, and a relist
// that emits only the differences.
#include <gtest/gtest.h>

#include <deque>
#include <mutex>
#include <thread>

#include "common/http/server.h"
#include "coordinator/kube/kube_pod_source.h"
#include "coordinator/kube/reflector.h"

using namespace gthulhu;
using namespace gthulhu::coordinator::kube;
using namespace std::chrono_literals;

namespace {

std::string pod(const std::string& name, const std::string& rv, const std::string& node = "n1") {
  return R"({"metadata":{"name":")" + name + R"(","namespace":"ns","uid":"uid-)" + name +
         R"(","resourceVersion":")" + rv + R"("},"spec":{"nodeName":")" + node + R"("}})";
}

std::string list_body(const std::string& rv, const std::vector<std::string>& pods) {
  std::string items;
  for (const auto& p : pods) items += (items.empty() ? "" : ",") + p;
  return R"({"kind":"PodList","metadata":{"resourceVersion":")" + rv + R"("},"items":[)" + items + "]}";
}

// Answers LIST and WATCH requests from queues; records every query.
class ScriptedApi {
 public:
  ScriptedApi() {
    http::Router r;
    r.get("/api/v1/namespaces/ns/pods", [this](http::Request& req) { return answer(req); });
    http::ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.access_log = false;
    server_ = std::make_unique<http::Server>(o, std::move(r));
    server_->start();
  }
  void add_list(http::Response r) { std::lock_guard l(mu_); lists_.push_back(std::move(r)); }
  void add_watch(http::Response r) { std::lock_guard l(mu_); watches_.push_back(std::move(r)); }
  std::vector<std::map<std::string, std::string>> watch_queries() const {
    std::lock_guard l(mu_);
    return watch_queries_;
  }
  int lists_served() const { std::lock_guard l(mu_); return lists_served_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

 private:
  http::Response answer(http::Request& req) {
    std::unique_lock l(mu_);
    const bool watch = req.query_param("watch").value_or("") == "true";
    auto& queue = watch ? watches_ : lists_;
    if (watch) watch_queries_.push_back(req.query);
    else ++lists_served_;
    if (queue.empty()) {
      // Out of script: a quiet watch that the server ends after a while.
      l.unlock();
      std::this_thread::sleep_for(300ms);
      return {200, "", "application/json", {}};
    }
    http::Response r = queue.front();
    queue.pop_front();
    return r;
  }

  mutable std::mutex mu_;
  std::deque<http::Response> lists_, watches_;
  std::vector<std::map<std::string, std::string>> watch_queries_;
  int lists_served_ = 0;
  std::unique_ptr<http::Server> server_;
};

http::Response ok(std::string body) { return {200, std::move(body), "application/json", {}}; }

struct RecordingSink : ReflectorSink {
  void apply(const std::vector<ObjectDelta>& deltas, bool initial) override {
    std::lock_guard l(mu);
    batches.push_back({deltas, initial});
  }
  size_t count() const { std::lock_guard l(mu); return batches.size(); }
  mutable std::mutex mu;
  std::vector<std::pair<std::vector<ObjectDelta>, bool>> batches;
};

bool wait_for(const std::function<bool()>& cond, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

ReflectorOptions options() {
  ReflectorOptions o;
  o.name = "test pods";
  o.list_path = "/api/v1/namespaces/ns/pods";
  o.label_selector = "app=web";
  o.watch_timeout = 8s;
  o.backoff_initial = 10ms;
  o.backoff_max = 50ms;
  return o;
}

KubeCredentials creds(const ScriptedApi& api) {
  KubeCredentials c;
  c.server = api.url();
  c.token = "t";
  return c;
}

}  // namespace

TEST(Reflector, ListWatchBookmarkGoneAndARelistOfDifferences) {
  ScriptedApi api;
  api.add_list(ok(list_body("10", {pod("a", "5"), pod("b", "6")})));
  api.add_watch(ok("this is not json\n" + std::string(R"({"type":"ADDED","object":)") + pod("c", "11") +
                   "}\n" + R"({"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"15"}}})" + "\n"));
  api.add_watch(ok(R"J({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 15 (30)"}})J"
                   "\n"));
  // The relist: a unchanged, b gone, c changed, d new.
  api.add_list(ok(list_body("30", {pod("a", "5"), pod("c", "29", "n2"), pod("d", "28")})));
  api.add_watch({410, R"({"kind":"Status","code":410,"reason":"Expired","message":"gone again"})", "application/json", {}});
  api.add_list(ok(list_body("40", {pod("a", "5"), pod("c", "29", "n2"), pod("d", "28")})));

  RecordingSink sink;
  Reflector r(creds(api), {}, options(), sink);
  r.start();
  ASSERT_TRUE(wait_for([&] { return api.lists_served() >= 3 && r.resource_version() == "40"; }));
  r.stop();

  std::lock_guard l(sink.mu);
  ASSERT_GE(sink.batches.size(), 3u);
  // 1. The initial list: everything, flagged initial.
  EXPECT_TRUE(sink.batches[0].second);
  ASSERT_EQ(sink.batches[0].first.size(), 2u);
  // 2. ADDED c (the malformed line before it was skipped).
  ASSERT_EQ(sink.batches[1].first.size(), 1u);
  EXPECT_EQ(sink.batches[1].first[0].key, "ns/c");
  EXPECT_FALSE(sink.batches[1].second);
  // 3. The relist after 410: only c (changed), d (new) and b (deleted); a is unchanged.
  const auto& relist = sink.batches[2].first;
  ASSERT_EQ(relist.size(), 3u);
  EXPECT_EQ(relist[0].key, "ns/c");
  EXPECT_EQ(relist[0].kind, ObjectDelta::Kind::Upsert);
  EXPECT_EQ(relist[1].key, "ns/d");
  EXPECT_EQ(relist[2].key, "ns/b");
  EXPECT_EQ(relist[2].kind, ObjectDelta::Kind::Delete);
  // The third list found nothing new: no batch for it.
  EXPECT_EQ(sink.batches.size(), 3u);

  const auto q = api.watch_queries();
  ASSERT_GE(q.size(), 3u);
  EXPECT_EQ(q[0].at("resourceVersion"), "10");
  EXPECT_EQ(q[0].at("allowWatchBookmarks"), "true");
  EXPECT_EQ(q[0].at("labelSelector"), "app=web");
  const int timeout = std::stoi(q[0].at("timeoutSeconds"));
  EXPECT_GE(timeout, 8);
  EXPECT_LE(timeout, 10);
  EXPECT_EQ(q[1].at("resourceVersion"), "15") << "resumes from the bookmark";
  EXPECT_EQ(q[2].at("resourceVersion"), "30");

  const auto stats = r.stats();
  EXPECT_EQ(stats.relists_gone, 2u);
  EXPECT_EQ(stats.bookmarks, 1u);
  EXPECT_EQ(stats.malformed, 1u);
  EXPECT_EQ(stats.lists, 3u);
}

TEST(Reflector, AFailedListIsRetriedWithBackoffAndStopIsPrompt) {
  ScriptedApi api;
  api.add_list({500, R"({"kind":"Status","code":500,"reason":"InternalError","message":"etcd down"})",
                "application/json", {}});
  api.add_list({403, R"({"kind":"Status","code":403,"reason":"Forbidden","message":"no"})", "application/json", {}});
  api.add_list(ok(list_body("7", {pod("a", "5")})));
  RecordingSink sink;
  Reflector r(creds(api), {}, options(), sink);
  r.start();
  ASSERT_TRUE(wait_for([&] { return r.synced(); }));
  EXPECT_GE(r.stats().failures, 2u);
  EXPECT_EQ(api.lists_served(), 3);
  const auto t0 = std::chrono::steady_clock::now();
  r.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
}

TEST(KubePodSourceUnit, NotifiesOnFirstSyncAndOnRealChangesOnly) {
  ScriptedApi api;
  api.add_list(ok(list_body("10", {pod("a", "5")})));
  // A MODIFIED event that changes nothing the coordinator sees (same Pod fields).
  api.add_watch(ok(std::string(R"({"type":"MODIFIED","object":)") + pod("a", "12") + "}\n" +
                   R"({"type":"MODIFIED","object":)" + pod("a", "13", "n9") + "}\n"));
  KubePodSourceOptions o;
  o.namespace_ = "ns";
  o.reflector = options();
  KubePodSource src(creds(api), {}, o);
  std::atomic<int> notified{0};
  src.subscribe([&] { ++notified; });
  src.start();
  ASSERT_TRUE(wait_for([&] { return !src.pods().empty() && src.pods()[0].node_name == "n9"; }));
  EXPECT_EQ(notified.load(), 2) << "first sync + the node change, not the no-op update";
  EXPECT_EQ(src.nodes(), std::vector<std::string>{"n9"});
}
