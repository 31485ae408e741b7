// The Helm chart (charts/gthulhu) checked as CI checks it: `helm lint`, `helm template`
// with the default values and with ci/options-values.yaml, strict schema validation for
// Kubernetes 1.36 (kubernetes-validate --strict), a server-side dry run of every object
// against a real kube-apiserver 1.36, the ConfigMaps' keys against the programs' own
// configuration tables, and a deliberately broken value that both checks must refuse.
//
// Tools: helm and kubernetes-validate from the cache (scripts/helm.sh,
// scripts/kubernetes-validate.sh; $GTHULHU_HELM and $GTHULHU_KUBERNETES_VALIDATE
// override), etcd + kube-apiserver as tests/kube uses them. A missing tool skips the
// tests that need it, with the reason.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "tests/chart/command.h"
#include "tests/chart/rendered_chart.h"
#include "tests/chart/server_dry_run.h"
#include "tests/support/kube_apiserver.h"

namespace gthulhu::test::chart {
namespace {

namespace fs = std::filesystem;

const std::string kRelease = "gthulhu";
const std::string kNamespace = "gthulhu-system";
const std::string kKubeVersion = "1.36.0";  // what the chart claims and CI checks
// Kinds the chart renders whose CRDs (Prometheus Operator, cert-manager) are not part
// of Kubernetes: neither the schemas nor the test API server know them.
const std::set<std::string> kCrdKinds = {"monitoring.coreos.com/v1 ServiceMonitor",
                                         "cert-manager.io/v1 Certificate", "cert-manager.io/v1 Issuer"};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

fs::path cache_dir() {
  if (auto v = env("GTHULHU_CACHE"); !v.empty()) return v;
  if (auto x = env("XDG_CACHE_HOME"); !x.empty()) return fs::path(x) / "gthulhu";
  return fs::path(env("HOME")) / ".cache" / "gthulhu";
}

fs::path helm() {
  auto v = env("GTHULHU_HELM");
  return v.empty() ? cache_dir() / "bin" / "helm" : fs::path(v);
}

fs::path validator() {
  auto v = env("GTHULHU_KUBERNETES_VALIDATE");
  return v.empty() ? cache_dir() / "kubernetes-validate-venv" / "bin" / "kubernetes-validate" : fs::path(v);
}

std::string missing(const fs::path& tool, const std::string& script) {
  if (access(tool.c_str(), X_OK) == 0) return {};
  return tool.string() + " is not installed (scripts/" + script + " installs it; scripts/deps.sh runs it)";
}

#define REQUIRE_TOOL(tool, script)                          \
  do {                                                      \
    const std::string why_ = missing(tool, script);         \
    if (!why_.empty()) GTEST_SKIP() << why_;                \
  } while (0)

const fs::path kChart = GTHULHU_CHART_DIR;
const fs::path kOptionsValues = kChart / "ci" / "options-values.yaml";
const fs::path kBrokenValues = fs::path(GTHULHU_CHART_TEST_DIR) / "broken-values.yaml";

CommandResult helm_template(const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {helm().string(), "template", kRelease, kChart.string(),
                                   "--namespace", kNamespace, "--kube-version", kKubeVersion};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return run_command(argv);
}

// One rendering per values file ("" = defaults), made once and kept for every test.
struct Rendering {
  CommandResult result;
  fs::path file;  // the rendered YAML, for the validator
  std::vector<RenderedObject> objects;
};

const Rendering& rendering(const fs::path& values) {
  static std::map<fs::path, std::unique_ptr<Rendering>> cache;
  static TempDir dir;
  auto& slot = cache[values];
  if (!slot) {
    slot = std::make_unique<Rendering>();
    slot->result = helm_template(values.empty() ? std::vector<std::string>{}
                                                : std::vector<std::string>{"-f", values.string()});
    slot->file = dir.write("rendered-" + std::to_string(cache.size()) + ".yaml", slot->result.stdout_only);
    if (slot->result.exit_code == 0) slot->objects = split_rendering(slot->result.stdout_only);
  }
  return *slot;
}

#define RENDER(var, values)                                                            \
  const Rendering& var = rendering(values);                                            \
  ASSERT_EQ(var.result.exit_code, 0) << "helm template failed:\n" << var.result.output; \
  ASSERT_FALSE(var.objects.empty())

std::string api_kind(const RenderedObject& o) { return o.api_version + " " + o.kind; }

// --- helm lint and the chart's own checks -------------------------------------------

TEST(Chart, HelmLintPassesWithDefaultsAndWithOptions) {
  REQUIRE_TOOL(helm(), "helm.sh");
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{}, std::vector<std::string>{"-f", kOptionsValues.string()}}) {
    std::vector<std::string> argv = {helm().string(), "lint", kChart.string(), "--strict",
                                     "--kube-version", kKubeVersion, "--namespace", kNamespace};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = run_command(argv);
    std::cout << r.output;
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("0 chart(s) failed"), std::string::npos) << r.output;
  }
}

