#pragma once
// Waiting for the event a test means, with a deadline (never a bare sleep).
#include <chrono>
#include <functional>

namespace gthulhu::test {

// Polls cond every few milliseconds until it holds or timeout passes. The default
// deadline is generous on purpose: it only bounds a failure, and a loaded machine
// (the 2-core CI, stress-ng beside the tests) can take seconds to run a process.
bool eventually(const std::function<bool()>& cond,
                std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace gthulhu::test
