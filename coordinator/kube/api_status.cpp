#include "coordinator/kube/api_status.h"

namespace gthulhu::coordinator::kube {

std::optional<ApiStatus> parse_status(const nlohmann::json& value) {
  if (!value.is_object() || value.value("kind", "") != "Status") return std::nullopt;
  ApiStatus s;
  if (auto it = value.find("code"); it != value.end() && it->is_number_integer()) {
    s.code = it->get<long>();
  }
  if (auto it = value.find("reason"); it != value.end() && it->is_string()) s.reason = *it;
  if (auto it = value.find("message"); it != value.end() && it->is_string()) s.message = *it;
  return s;
}

std::string describe_failure(long http_status, const std::string& body) {
  std::string out = "HTTP " + std::to_string(http_status);
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (auto s = parse_status(doc)) {
    if (!s->reason.empty()) out += " (" + s->reason + ")";
    if (!s->message.empty()) out += ": " + s->message;
    return out;
  }
  if (!body.empty()) out += ": " + body.substr(0, 200);
  return out;
}

bool is_gone(const ApiStatus& status) {
  return status.code == 410 || status.reason == "Expired" || status.reason == "Gone";
}

}  // namespace gthulhu::coordinator::kube