TEST(Chart, RefusesValuesItCannotHonourWithAMessageNamingTheValue) {
  REQUIRE_TOOL(helm(), "helm.sh");
  auto bad_mode = helm_template({"--set", "tls.mode=plain"});
  EXPECT_NE(bad_mode.exit_code, 0);
  EXPECT_NE(bad_mode.output.find("at '/tls/mode': value must be one of"), std::string::npos) << bad_mode.output;
  auto no_names = helm_template({"--set", "tls.mode=cert-manager"});
  EXPECT_NE(no_names.exit_code, 0);
  EXPECT_NE(no_names.output.find("tls.certManager.agentDnsNames"), std::string::npos) << no_names.output;
  // values.schema.json: a misspelt value is refused, not silently ignored.
  auto typo = helm_template({"--set", "coordinator.replica=3"});
  EXPECT_NE(typo.exit_code, 0);
  EXPECT_NE(typo.output.find("additional properties 'replica' not allowed"), std::string::npos) << typo.output;
  auto no_store = helm_template({"--set", "mongodb.enabled=false"});
  EXPECT_NE(no_store.exit_code, 0);
  EXPECT_NE(no_store.output.find("mongodb.external.uri"), std::string::npos) << no_store.output;
  auto same_port = helm_template({"--set", "agent.probe.port=8080"});
  EXPECT_NE(same_port.exit_code, 0);
  EXPECT_NE(same_port.output.find("agent.probe.port must differ from agent.port"), std::string::npos)
      << same_port.output;
}

// --- what the defaults deploy --------------------------------------------------------

TEST(Chart, DefaultRenderingHasTheLeastPrivilegeObjects) {
  REQUIRE_TOOL(helm(), "helm.sh");
  RENDER(r, "");
  std::set<std::string> ids;
  for (const auto& o : r.objects) ids.insert(o.id());
  for (const char* want : {"ServiceAccount/gthulhu-coordinator", "ClusterRole/gthulhu-coordinator",
                           "ClusterRoleBinding/gthulhu-coordinator", "Role/gthulhu-coordinator",
                           "RoleBinding/gthulhu-coordinator", "Deployment/gthulhu-coordinator",
                           "Service/gthulhu-coordinator", "ConfigMap/gthulhu-coordinator",
                           "Secret/gthulhu-coordinator-auth", "StatefulSet/gthulhu-mongodb",
                           "Service/gthulhu-mongodb", "Secret/gthulhu-mongodb",
                           "DaemonSet/gthulhu-agent", "ConfigMap/gthulhu-agent"}) {
    EXPECT_TRUE(ids.count(want)) << "missing " << want;
  }
  EXPECT_FALSE(ids.count("ServiceMonitor/gthulhu-coordinator")) << "the ServiceMonitor is opt-in";

  // The ClusterRole grants pods get/list/watch and nothing else.
  const auto* cr = find_object(r.objects, "ClusterRole", "gthulhu-coordinator");
  ASSERT_NE(cr, nullptr);
  EXPECT_EQ(cr->tree["rules"], nlohmann::json::parse(
      R"([{"apiGroups":[""],"resources":["pods"],"verbs":["get","list","watch"]}])"));
  // The Role: create leases, get/update only this release's Lease.
  const auto* role = find_object(r.objects, "Role", "gthulhu-coordinator");
  ASSERT_NE(role, nullptr);
  EXPECT_EQ(role->tree["rules"], nlohmann::json::parse(
      R"([{"apiGroups":["coordination.k8s.io"],"resources":["leases"],"verbs":["create"]},
          {"apiGroups":["coordination.k8s.io"],"resources":["leases"],
           "resourceNames":["gthulhu-coordinator"],"verbs":["get","update"]}])"));

  // The agent: host PID, bpffs + cgroup2, three capabilities, not privileged, read-only
  // root, a sched_ext node selector.
  const auto* ds = find_object(r.objects, "DaemonSet", "gthulhu-agent");
  ASSERT_NE(ds, nullptr);
  const auto& pod = ds->tree["spec"]["template"]["spec"];
  EXPECT_EQ(pod["hostPID"], "true");
  EXPECT_FALSE(pod.contains("hostNetwork"));
  EXPECT_EQ(pod["nodeSelector"]["gthulhu.io/sched-ext"], "true");
  const auto& sc = pod["containers"][0]["securityContext"];
  EXPECT_EQ(sc["privileged"], "false");
  EXPECT_EQ(sc["readOnlyRootFilesystem"], "true");
  EXPECT_EQ(sc["capabilities"]["add"], nlohmann::json::parse(R"(["BPF","PERFMON","SYS_ADMIN"])"));
  EXPECT_EQ(sc["capabilities"]["drop"], nlohmann::json::parse(R"(["ALL"])"));
  std::set<std::string> host_paths;
  for (const auto& v : pod["volumes"]) {
    if (v.contains("hostPath")) host_paths.insert(v["hostPath"]["path"].get<std::string>());
  }
  EXPECT_EQ(host_paths, (std::set<std::string>{"/sys/fs/bpf", "/sys/fs/cgroup", "/var/lib/gthulhu"}));

  // Every container of ours has requests and limits; the coordinator is probed on /health.
  for (const auto& o : r.objects) {
    if (o.kind != "Deployment" && o.kind != "DaemonSet" && o.kind != "StatefulSet") continue;
    for (const auto& c : o.tree["spec"]["template"]["spec"]["containers"]) {
      EXPECT_TRUE(c["resources"].contains("requests") && c["resources"].contains("limits")) << o.id();
      EXPECT_EQ(c["securityContext"]["readOnlyRootFilesystem"], "true") << o.id();
    }
  }
  const auto* dep = find_object(r.objects, "Deployment", "gthulhu-coordinator");
  ASSERT_NE(dep, nullptr);
  EXPECT_EQ(dep->tree["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"], "/health");
  EXPECT_FALSE(ids.count("Service/gthulhu-agent-metrics")) << "the agents' metrics Service is for the ServiceMonitor";
}

