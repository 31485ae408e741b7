#pragma once
// THE wire contract between coordinator and agent, part 3: what the agent answers.
//   POST /api/v1/intents  -> {"generation","replayed"?,"results":[result...]}
//   GET  /api/v1/intents/results?after=V&waitSeconds=S
//                         -> {"resultsVersion","generation","results":[result...]}
//       (a long poll: answers as soon as the results differ from version V, or after
//        S seconds with the same version)
//   result = {"id","podID","state":"applied"|"waiting"|"invalid","reason"?,
//             "matchedProcesses","policyId"?}
// Wrapped in the agent's {"success","data","timestamp"} envelope.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace gthulhu::wire {

enum class ResultState { kApplied, kWaiting, kInvalid };
const char* to_string(ResultState s);
std::optional<ResultState> result_state_from(const std::string& s);

struct IntentResult {
  std::string id;
  std::string pod_uid;
  ResultState state = ResultState::kWaiting;
  std::string reason;
  size_t matched_processes = 0;
  uint32_t policy_id = 0;
  bool operator==(const IntentResult&) const = default;
};

nlohmann::json result_to_json(const IntentResult& r);
nlohmann::json results_to_json(const std::vector<IntentResult>& results);
// nullopt with *error naming the entry and field when malformed.
std::optional<std::vector<IntentResult>> results_from_json(const nlohmann::json& list,
                                                           std::string* error);

struct ApplyResponse {
  uint64_t generation = 0;
  bool replayed = false;
  std::vector<IntentResult> results;
};
std::optional<ApplyResponse> apply_response_from_json(const nlohmann::json& data, std::string* error);

struct ResultsReport {
  uint64_t results_version = 0;
  uint64_t generation = 0;
  std::vector<IntentResult> results;
};
nlohmann::json results_report_json(const ResultsReport& report);
std::optional<ResultsReport> results_report_from_json(const nlohmann::json& data, std::string* error);

}  // namespace gthulhu::wire
