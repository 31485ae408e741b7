#include "agent/intent_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace gthulhu::agent {

using nlohmann::json;
namespace fs = std::filesystem;

void write_file_atomically(const fs::path& path, const std::string& contents) {
  const fs::path tmp = path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + off, contents.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(e));
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    throw std::runtime_error("cannot flush " + tmp.string() + ": " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("cannot replace " + path.string() + ": " + std::strerror(errno));
  }
  // The rename is durable only once the directory entry is.
  int dfd = ::open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                   O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

IntentStore::IntentStore(fs::path state_file) : state_file_(std::move(state_file)) {
  if (!state_file_.empty()) load();
}

StoredIntent IntentStore::parse_entry(const json& raw, std::string* id) {
  StoredIntent s;
  s.raw = raw;
  auto parsed = intent_from_json(raw);
  *id = parsed.id;
  if (parsed.intent) {
    s.intent = std::move(parsed.intent);
  } else {
    s.error = parsed.error;
    // Invalid entries without an id still need a stable key to be reported and removed.
    if (id->empty()) *id = "invalid-" + std::to_string(std::hash<std::string>{}(raw.dump()));
  }
  return s;
}

ApplyResult IntentStore::apply(const json& body) {
  std::string error;
  auto request = wire::parse_intent_request(body, &error);
  if (!request) return {ApplyOutcome::kBadRequest, generation(), error};
  return request->kind == wire::IntentRequest::Kind::kFull ? apply_full(*request) : apply_delta(*request);
}

ApplyResult IntentStore::apply_full(const wire::IntentRequest& request) {
  std::map<std::string, StoredIntent> next;
  for (const auto& raw : request.entries) {
    std::string id;
    auto entry = parse_entry(raw, &id);
    next[id] = std::move(entry);  // duplicates: the last one wins, as in a replace
  }
  std::lock_guard lock(mu_);
  if (request.generation && *request.generation < state_.generation) {
    return {ApplyOutcome::kGenerationMismatch, state_.generation,
            "generation " + std::to_string(*request.generation) + " is older than the agent's " +
                std::to_string(state_.generation) + ": refused as stale"};
  }
  state_.intents = std::move(next);
  state_.generation = request.generation.value_or(state_.generation + 1);
  last_delta_base_ = 0;
  persist_locked();
  return {ApplyOutcome::kApplied, state_.generation, ""};
}

ApplyResult IntentStore::apply_delta(const wire::IntentRequest& request) {
  const uint64_t gen = *request.generation;
  const uint64_t base = request.base_generation;
  std::lock_guard lock(mu_);
  if (gen == state_.generation && base == last_delta_base_) {
    return {ApplyOutcome::kReplay, state_.generation, ""};
  }
  if (base != state_.generation) {
    return {ApplyOutcome::kGenerationMismatch, state_.generation,
            "baseGeneration " + std::to_string(base) + " does not match the agent's generation " +
                std::to_string(state_.generation) + ": send the full list"};
  }
  for (const auto& id : request.removals) state_.intents.erase(id);
  for (const auto& raw : request.entries) {
    std::string id;
    auto entry = parse_entry(raw, &id);
    state_.intents[id] = std::move(entry);
  }
  state_.generation = gen;
  last_delta_base_ = base;
  persist_locked();
  return {ApplyOutcome::kApplied, state_.generation, ""};
}

ApplyResult IntentStore::clear() {
  std::lock_guard lock(mu_);
  state_.intents.clear();
  state_.generation += 1;
  last_delta_base_ = 0;
  persist_locked();
  return {ApplyOutcome::kApplied, state_.generation, ""};
}

ApplyResult IntentStore::remove_pod(const std::string& pod_uid) {
  std::lock_guard lock(mu_);
  for (auto it = state_.intents.begin(); it != state_.intents.end();) {
    if (it->second.intent && it->second.intent->pod_uid == pod_uid) {
      it = state_.intents.erase(it);
    } else {
      ++it;
    }
  }
  state_.generation += 1;
  last_delta_base_ = 0;
  persist_locked();
  return {ApplyOutcome::kApplied, state_.generation, ""};
}

IntentSnapshot IntentStore::snapshot() const {
  std::lock_guard lock(mu_);
  return state_;
}

uint64_t IntentStore::generation() const {
  std::lock_guard lock(mu_);
  return state_.generation;
}

void IntentStore::persist_locked() const {
  if (state_file_.empty()) return;
  json doc = {{"version", 1}, {"generation", state_.generation}, {"lastDeltaBase", last_delta_base_}};
  json list = json::array();
  for (const auto& [id, s] : state_.intents) list.push_back(s.raw);
  doc["intents"] = std::move(list);
  write_file_atomically(state_file_, doc.dump());
}

void IntentStore::load() {
  std::ifstream in(state_file_);
  if (!in) return;  // first start
  std::stringstream buf;
  buf << in.rdbuf();
  json doc;
  try {
    doc = json::parse(buf.str());
  } catch (const json::parse_error& e) {
    throw std::runtime_error("intent state " + state_file_.string() +
                             " is corrupt (" + e.what() + "); move it away to start empty");
  }
  if (doc.value("version", 0) != 1) {
    throw std::runtime_error("intent state " + state_file_.string() + " has an unknown version");
  }
  state_.generation = doc.value("generation", uint64_t{0});
  last_delta_base_ = doc.value("lastDeltaBase", uint64_t{0});
  for (const auto& raw : doc.value("intents", json::array())) {
    std::string id;
    auto entry = parse_entry(raw, &id);
    state_.intents[id] = std::move(entry);
  }
}

}  // namespace gthulhu::agent
