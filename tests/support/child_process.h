#pragma once
// A server binary run as a child process for tests: stdout and stderr appended to a log
// file, PR_SET_PDEATHSIG(SIGKILL) so a crashed test run leaves nothing behind (it fires
// when the starting *thread* exits: start from the test's main thread), graceful stop
// with a grace period, and SIGSTOP / SIGCONT to freeze it (a hung peer).
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace gthulhu::test {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // stop()
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // argv[0] is the binary's path. False with error() set when fork fails.
  bool start(const std::vector<std::string>& argv, const std::filesystem::path& log_file);
  // SIGTERM, then SIGKILL after `grace`; reaps. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  void kill();
  void pause();   // SIGSTOP
  void resume();  // SIGCONT
  // False once the child has exited (reaped here; exit_status() then says how).
  bool running();
  int exit_status() const { return status_; }
  pid_t pid() const { return pid_; }
  const std::string& error() const { return error_; }

 private:
  void reap(std::chrono::milliseconds wait);

  pid_t pid_ = -1;
  int status_ = 0;
  std::string error_;
};

// The last `max_bytes` of a log file ("" when unreadable).
std::string file_tail(const std::filesystem::path& file, size_t max_bytes = 4096);

}  // namespace gthulhu::test
