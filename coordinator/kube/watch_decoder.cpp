#include "coordinator/kube/watch_decoder.h"

namespace gthulhu::coordinator::kube {
namespace {

bool event_type_of(const std::string& text, WatchEventType& type) {
  if (text == "ADDED") type = WatchEventType::Added;
  else if (text == "MODIFIED") type = WatchEventType::Modified;
  else if (text == "DELETED") type = WatchEventType::Deleted;
  else if (text == "BOOKMARK") type = WatchEventType::Bookmark;
  else if (text == "ERROR") type = WatchEventType::Error;
  else return false;
  return true;
}

std::string excerpt(std::string_view line) {
  constexpr size_t kMax = 120;
  return std::string(line.substr(0, kMax)) + (line.size() > kMax ? "..." : "");
}

}  // namespace

bool decode_watch_line(std::string_view line, WatchEvent& event, std::string& problem) {
  auto doc = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
  if (doc.is_discarded()) {
    problem = "not JSON: " + excerpt(line);
    return false;
  }
  if (!doc.is_object()) {
    problem = "not a JSON object: " + excerpt(line);
    return false;
  }
  auto type = doc.find("type");
  if (type == doc.end() || !type->is_string()) {
    problem = "no \"type\" string: " + excerpt(line);
    return false;
  }
  if (!event_type_of(type->get<std::string>(), event.type)) {
    problem = "unknown event type \"" + type->get<std::string>() + "\"";
    return false;
  }
  auto object = doc.find("object");
  if (object == doc.end() || !object->is_object()) {
    problem = type->get<std::string>() + " event without an \"object\": " + excerpt(line);
    return false;
  }
  event.object = std::move(*object);
  return true;
}

void WatchDecoder::complete_line(std::string_view line, DecodedChunk& out) const {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return;  // blank keep-alive
  WatchEvent e;
  std::string problem;
  if (decode_watch_line(line, e, problem)) {
    out.events.push_back(std::move(e));
  } else {
    out.problems.push_back(std::move(problem));
  }
}

DecodedChunk WatchDecoder::feed(std::string_view chunk) {
  DecodedChunk out;
  while (!chunk.empty()) {
    const size_t nl = chunk.find('\n');
    const std::string_view piece = chunk.substr(0, nl);
    if (skipping_) {
      if (nl == std::string_view::npos) return out;
      skipping_ = false;
    } else if (partial_.size() + piece.size() > max_line_) {
      out.problems.push_back("an event line longer than " + std::to_string(max_line_) +
                             " bytes was skipped");
      partial_.clear();
      skipping_ = nl == std::string_view::npos;
      if (skipping_) return out;
    } else if (nl == std::string_view::npos) {
      partial_.append(piece);
      return out;
    } else if (partial_.empty()) {
      complete_line(piece, out);
    } else {
      partial_.append(piece);
      complete_line(partial_, out);
      partial_.clear();
    }
    chunk.remove_prefix(nl + 1);
  }
  return out;
}

}  // namespace gthulhu::coordinator::kube
