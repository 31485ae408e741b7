#pragma once
// Graceful shutdown: termination signals are blocked in every thread (call
// block_termination_signals() before starting any) and taken synchronously by the
// main thread with sigwait, so no work runs in a signal handler.
#include <chrono>
#include <optional>

namespace gthulhu::service {

void block_termination_signals();
// Waits for SIGTERM or SIGINT; returns the signal number. With a timeout, returns
// nullopt when none arrived in time.
std::optional<int> wait_for_termination(
    std::optional<std::chrono::milliseconds> timeout = std::nullopt);

}  // namespace gthulhu::service
