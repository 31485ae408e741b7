// KubePodSource against a real kube-apiserver + etcd: pods as the API has them, changes
// through the watch, bookmarks, 410 Gone after compaction (relist, nothing lost), API
// server restarts, a frozen server (dead stream), pagination, a prompt stop().
#include <gtest/gtest.h>

#include <functional>
#include <thread>

#include "coordinator/kube/kube_client.h"
#include "coordinator/kube/kube_pod_source.h"
#include "tests/kube/kube_fixture.h"
#include "tests/support/loopback.h"
#include "tests/support/test_pki.h"

using namespace gthulhu;
using namespace gthulhu::test::kube;
using gthulhu::test::eventually;
using namespace std::chrono_literals;
using coordinator::Pod;
using coordinator::kube::KubePodSource;
using coordinator::kube::KubePodSourceOptions;

namespace {

// A source on `ns` with the options given (their namespace set to `ns`).
std::unique_ptr<KubePodSource> source_for(test::KubeApiServer& s, const std::string& ns,
                                          KubePodSourceOptions o) {
  o.namespace_ = ns;
  return std::make_unique<KubePodSource>(credentials(s), client_options(), o);
}

// ... with the fast test timings.
std::unique_ptr<KubePodSource> source_for(test::KubeApiServer& s, const std::string& ns) {
  KubePodSourceOptions o;
  o.reflector = fast_reflector();
  return source_for(s, ns, o);
}

// The source holds exactly what a fresh LIST of the namespace returns.
std::function<bool()> matches_list(test::KubeApiServer& s, const KubePodSource& src, const std::string& ns) {
  return [&s, &src, ns] { return pods_in(src, ns) == list_pods(s, ns); };
}

long long rv_number(const std::string& rv) { return rv.empty() ? 0 : std::stoll(rv); }

}  // namespace

TEST(KubePodSource, PodsAppearChangeAndGoAsTheApiHasThem) {
  KUBE_TEST_SETUP(server, ns, "pods");
  create_pod(*server, ns, "before-start", {{"app", "web"}});

  auto src = source_for(*server, ns);
  ListenerCounter notified;
  src->subscribe(std::ref(notified));
  src->start();
  ASSERT_TRUE(eventually([&] { return src->synced(); }, 10s));
  EXPECT_GE(notified.count(), 1) << "no notification when first synced";
  ASSERT_EQ(src->pods().size(), 1u);
  EXPECT_EQ(src->pods()[0].name, "before-start");
  EXPECT_EQ(src->pods()[0].node_name, "node-a");
  EXPECT_FALSE(src->pods()[0].uid.empty());

  // Create (scheduled at create), then Running with an IP through the status subresource.
  auto created = create_pod(*server, ns, "web-1", {{"app.kubernetes.io/name", "Web"}, {"tier", ""}}, "node-b");
  ASSERT_TRUE(eventually([&] { return pods_in(*src, ns).size() == 2; }, 10s));
  set_pod_status(*server, ns, "web-1", "Running", "10.244.1.7");
  ASSERT_TRUE(eventually(
      [&] {
        auto pods = pods_in(*src, ns);
        return pods.size() == 2 && pods[1].phase == "Running" && pods[1].pod_ip == "10.244.1.7";
      },
      10s));
  Pod web = pods_in(*src, ns)[1];
  EXPECT_EQ(web.uid, created["metadata"]["uid"]);
  EXPECT_EQ(web.labels, (std::map<std::string, std::string>{{"app.kubernetes.io/name", "Web"}, {"tier", ""}}));
  EXPECT_EQ(web.node_name, "node-b");
  EXPECT_EQ(src->nodes(), (std::vector<std::string>{"node-a", "node-b"}));

  // Relabel: one label changed, one added, one removed.
  const int before = notified.count();
  set_pod_labels(*server, ns, "web-1", {{"app.kubernetes.io/name", "shop"}, {"new", "x"}, {"tier", nullptr}});
  ASSERT_TRUE(eventually([&] { return pods_in(*src, ns)[1].labels.count("new") == 1; }, 10s));
  EXPECT_EQ(pods_in(*src, ns)[1].labels,
            (std::map<std::string, std::string>{{"app.kubernetes.io/name", "shop"}, {"new", "x"}}));
  EXPECT_GT(notified.count(), before);

  // A change outside the Pod fields (an annotation) changes nothing the coordinator
  // sees: no notification.
  ASSERT_TRUE(eventually(matches_list(*server, *src, ns), 10s));
  const int settled = notified.count();
  const auto events_before = src->reflector().stats().events;
  server->request_json("PATCH", "/api/v1/namespaces/" + ns + "/pods/web-1",
                       R"({"metadata":{"annotations":{"note":"x"}}})", "application/merge-patch+json");
  ASSERT_TRUE(eventually([&] { return src->reflector().stats().events > events_before; }, 10s));
  EXPECT_EQ(notified.count(), settled);

  delete_pod(*server, ns, "before-start");
  ASSERT_TRUE(eventually([&] { return pods_in(*src, ns).size() == 1; }, 10s));
  EXPECT_TRUE(eventually(matches_list(*server, *src, ns), 10s));
  EXPECT_EQ(src->reflector().stats().relists_gone, 0u);
  EXPECT_EQ(src->reflector().stats().malformed, 0u);
}

