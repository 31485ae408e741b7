#pragma once
// Where node channels report what happened to intents: pushed (Sent) and the agent's
// per-intent results (Applied / Waiting / Failed). Implemented by the intent state
// recorder, which writes them to the store as intent states.
#include <string>
#include <vector>

#include "common/wire/intent_result.h"

namespace gthulhu::coordinator {

class ResultSink {
 public:
  virtual ~ResultSink() = default;
  virtual void on_sent(const std::string& node, const std::vector<std::string>& intent_ids) = 0;
  virtual void on_results(const std::string& node, const std::vector<wire::IntentResult>& results) = 0;
};

}  // namespace gthulhu::coordinator
