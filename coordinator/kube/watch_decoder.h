#pragma once
// Decodes a Kubernetes watch response body: one JSON object per line,
//   {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}
// arriving in chunks that split lines anywhere. Complete lines become events; a line
// that is not a valid event is reported as a problem (with what was wrong) and skipped,
// so one bad event never ends the stream or the process. A line longer than the bound
// is dropped as a problem too, without buffering the rest of it.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace gthulhu::coordinator::kube {

enum class WatchEventType { Added, Modified, Deleted, Bookmark, Error };

struct WatchEvent {
  WatchEventType type = WatchEventType::Added;
  nlohmann::json object;  // the resource; for Error a Status object
};

struct DecodedChunk {
  std::vector<WatchEvent> events;
  std::vector<std::string> problems;  // one sentence per skipped line
};

class WatchDecoder {
 public:
  explicit WatchDecoder(size_t max_line_bytes = 16u << 20) : max_line_(max_line_bytes) {}

  // Feeds the next piece of the body; returns the events of the lines it completed.
  DecodedChunk feed(std::string_view chunk);
  // Bytes of an incomplete line kept for the next feed().
  size_t pending_bytes() const { return partial_.size(); }

 private:
  void complete_line(std::string_view line, DecodedChunk& out) const;

  size_t max_line_;
  std::string partial_;
  bool skipping_ = false;  // inside an over-long line: drop bytes until its newline
};

// True with the event one complete line holds; false with `problem` saying what is
// wrong with it. Exposed for tests.
bool decode_watch_line(std::string_view line, WatchEvent& event, std::string& problem);

}  // namespace gthulhu::coordinator::kube
