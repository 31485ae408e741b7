#pragma once
// The agent's desired state: the set of intents for this node and its generation.
//   full list (upstream POST /api/v1/intents {"intents":[...]}): replaces the set;
//     an optional "generation" sets the new generation, else it is current + 1. A
//     generation below the current one is refused as stale (409 with the current one),
//     so a deposed coordinator cannot roll the node back.
//   delta (our extension): {"baseGeneration":B,"generation":G,"upserts":[...],"removals":[ids]}
//     applies only when B equals the current generation (else 409 with the current one);
//     a delta whose generation equals the current one and whose base is the generation
//     it was applied on is a replay and changes nothing (idempotent retries).
// Persisted atomically (write temp, fsync, rename, fsync dir) after every change, and
// restored on start, so a restarted agent resumes without the coordinator.
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/wire/intent.h"
#include "common/wire/intent_request.h"

namespace gthulhu::agent {

using wire::Intent;
using wire::intent_from_json;
using wire::intent_to_json;

struct StoredIntent {
  nlohmann::json raw;            // as received, for persistence and listing
  std::optional<Intent> intent;  // absent when invalid
  std::string error;             // why invalid
};

struct IntentSnapshot {
  uint64_t generation = 0;
  std::map<std::string, StoredIntent> intents;  // by id
};

enum class ApplyOutcome { kApplied, kReplay, kGenerationMismatch, kBadRequest };

struct ApplyResult {
  ApplyOutcome outcome = ApplyOutcome::kApplied;
  uint64_t generation = 0;  // current generation after the call
  std::string error;
};

class IntentStore {
 public:
  // `state_file` empty: memory only (tests). Load errors throw std::runtime_error with
  // the file name and what is wrong; a missing file is an empty store.
  explicit IntentStore(std::filesystem::path state_file = {});

  ApplyResult apply(const nlohmann::json& body);
  ApplyResult clear();
  // Removes every intent of one pod (upstream DELETE {"podId"}); bumps the generation.
  ApplyResult remove_pod(const std::string& pod_uid);

  IntentSnapshot snapshot() const;
  uint64_t generation() const;

 private:
  ApplyResult apply_full(const wire::IntentRequest& request);
  ApplyResult apply_delta(const wire::IntentRequest& request);
  static StoredIntent parse_entry(const nlohmann::json& raw, std::string* id);
  void persist_locked() const;
  void load();

  std::filesystem::path state_file_;
  mutable std::mutex mu_;
  IntentSnapshot state_;
  uint64_t last_delta_base_ = 0;  // base of the last applied delta, for replay detection
};

// Writes `contents` to `path` atomically and durably; throws std::runtime_error.
void write_file_atomically(const std::filesystem::path& path, const std::string& contents);

}  // namespace gthulhu::agent