// The kubelet probes the agents over plain HTTP on the probe listener ([probe] listen),
// which serves /health and /metrics only; the mTLS port stays the API's alone.
TEST(Chart, AgentProbesUseTheProbeListener) {
  REQUIRE_TOOL(helm(), "helm.sh");
  RENDER(r, "");
  const auto* ds = find_object(r.objects, "DaemonSet", "gthulhu-agent");
  ASSERT_NE(ds, nullptr);
  const auto& c = ds->tree["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["ports"], nlohmann::json::parse(
      R"([{"name":"https","containerPort":"8080","protocol":"TCP"},
          {"name":"probe","containerPort":"8082","protocol":"TCP"}])"));
  for (const char* probe : {"readinessProbe", "livenessProbe"}) {
    EXPECT_EQ(c[probe]["httpGet"], nlohmann::json::parse(R"({"path":"/health","port":"probe"})")) << probe;
  }
  const auto* cm = find_object(r.objects, "ConfigMap", "gthulhu-agent");
  ASSERT_NE(cm, nullptr);
  const std::string ini = cm->tree["data"]["agent.ini"];
  EXPECT_NE(ini.find("[probe]\nlisten = :8082\n"), std::string::npos) << ini;

  // Turned off: TCP checks of the mTLS port, and no probe listener.
  auto off = helm_template({"--set", "agent.probe.enabled=false"});
  ASSERT_EQ(off.exit_code, 0) << off.output;
  const auto objects = split_rendering(off.stdout_only);
  const auto* off_ds = find_object(objects, "DaemonSet", "gthulhu-agent");
  ASSERT_NE(off_ds, nullptr);
  const auto& oc = off_ds->tree["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(oc["readinessProbe"]["tcpSocket"]["port"], "https");
  EXPECT_EQ(oc["livenessProbe"]["tcpSocket"]["port"], "https");
  EXPECT_EQ(oc["ports"].size(), 1u);
  const auto* off_cm = find_object(objects, "ConfigMap", "gthulhu-agent");
  ASSERT_NE(off_cm, nullptr);
  EXPECT_FALSE(ini_keys(off_cm->tree["data"]["agent.ini"].get<std::string>()).count("probe.listen"));
}