TEST(KubePodSource, LabelSelectorAndAllNamespaces) {
  KUBE_TEST_SETUP(server, ns, "sel");
  const std::string other = fresh_namespace(*server, "sel-other");
  ASSERT_FALSE(other.empty()) << server->last_error();
  create_pod(*server, ns, "a", {{"team", "red"}});
  create_pod(*server, ns, "b", {{"team", "blue"}});
  create_pod(*server, other, "c", {{"team", "red"}});

  KubePodSourceOptions o;
  o.namespace_ = "";  // every namespace
  o.label_selector = "team=red";
  o.reflector = fast_reflector();
  KubePodSource src(credentials(*server), client_options(), o);
  src.start();
  ASSERT_TRUE(eventually([&] { return pods_in(src, ns).size() == 1 && pods_in(src, other).size() == 1; }, 10s));
  EXPECT_EQ(pods_in(src, ns)[0].name, "a");
  // Relabelling moves a pod into and out of the selection.
  set_pod_labels(*server, ns, "b", {{"team", "red"}});
  set_pod_labels(*server, ns, "a", {{"team", "green"}});
  EXPECT_TRUE(eventually([&] { return pods_in(src, ns).size() == 1 && pods_in(src, ns)[0].name == "b"; }, 10s));
}

TEST(KubePodSource, PaginatedListGivesEveryPod) {
  KUBE_TEST_SETUP(server, ns, "page");
  for (int i = 0; i < 7; ++i) create_pod(*server, ns, "p" + std::to_string(i), {{"i", std::to_string(i)}});
  KubePodSourceOptions o;
  o.reflector = fast_reflector();
  o.reflector.page_size = 2;
  auto src = source_for(*server, ns, o);
  src->start();
  ASSERT_TRUE(eventually([&] { return src->synced(); }, 10s));
  EXPECT_EQ(pods_in(*src, ns), list_pods(*server, ns));
  EXPECT_EQ(pods_in(*src, ns).size(), 7u);
}

TEST(KubePodSource, BookmarksAdvanceTheResourceVersionWithoutPodChanges) {
  KUBE_TEST_SETUP(server, ns, "bookmark");
  KubePodSourceOptions o;
  o.reflector = fast_reflector();
  // The server sends a bookmark about 2 s before a watch's timeout (and once a
  // minute otherwise): a short timeout makes one come within seconds.
  o.reflector.watch_timeout = 5s;
  auto src = source_for(*server, ns, o);
  src->start();
  ASSERT_TRUE(eventually([&] { return src->synced(); }, 10s));
  create_pod(*server, ns, "only", {});
  ASSERT_TRUE(eventually([&] { return pods_in(*src, ns).size() == 1; }, 10s));
  const auto pod_rv = rv_number(src->reflector().resource_version());
  const auto events = src->reflector().stats().events;
  // Writes elsewhere move etcd's revision; only a bookmark can tell the pod watcher.
  // The API server's pod cache learns of that revision when etcd reports progress: on
  // a consistent LIST of pods (any client's; here one of another namespace), or every
  // few minutes on its own. Its next bookmark then carries the new revision.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(touch_configmap(*server, ns, "cm"));
  list_pods(*server, "kube-system");
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually(
      [&] { return src->reflector().stats().bookmarks > 0 && rv_number(src->reflector().resource_version()) > pod_rv; },
      30s))
      << "resourceVersion stayed at " << src->reflector().resource_version() << ", bookmarks "
      << src->reflector().stats().bookmarks;
  std::printf("[ figure   ] first advancing bookmark %lld ms after the writes\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - t0).count()));
  EXPECT_EQ(src->reflector().stats().events, events) << "no pod changed";
}

