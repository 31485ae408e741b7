#pragma once
// THE wire contract between coordinator and agent, part 2: the body of
// POST /api/v1/intents.
//   full list (upstream): {"generation"?: G, "intents": [intent...]}
//       replaces the agent's set; without "generation" the agent uses current + 1.
//   delta (ours):         {"baseGeneration": B, "generation": G,
//                          "upserts": [intent...], "removals": ["intent id"...]}
//       applies only on top of generation B (else 409 {"currentGeneration"}).
// Entries stay raw JSON here: the agent keeps invalid ones to report them back.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/wire/intent.h"

namespace gthulhu::wire {

struct IntentRequest {
  enum class Kind { kFull, kDelta };
  Kind kind = Kind::kFull;
  std::optional<uint64_t> generation;  // required for a delta
  uint64_t base_generation = 0;        // delta only
  std::vector<nlohmann::json> entries; // intents (full) or upserts (delta), as sent
  std::vector<std::string> removals;   // delta only
};

// Decodes the envelope; nullopt with *error naming the field when it is malformed.
std::optional<IntentRequest> parse_intent_request(const nlohmann::json& body, std::string* error);

// Encoders used by the coordinator.
nlohmann::json full_request_json(uint64_t generation, const std::vector<Intent>& intents);
nlohmann::json delta_request_json(uint64_t base_generation, uint64_t generation,
                                  const std::vector<Intent>& upserts,
                                  const std::vector<std::string>& removals);

}  // namespace gthulhu::wire