// With the ServiceMonitor on, Prometheus scrapes the agents' probe port through a
// headless Service that carries that port only.
TEST(Chart, ServiceMonitorScrapesTheAgentsProbePort) {
  REQUIRE_TOOL(helm(), "helm.sh");
  RENDER(r, kOptionsValues);
  const auto* svc = find_object(r.objects, "Service", "gthulhu-agent-metrics");
  ASSERT_NE(svc, nullptr);
  EXPECT_EQ(svc->tree["spec"]["clusterIP"], "None");
  EXPECT_EQ(svc->tree["spec"]["ports"], nlohmann::json::parse(
      R"([{"name":"probe","port":"8082","targetPort":"probe","protocol":"TCP"}])"));
  EXPECT_EQ(svc->tree["spec"]["selector"]["app.kubernetes.io/name"], "gthulhu-agent");
  const auto* sm = find_object(r.objects, "ServiceMonitor", "gthulhu-agent");
  ASSERT_NE(sm, nullptr);
  EXPECT_EQ(sm->tree["spec"]["endpoints"][0]["port"], "probe");
  EXPECT_EQ(sm->tree["spec"]["endpoints"][0]["path"], "/metrics");
  EXPECT_EQ(sm->tree["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"], "gthulhu-agent");
  EXPECT_NE(find_object(r.objects, "ServiceMonitor", "gthulhu-coordinator"), nullptr);
}

// --- the programs accept the configuration the chart writes ---------------------------

void expect_known_keys(const Rendering& r, const std::string& configmap, const std::string& file,
                       const std::string& binary) {
  const auto* cm = find_object(r.objects, "ConfigMap", configmap);
  ASSERT_NE(cm, nullptr) << configmap;
  const auto keys = ini_keys(cm->tree["data"][file].get<std::string>());
  ASSERT_FALSE(keys.empty());
  auto help = run_command({binary, "--help-config"});
  ASSERT_EQ(help.exit_code, 0) << help.output;
  const ConfigTable table = parse_help_config(help.stdout_only);
  ASSERT_GT(table.keys.size(), 10u) << help.output;
  for (const auto& k : keys) EXPECT_TRUE(table.keys.count(k)) << file << " sets " << k << ", which " << binary << " does not know";
}

TEST(Chart, ConfigMapsAndEnvironmentUseOnlyKeysTheProgramsKnow) {
  REQUIRE_TOOL(helm(), "helm.sh");
  for (const fs::path& values : {fs::path(), kOptionsValues}) {
    SCOPED_TRACE(values.empty() ? "defaults" : values.string());
    RENDER(r, values);
    expect_known_keys(r, "gthulhu-coordinator", "coordinator.ini", GTHULHU_COORDINATOR_BIN);
    expect_known_keys(r, "gthulhu-agent", "agent.ini", GTHULHU_AGENT_BIN);
    auto coord = parse_help_config(run_command({GTHULHU_COORDINATOR_BIN, "--help-config"}).stdout_only);
    auto agent = parse_help_config(run_command({GTHULHU_AGENT_BIN, "--help-config"}).stdout_only);
    for (const auto& o : r.objects) {
      if (o.kind != "Deployment" && o.kind != "DaemonSet") continue;
      const auto& table = o.kind == "Deployment" ? coord : agent;
      for (const auto& name : container_env_names({o})) {
        EXPECT_TRUE(table.env.count(name)) << o.id() << " sets " << name << ", which the program does not read";
      }
    }
  }
}

// --- strict schema validation (kubernetes-validate) -----------------------------------

// Runs the validator on a rendering; returns its output.
CommandResult validate(const Rendering& r) {
  return run_command({validator().string(), "--strict", "-k", kKubeVersion, r.file.string()});
}

TEST(Chart, RenderingsPassStrictSchemaValidation) {
  REQUIRE_TOOL(helm(), "helm.sh");
  REQUIRE_TOOL(validator(), "kubernetes-validate.sh");
  for (const fs::path& values : {fs::path(), kOptionsValues}) {
    SCOPED_TRACE(values.empty() ? "defaults" : values.string());
    RENDER(r, values);
    auto v = validate(r);
    std::cout << v.output;
    EXPECT_EQ(v.exit_code, 0) << v.output;
    EXPECT_EQ(v.output.find("ERROR"), std::string::npos) << v.output;
    // Every object of a Kubernetes kind was validated; only the CRD kinds have no schema.
    size_t builtin = 0;
    for (const auto& o : r.objects) {
      if (kCrdKinds.count(api_kind(o))) {
        EXPECT_NE(v.output.find("Couldn't find schema for kind " + o.kind), std::string::npos) << o.id();
      } else {
        ++builtin;
      }
    }
    size_t passed = 0;
    for (size_t at = 0; (at = v.output.find("passed for resource", at)) != std::string::npos; ++at) ++passed;
    EXPECT_EQ(passed, builtin) << v.output;
  }
}

