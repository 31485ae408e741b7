#pragma once
// Runs a tool (helm, kubernetes-validate, our own binaries) to completion and keeps what
// it printed, bounded in time: the chart checks judge tools by exit status and output.
#include <chrono>
#include <string>
#include <vector>

namespace gthulhu::test::chart {

struct CommandResult {
  int exit_code = -1;     // -1: did not start, was killed, or timed out
  bool timed_out = false;
  std::string output;     // stdout and stderr, interleaved
  std::string stdout_only;
};

// argv[0] is a path. Kills the tool (SIGKILL) when `timeout` passes.
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::seconds timeout = std::chrono::seconds(120));

}  // namespace gthulhu::test::chart
