#include "coordinator/kube/reflector.h"

#include <spdlog/spdlog.h>

#include <random>

#include "coordinator/kube/api_status.h"
#include "coordinator/kube/backoff.h"

namespace gthulhu::coordinator::kube {
namespace {

using Clock = std::chrono::steady_clock;

const nlohmann::json* metadata_of(const nlohmann::json& object) {
  auto it = object.find("metadata");
  return it != object.end() && it->is_object() ? &*it : nullptr;
}

std::string metadata_text(const nlohmann::json& object, const char* field) {
  const auto* md = metadata_of(object);
  if (md == nullptr) return {};
  auto it = md->find(field);
  return it != md->end() && it->is_string() ? it->get<std::string>() : std::string();
}

// What one LIST (all its pages) returned.
struct ListedSet {
  std::string resource_version;
  std::vector<nlohmann::json> items;
};

}  // namespace

std::string object_key(const nlohmann::json& object) {
  const std::string name = metadata_text(object, "name");
  if (name.empty()) return {};
  const std::string ns = metadata_text(object, "namespace");
  return ns.empty() ? name : ns + "/" + name;
}

std::string object_resource_version(const nlohmann::json& object) {
  return metadata_text(object, "resourceVersion");
}

Reflector::Reflector(KubeCredentials credentials, KubeClientOptions client_options,
                     ReflectorOptions options, ReflectorSink& sink)
    : options_(std::move(options)),
      sink_(sink),
      client_(std::move(credentials),
              [&] {
                client_options.cancel = &stopping_;
                return client_options;
              }()),
      rng_state_(std::random_device{}() | 1) {}

Reflector::~Reflector() { stop(); }

void Reflector::start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Reflector::stop() {
  {
    std::lock_guard lock(wait_mu_);
    stopping_ = true;
  }
  wait_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string Reflector::resource_version() const {
  std::lock_guard lock(mu_);
  return rv_;
}

ReflectorStats Reflector::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Reflector::set_resource_version(const std::string& rv) {
  std::lock_guard lock(mu_);
  rv_ = rv;
}

void Reflector::sleep_unless_stopped(std::chrono::milliseconds d) {
  std::unique_lock lock(wait_mu_);
  wait_cv_.wait_for(lock, d, [this] { return stopping_.load(); });
}

std::string Reflector::list_url(const std::string& continue_token) const {
  std::string url = options_.list_path + "?limit=" + std::to_string(options_.page_size);
  if (!options_.label_selector.empty()) url += "&labelSelector=" + query_escape(options_.label_selector);
  if (!options_.field_selector.empty()) url += "&fieldSelector=" + query_escape(options_.field_selector);
  if (!continue_token.empty()) url += "&continue=" + query_escape(continue_token);
  return url;
}

std::string Reflector::watch_url(const std::string& resource_version) {
  // timeoutSeconds in [t, 1.25 t]: a cheap xorshift is plenty for spreading reconnects.
  rng_state_ ^= rng_state_ << 13;
  rng_state_ ^= rng_state_ >> 7;
  rng_state_ ^= rng_state_ << 17;
  const auto t = options_.watch_timeout.count();
  const auto timeout = t + static_cast<long long>(rng_state_ % static_cast<std::uint64_t>(t / 4 + 1));
  std::string url = options_.list_path + "?watch=true&allowWatchBookmarks=true&resourceVersion=" +
                    query_escape(resource_version) + "&timeoutSeconds=" + std::to_string(timeout);
  if (!options_.label_selector.empty()) url += "&labelSelector=" + query_escape(options_.label_selector);
  if (!options_.field_selector.empty()) url += "&fieldSelector=" + query_escape(options_.field_selector);
  return url;
}

void Reflector::run() {
  Backoff backoff(options_.backoff_initial, options_.backoff_max);
  bool need_list = true;
  while (!stopping_) {
    if (need_list) {
      if (!list()) {
        if (stopping_) return;
        { std::lock_guard lock(mu_); ++stats_.failures; }
        sleep_unless_stopped(backoff.next());
        continue;
      }
      need_list = false;
    }
    const auto started = Clock::now();
    switch (watch()) {
      case WatchEnd::Stopped:
        return;
      case WatchEnd::Gone:
        spdlog::info("kubernetes: {}: resourceVersion {} is too old (410 Gone); listing again",
                     options_.name, resource_version());
        { std::lock_guard lock(mu_); ++stats_.relists_gone; }
        need_list = true;
        break;
      case WatchEnd::Expired:
        // A server that ends every watch at once would make this a busy loop.
        if (Clock::now() - started > std::chrono::seconds(1)) {
          backoff.reset();
          break;
        }
        [[fallthrough]];
      case WatchEnd::Failed:
        { std::lock_guard lock(mu_); ++stats_.failures; }
        sleep_unless_stopped(backoff.next());
        break;
    }
  }
}

bool Reflector::list() {
  ListedSet listed;
  std::string continue_token;
  int pages = 0;
  do {
    ApiResponse r = client_.get(list_url(continue_token));
    if (!r.ok) {
      if (r.cancelled || stopping_) return false;
      if (!continue_token.empty() && r.status == 410) {
        // The continue token outlived its snapshot (compaction): start over.
        spdlog::info("kubernetes: {}: list continuation expired; listing from the start", options_.name);
        listed = {};
        continue_token.clear();
        pages = 0;
        continue;
      }
      spdlog::warn("kubernetes: {}: list failed: {}", options_.name, r.error);
      return false;
    }
    const auto items = r.body.find("items");
    if (items == r.body.end() || !(items->is_array() || items->is_null())) {
      spdlog::warn("kubernetes: {}: list answer has no \"items\" array", options_.name);
      return false;
    }
    if (items->is_array()) {
      for (auto& item : *items) listed.items.push_back(std::move(item));
    }
    const auto& md = r.body.value("metadata", nlohmann::json::object());
    if (pages == 0) listed.resource_version = md.value("resourceVersion", "");
    continue_token = md.value("continue", "");
    ++pages;
  } while (!continue_token.empty() && !stopping_);
  if (stopping_) return false;
  if (listed.resource_version.empty()) {
    spdlog::warn("kubernetes: {}: list answer has no metadata.resourceVersion", options_.name);
    return false;
  }

  // Only what differs from the last view: objects new or changed (by resourceVersion),
  // and keys no longer present.
  const bool initial = !synced_.load();
  std::vector<ObjectDelta> deltas;
  std::map<std::string, std::string> now;
  std::uint64_t malformed = 0;
  for (auto& item : listed.items) {
    std::string key = object_key(item);
    if (key.empty()) {
      ++malformed;
      continue;
    }
    std::string rv = object_resource_version(item);
    auto old = known_.find(key);
    if (initial || old == known_.end() || old->second != rv) {
      deltas.push_back({ObjectDelta::Kind::Upsert, key, std::move(item)});
    }
    now.emplace(std::move(key), std::move(rv));
  }
  for (const auto& [key, rv] : known_) {
    if (!now.count(key)) deltas.push_back({ObjectDelta::Kind::Delete, key, nullptr});
  }
  known_ = std::move(now);
  set_resource_version(listed.resource_version);
  {
    std::lock_guard lock(mu_);
    ++stats_.lists;
    stats_.malformed += malformed;
  }
  spdlog::info("kubernetes: {}: listed {} objects in {} page(s) at resourceVersion {} ({} changes)",
               options_.name, known_.size(), pages, listed.resource_version, deltas.size());
  if (initial || !deltas.empty()) sink_.apply(deltas, initial);
  synced_ = true;
  return true;
}

Reflector::WatchEnd Reflector::watch() {
  const std::string from = resource_version();
  WatchDecoder decoder(options_.max_event_bytes);
  WatchEnd end = WatchEnd::Expired;
  { std::lock_guard lock(mu_); ++stats_.watches; }

  auto on_data = [&](std::string_view chunk) {
    if (stopping_) return false;
    DecodedChunk d = decoder.feed(chunk);
    for (const auto& p : d.problems) {
      spdlog::warn("kubernetes: {}: skipped a watch event: {}", options_.name, p);
    }
    if (!d.problems.empty()) {
      std::lock_guard lock(mu_);
      stats_.malformed += d.problems.size();
    }
    for (const auto& e : d.events) {
      if (!handle_event(e, end)) return false;
    }
    return true;
  };
  const std::string url = watch_url(from);
  spdlog::debug("kubernetes: {}: watching {}", options_.name, url);
  WatchOutcome out = client_.watch(url, options_.dead_stream_timeout, on_data);
  if (stopping_ || out.cancelled) return WatchEnd::Stopped;
  if (end != WatchEnd::Expired) return end;
  if (out.status == 410 || out.reason == "Expired" || out.reason == "Gone") return WatchEnd::Gone;
  if (!out.error.empty()) {
    if (out.idle_timeout) {
      std::lock_guard lock(mu_);
      ++stats_.dead_streams;
    }
    spdlog::warn("kubernetes: {}: watch from resourceVersion {} ended: {}; resuming from {}",
                 options_.name, from, out.error, resource_version());
    return WatchEnd::Failed;
  }
  return WatchEnd::Expired;
}

// False ends the stream (`end` says why).
bool Reflector::handle_event(const WatchEvent& e, WatchEnd& end) {
  switch (e.type) {
    case WatchEventType::Bookmark: {
      const std::string rv = object_resource_version(e.object);
      if (rv.empty()) {
        spdlog::warn("kubernetes: {}: a BOOKMARK without a resourceVersion was skipped", options_.name);
        std::lock_guard lock(mu_);
        ++stats_.malformed;
        return true;
      }
      spdlog::debug("kubernetes: {}: bookmark at resourceVersion {}", options_.name, rv);
      std::lock_guard lock(mu_);
      rv_ = rv;
      ++stats_.bookmarks;
      return true;
    }
    case WatchEventType::Error: {
      const auto status = parse_status(e.object);
      if (status && is_gone(*status)) {
        end = WatchEnd::Gone;
      } else {
        end = WatchEnd::Failed;
        spdlog::warn("kubernetes: {}: watch ERROR event: {}", options_.name,
                     status ? std::to_string(status->code) + " " + status->reason + ": " + status->message
                            : e.object.dump().substr(0, 200));
      }
      return false;
    }
    default:
      apply_object_event(e);
      return true;
  }
}

bool Reflector::apply_object_event(const WatchEvent& e) {
  std::string key = object_key(e.object);
  std::string rv = object_resource_version(e.object);
  if (key.empty() || rv.empty()) {
    spdlog::warn("kubernetes: {}: an event object without metadata.name or resourceVersion was skipped",
                 options_.name);
    std::lock_guard lock(mu_);
    ++stats_.malformed;
    return false;
  }
  ObjectDelta delta;
  delta.key = key;
  delta.object = e.object;
  if (e.type == WatchEventType::Deleted) {
    delta.kind = ObjectDelta::Kind::Delete;
    known_.erase(key);
  } else {
    delta.kind = ObjectDelta::Kind::Upsert;
    known_[key] = rv;
  }
  sink_.apply({delta}, false);
  std::lock_guard lock(mu_);
  rv_ = rv;
  ++stats_.events;
  return true;
}

}  // namespace gthulhu::coordinator::kube
