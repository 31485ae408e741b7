#include "common/wire/intent_request.h"

namespace gthulhu::wire {

using nlohmann::json;

namespace {

std::optional<uint64_t> read_generation(const json& body, const char* key, std::string* error) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0)) {
    *error = std::string(key) + " must be a non-negative integer";
    return std::nullopt;
  }
  return it->get<uint64_t>();
}

bool read_entries(const json& body, const char* key, std::vector<json>* out, std::string* error) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return true;
  if (!it->is_array()) {
    *error = std::string(key) + " must be an array";
    return false;
  }
  out->assign(it->begin(), it->end());
  return true;
}

std::optional<IntentRequest> parse_delta(const json& body, std::string* error) {
  IntentRequest r;
  r.kind = IntentRequest::Kind::kDelta;
  auto base = read_generation(body, "baseGeneration", error);
  r.generation = read_generation(body, "generation", error);
  if (!error->empty()) return std::nullopt;
  if (!base || !r.generation) {
    *error = "a delta needs baseGeneration and generation";
    return std::nullopt;
  }
  r.base_generation = *base;
  if (*r.generation <= r.base_generation) {
    *error = "generation must be greater than baseGeneration";
    return std::nullopt;
  }
  if (!read_entries(body, "upserts", &r.entries, error)) return std::nullopt;
  if (auto it = body.find("removals"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) {
      *error = "removals must be an array";
      return std::nullopt;
    }
    for (const auto& id : *it) {
      if (!id.is_string()) {
        *error = "removals must be intent ids (strings)";
        return std::nullopt;
      }
      r.removals.push_back(id.get<std::string>());
    }
  }
  return r;
}

}  // namespace

std::optional<IntentRequest> parse_intent_request(const json& body, std::string* error) {
  error->clear();
  if (!body.is_object()) {
    *error = "body must be a JSON object";
    return std::nullopt;
  }
  if (body.contains("intents")) {
    IntentRequest r;
    r.generation = read_generation(body, "generation", error);
    if (!error->empty()) return std::nullopt;
    if (!read_entries(body, "intents", &r.entries, error)) return std::nullopt;
    return r;
  }
  if (body.contains("upserts") || body.contains("removals") || body.contains("baseGeneration")) {
    return parse_delta(body, error);
  }
  *error =
      "expected {\"intents\":[...]} (full list) or {\"baseGeneration\",\"generation\","
      "\"upserts\",\"removals\"} (delta)";
  return std::nullopt;
}

json full_request_json(uint64_t generation, const std::vector<Intent>& intents) {
  json list = json::array();
  for (const auto& i : intents) list.push_back(intent_to_json(i));
  return {{"generation", generation}, {"intents", std::move(list)}};
}

json delta_request_json(uint64_t base_generation, uint64_t generation,
                        const std::vector<Intent>& upserts, const std::vector<std::string>& removals) {
  json ups = json::array();
  for (const auto& i : upserts) ups.push_back(intent_to_json(i));
  return {{"baseGeneration", base_generation},
          {"generation", generation},
          {"upserts", std::move(ups)},
          {"removals", removals}};
}

}  // namespace gthulhu::wire
