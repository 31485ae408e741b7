#pragma once
// What `kubectl apply --server-side --dry-run=server` does, against a real API server:
// find the object's resource through discovery (as kubectl's REST mapper does), then
// PATCH it with Content-Type application/apply-patch+yaml and
// ?dryRun=All&fieldValidation=Strict&fieldManager=...&force=true. The server runs its
// full validation and admission and stores nothing; unknown fields are errors.
#include <map>
#include <optional>
#include <string>

#include "tests/chart/rendered_chart.h"
#include "tests/support/kube_apiserver.h"

namespace gthulhu::test::chart {

struct DryRunResult {
  enum class Outcome { kAccepted, kRefused, kNoSuchKind, kTransportError } outcome;
  int status = 0;           // HTTP status when the server answered
  std::string message;      // the server's Status message, or why the kind is unknown
};

class ServerDryRun {
 public:
  explicit ServerDryRun(KubeApiServer& server) : server_(server) {}
  DryRunResult apply(const RenderedObject& object);

 private:
  struct Resource {
    std::string plural;
    bool namespaced = false;
  };
  // nullopt: the group/version or the kind is not served (e.g. a CRD not installed),
  // with `why` set.
  std::optional<Resource> resolve(const std::string& api_version, const std::string& kind,
                                  std::string& why);

  KubeApiServer& server_;
  std::map<std::string, std::optional<nlohmann::json>> discovery_;  // by apiVersion
};

}  // namespace gthulhu::test::chart