TEST(KubePodSource, GoneAfterCompactionRelistsAndLosesNothing) {
  KUBE_TEST_SETUP(server, ns, "gone");
  create_pod(*server, ns, "stays", {{"v", "1"}});
  create_pod(*server, ns, "deleted-while-down", {});
  create_pod(*server, ns, "relabelled-while-down", {{"v", "1"}});
  auto src = source_for(*server, ns);
  ListenerCounter notified;
  src->subscribe(std::ref(notified));
  src->start();
  ASSERT_TRUE(eventually(matches_list(*server, *src, ns), 10s));
  const std::string old_rv = src->reflector().resource_version();

  // The source's server goes away; the same etcd is changed through an API server on
  // another port the source does not know, then compacted past the source's
  // resourceVersion. Then the usual server comes back with a fresh watch cache.
  server->stop_apiserver();
  ASSERT_TRUE(server->start_apiserver(test::free_loopback_port())) << server->last_error();
  delete_pod(*server, ns, "deleted-while-down");
  set_pod_labels(*server, ns, "relabelled-while-down", {{"v", "2"}});
  create_pod(*server, ns, "created-while-down", {{"v", "new"}});
  set_pod_status(*server, ns, "stays", "Running", "10.0.0.9");
  for (int i = 0; i < 3; ++i) touch_configmap(*server, ns, "churn");
  const auto compacted = server->compact_etcd();
  ASSERT_GT(compacted, rv_number(old_rv)) << server->last_error();
  server->stop_apiserver();
  const int before = notified.count();
  ASSERT_TRUE(server->start_apiserver()) << server->last_error();

  ASSERT_TRUE(eventually([&] { return src->reflector().stats().relists_gone >= 1; }, 30s))
      << "no 410 relist; resourceVersion " << src->reflector().resource_version();
  EXPECT_TRUE(eventually(matches_list(*server, *src, ns), 10s));
  auto pods = pods_in(*src, ns);
  ASSERT_EQ(pods.size(), 3u);
  EXPECT_EQ(pods[0].name, "created-while-down");
  EXPECT_EQ(pods[1].labels.at("v"), "2");
  EXPECT_EQ(pods[2].phase, "Running");
  EXPECT_GT(notified.count(), before);
  EXPECT_GE(rv_number(src->reflector().resource_version()), compacted);

  // And the watch goes on after the relist.
  create_pod(*server, ns, "after", {});
  EXPECT_TRUE(eventually([&] { return pods_in(*src, ns).size() == 4; }, 10s));
  std::printf("[ figure   ] 410 relists: %llu, lists: %llu, watches: %llu\n",
              static_cast<unsigned long long>(src->reflector().stats().relists_gone),
              static_cast<unsigned long long>(src->reflector().stats().lists),
              static_cast<unsigned long long>(src->reflector().stats().watches));
}

TEST(KubePodSource, ApiServerRestartResumesTheWatch) {
  KUBE_TEST_SETUP(server, ns, "restart");
  create_pod(*server, ns, "one", {});
  auto src = source_for(*server, ns);
  src->start();
  ASSERT_TRUE(eventually(matches_list(*server, *src, ns), 10s));
  const auto watches = src->reflector().stats().watches;
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(server->restart_apiserver()) << server->last_error();
  const auto ready = std::chrono::steady_clock::now();
  create_pod(*server, ns, "two", {});
  ASSERT_TRUE(eventually([&] { return pods_in(*src, ns).size() == 2; }, 20s));
  const auto ms = [](auto d) {
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  };
  // A restarted server's watch cache starts at etcd's current revision, so a watch
  // from an older resourceVersion may get 410 and a relist: both are correct.
  std::printf("[ figure   ] restart took %lld ms; change seen %lld ms after ready (lists %llu, 410 relists %llu)\n",
              ms(ready - t0), ms(std::chrono::steady_clock::now() - ready),
              static_cast<unsigned long long>(src->reflector().stats().lists),
              static_cast<unsigned long long>(src->reflector().stats().relists_gone));
  EXPECT_GT(src->reflector().stats().watches, watches);
  EXPECT_GE(src->reflector().stats().failures, 1u) << "the drop went unnoticed";
  EXPECT_TRUE(eventually(matches_list(*server, *src, ns), 10s));
}

