#include "common/wire/intent_result.h"

namespace gthulhu::wire {

using nlohmann::json;

const char* to_string(ResultState s) {
  switch (s) {
    case ResultState::kApplied: return "applied";
    case ResultState::kWaiting: return "waiting";
    case ResultState::kInvalid: return "invalid";
  }
  return "?";
}

std::optional<ResultState> result_state_from(const std::string& s) {
  if (s == "applied") return ResultState::kApplied;
  if (s == "waiting") return ResultState::kWaiting;
  if (s == "invalid") return ResultState::kInvalid;
  return std::nullopt;
}

json result_to_json(const IntentResult& r) {
  json j = {{"id", r.id},
            {"podID", r.pod_uid},
            {"state", to_string(r.state)},
            {"matchedProcesses", r.matched_processes}};
  if (!r.reason.empty()) j["reason"] = r.reason;
  if (r.policy_id != 0) j["policyId"] = r.policy_id;
  return j;
}

json results_to_json(const std::vector<IntentResult>& results) {
  json list = json::array();
  for (const auto& r : results) list.push_back(result_to_json(r));
  return list;
}

namespace {

std::optional<uint64_t> unsigned_field(const json& j, const char* key, std::string* error) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) {
    *error = std::string(key) + " must be a non-negative integer";
    return std::nullopt;
  }
  return it->get<uint64_t>();
}

std::optional<IntentResult> result_from_json(const json& j, std::string* error) {
  if (!j.is_object()) {
    *error = "must be an object";
    return std::nullopt;
  }
  IntentResult r;
  auto id = j.find("id");
  auto state = j.find("state");
  if (id == j.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
    *error = "id must be a non-empty string";
    return std::nullopt;
  }
  r.id = id->get<std::string>();
  if (state == j.end() || !state->is_string() || !result_state_from(state->get<std::string>())) {
    *error = "state must be applied, waiting or invalid";
    return std::nullopt;
  }
  r.state = *result_state_from(state->get<std::string>());
  if (auto p = j.find("podID"); p != j.end() && p->is_string()) r.pod_uid = p->get<std::string>();
  if (auto p = j.find("reason"); p != j.end() && p->is_string()) r.reason = p->get<std::string>();
  if (auto p = j.find("matchedProcesses"); p != j.end() && p->is_number_unsigned()) {
    r.matched_processes = p->get<size_t>();
  }
  if (auto p = j.find("policyId"); p != j.end() && p->is_number_unsigned()) {
    r.policy_id = p->get<uint32_t>();
  }
  return r;
}

}  // namespace

std::optional<std::vector<IntentResult>> results_from_json(const json& list, std::string* error) {
  if (!list.is_array()) {
    *error = "results must be an array";
    return std::nullopt;
  }
  std::vector<IntentResult> out;
  out.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    std::string why;
    auto r = result_from_json(list[i], &why);
    if (!r) {
      *error = "results[" + std::to_string(i) + "]." + why;
      return std::nullopt;
    }
    out.push_back(std::move(*r));
  }
  return out;
}

std::optional<ApplyResponse> apply_response_from_json(const json& data, std::string* error) {
  if (!data.is_object()) {
    *error = "data must be an object";
    return std::nullopt;
  }
  ApplyResponse out;
  auto gen = unsigned_field(data, "generation", error);
  if (!gen) return std::nullopt;
  out.generation = *gen;
  out.replayed = data.value("replayed", false);
  auto results = results_from_json(data.value("results", json::array()), error);
  if (!results) return std::nullopt;
  out.results = std::move(*results);
  return out;
}

json results_report_json(const ResultsReport& report) {
  return {{"resultsVersion", report.results_version},
          {"generation", report.generation},
          {"results", results_to_json(report.results)}};
}

std::optional<ResultsReport> results_report_from_json(const json& data, std::string* error) {
  if (!data.is_object()) {
    *error = "data must be an object";
    return std::nullopt;
  }
  ResultsReport out;
  auto version = unsigned_field(data, "resultsVersion", error);
  if (!version) return std::nullopt;
  auto gen = unsigned_field(data, "generation", error);
  if (!gen) return std::nullopt;
  out.results_version = *version;
  out.generation = *gen;
  auto results = results_from_json(data.value("results", json::array()), error);
  if (!results) return std::nullopt;
  out.results = std::move(*results);
  return out;
}

}  // namespace gthulhu::wire
