#include "tests/chart/server_dry_run.h"

namespace gthulhu::test::chart {

std::optional<ServerDryRun::Resource> ServerDryRun::resolve(const std::string& api_version,
                                                            const std::string& kind,
                                                            std::string& why) {
  auto it = discovery_.find(api_version);
  if (it == discovery_.end()) {
    const std::string path = api_version.find('/') == std::string::npos ? "/api/" + api_version
                                                                        : "/apis/" + api_version;
    auto r = server_.request("GET", path);
    std::optional<nlohmann::json> list;
    if (r.ok && r.response.status == 200) {
      list = nlohmann::json::parse(r.response.body, nullptr, false);
      if (list->is_discarded()) list.reset();
    }
    it = discovery_.emplace(api_version, list).first;
  }
  if (!it->second) {
    why = api_version + " is not served by this API server (its CRD is not installed)";
    return std::nullopt;
  }
  for (const auto& res : it->second->value("resources", nlohmann::json::array())) {
    const std::string name = res.value("name", "");
    if (res.value("kind", "") == kind && name.find('/') == std::string::npos) {
      return Resource{name, res.value("namespaced", false)};
    }
  }
  why = "kind " + kind + " is not served in " + api_version;
  return std::nullopt;
}

DryRunResult ServerDryRun::apply(const RenderedObject& o) {
  std::string why;
  auto res = resolve(o.api_version, o.kind, why);
  if (!res) return {DryRunResult::Outcome::kNoSuchKind, 0, why};
  std::string path = o.api_version.find('/') == std::string::npos ? "/api/" + o.api_version
                                                                  : "/apis/" + o.api_version;
  if (res->namespaced) path += "/namespaces/" + (o.ns.empty() ? std::string("default") : o.ns);
  path += "/" + res->plural + "/" + o.name +
          "?dryRun=All&fieldValidation=Strict&fieldManager=gthulhu-chart-test&force=true";
  auto r = server_.request("PATCH", path, o.text, "application/apply-patch+yaml");
  if (!r.ok) return {DryRunResult::Outcome::kTransportError, 0, r.error};
  std::string message;
  auto body = nlohmann::json::parse(r.response.body, nullptr, false);
  if (!body.is_discarded() && body.value("kind", "") == "Status") message = body.value("message", "");
  if (message.empty() && (r.response.status < 200 || r.response.status >= 300)) {
    message = r.response.body.substr(0, 1000);
  }
  const bool ok = r.response.status == 200 || r.response.status == 201;
  return {ok ? DryRunResult::Outcome::kAccepted : DryRunResult::Outcome::kRefused,
          static_cast<int>(r.response.status), message};
}

}  // namespace gthulhu::test::chart