TEST(KubePodSource, AFrozenServerIsADeadStreamAndIsReconnected) {
  KUBE_TEST_SETUP(server, ns, "frozen");
  KubePodSourceOptions o;
  o.reflector = fast_reflector();
  o.reflector.dead_stream_timeout = 3s;
  auto src = source_for(*server, ns, o);
  src->start();
  ASSERT_TRUE(eventually([&] { return src->synced(); }, 10s));
  server->pause_apiserver();
  const bool noticed = eventually([&] { return src->reflector().stats().dead_streams >= 1; }, 15s);
  server->resume_apiserver();
  ASSERT_TRUE(noticed) << "a silent stream was not given up";
  create_pod(*server, ns, "after-thaw", {});
  EXPECT_TRUE(eventually([&] { return pods_in(*src, ns).size() == 1; }, 20s));
}

TEST(KubePodSource, StopReturnsPromptlyDuringAWatch) {
  KUBE_TEST_SETUP(server, ns, "stop");
  auto src = source_for(*server, ns);
  src->start();
  ASSERT_TRUE(eventually([&] { return src->synced() && src->reflector().stats().watches >= 1; }, 10s));
  std::this_thread::sleep_for(200ms);  // let the watch settle into waiting for data
  const auto t0 = std::chrono::steady_clock::now();
  src->stop();
  const auto took = std::chrono::steady_clock::now() - t0;
  std::printf("[ figure   ] stop() during a watch: %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  EXPECT_LT(took, 1500ms);
}

TEST(KubePodSource, StopReturnsPromptlyWhileTheServerIsFrozen) {
  KUBE_TEST_SETUP(server, ns, "stopfrozen");
  auto src = source_for(*server, ns);
  src->start();
  ASSERT_TRUE(eventually([&] { return src->synced(); }, 10s));
  server->pause_apiserver();
  const auto t0 = std::chrono::steady_clock::now();
  src->stop();
  const auto took = std::chrono::steady_clock::now() - t0;
  server->resume_apiserver();
  EXPECT_LT(took, 1500ms);
}

TEST(KubeClient, ClientCertificateFromAKubeconfig) {
  KUBE_TEST_SETUP(server, ns, "mtls");
  const auto cert = test::issue_client_certificate(test::test_pki().ca, "gthulhu-coordinator-test");
  ASSERT_TRUE(server->grant_cluster_admin("gthulhu-coordinator-test")) << server->last_error();
  test::TempDir dir;
  dir.write("ca.crt", server->ca_pem());
  dir.write("client.crt", cert.cert_pem);
  dir.write("client.key", cert.key_pem);
  const auto kc = dir.write("kubeconfig",
                            "current-context: c\n"
                            "clusters: [{name: k, cluster: {server: '" + server->server_url() +
                                "', certificate-authority: ca.crt}}]\n"
                                "users: [{name: u, user: {client-certificate: client.crt, client-key: client.key}}]\n"
                                "contexts: [{name: c, context: {cluster: k, user: u}}]\n");
  coordinator::kube::KubeClient client(coordinator::kube::load_kubeconfig(kc, ""), client_options());
  auto r = client.get("/api/v1/namespaces/" + ns);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.body["metadata"]["name"], ns);

  // Without any credential the server answers 403 with a Status we can read.
  auto anonymous = coordinator::kube::load_kubeconfig(kc, "");
  anonymous.client_cert_pem.clear();
  anonymous.client_key_pem.clear();
  coordinator::kube::KubeClient anon(anonymous, client_options());
  auto denied = anon.get("/api/v1/namespaces/" + ns + "/pods");
  EXPECT_FALSE(denied.ok);
  EXPECT_TRUE(denied.status == 401 || denied.status == 403) << denied.status;
  EXPECT_NE(denied.error.find("HTTP 40"), std::string::npos) << denied.error;
  EXPECT_FALSE(denied.reason.empty()) << denied.error;
}