TEST(Chart, BrokenValueFailsStrictSchemaValidation) {
  REQUIRE_TOOL(helm(), "helm.sh");
  REQUIRE_TOOL(validator(), "kubernetes-validate.sh");
  RENDER(r, kBrokenValues);
  auto v = validate(r);
  std::cout << v.output;
  EXPECT_NE(v.exit_code, 0) << v.output;
  EXPECT_NE(v.output.find("'readOnlyRootFileSystem' was unexpected"), std::string::npos) << v.output;
}

// --- server-side dry run against a real kube-apiserver --------------------------------

KubeApiServer* shared_server(std::string& why) {
  static std::unique_ptr<KubeApiServer> server;
  static std::string failure;
  if (!server && failure.empty()) {
    failure = KubeApiServer::unavailable_reason();
    if (failure.empty()) {
      server = std::make_unique<KubeApiServer>();
      if (!server->start()) {
        failure = "the API server did not start: " + server->last_error();
        server.reset();
      } else {
        // `helm install --create-namespace` makes the release namespace; the options
        // values watch pods in "web".
        for (const std::string& ns : {kNamespace, std::string("web")}) {
          if (!server->create_namespace(ns)) failure = server->last_error();
        }
      }
    }
  }
  why = failure;
  return failure.empty() ? server.get() : nullptr;
}

#define REQUIRE_SERVER(var)                                \
  std::string server_why_;                                 \
  KubeApiServer* var = shared_server(server_why_);         \
  if (var == nullptr) GTEST_SKIP() << server_why_

TEST(Chart, EveryObjectPassesTheServerSideDryRun) {
  REQUIRE_TOOL(helm(), "helm.sh");
  REQUIRE_SERVER(server);
  for (const fs::path& values : {fs::path(), kOptionsValues}) {
    SCOPED_TRACE(values.empty() ? "defaults" : values.string());
    RENDER(r, values);
    ServerDryRun dry(*server);
    for (const auto& o : r.objects) {
      auto res = dry.apply(o);
      if (res.outcome == DryRunResult::Outcome::kNoSuchKind) {
        EXPECT_TRUE(kCrdKinds.count(api_kind(o))) << o.id() << ": " << res.message;
        std::cout << "dry-run skipped " << api_kind(o) << " " << o.name << ": " << res.message << "\n";
        continue;
      }
      EXPECT_EQ(res.outcome, DryRunResult::Outcome::kAccepted)
          << o.id() << ": HTTP " << res.status << " " << res.message;
      std::cout << "dry-run " << (res.outcome == DryRunResult::Outcome::kAccepted ? "accepted" : "REFUSED")
                << " (HTTP " << res.status << ") " << api_kind(o) << " " << o.name << "\n";
    }
  }
  // A dry run stores nothing.
  auto r = server->request("GET", "/apis/apps/v1/namespaces/" + kNamespace + "/deployments/gthulhu-coordinator");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.response.status, 404) << r.response.body;
}

TEST(Chart, BrokenValueFailsTheServerSideDryRun) {
  REQUIRE_TOOL(helm(), "helm.sh");
  REQUIRE_SERVER(server);
  RENDER(r, kBrokenValues);
  const auto* dep = find_object(r.objects, "Deployment", "gthulhu-coordinator");
  ASSERT_NE(dep, nullptr);
  ServerDryRun dry(*server);
  auto res = dry.apply(*dep);
  std::cout << "dry-run of the broken Deployment: HTTP " << res.status << " " << res.message << "\n";
  EXPECT_EQ(res.outcome, DryRunResult::Outcome::kRefused);
  // kube-apiserver 1.36 answers a server-side apply whose object does not fit the schema
  // with 500 "failed to create typed patch object ...: field not declared in schema"
  // (what kubectl prints too); the point is the refusal naming the field.
  EXPECT_GE(res.status, 400) << res.status;
  EXPECT_NE(res.message.find("securityContext.readOnlyRootFileSystem: field not declared in schema"),
            std::string::npos) << res.message;
  // The rest of that rendering is still fine: only the broken object is refused.
  const auto* svc = find_object(r.objects, "Service", "gthulhu-coordinator");
  ASSERT_NE(svc, nullptr);
  EXPECT_EQ(dry.apply(*svc).outcome, DryRunResult::Outcome::kAccepted);
}

}  // namespace
}  // namespace gthulhu::test::chart
