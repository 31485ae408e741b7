#pragma once
// A server binary run as a child process for tests: stdout and stderr appended to a log
// file, PR_SET_PDEATHSIG(SIGKILL) so a crashed test run leaves nothing behind (it fires
// when the starting *thread* exits: start from the test's main thread), graceful stop
// with a grace period, and SIGSTOP / SIGCONT to freeze it (a hung peer).
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace gthulhu::test {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // stop()
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // argv[0] is the binary's path. `env` is added to the inherited environment (minus our
  // own GTHULHU_* settings, which a child never inherits). False with error() set when
  // fork fails.
  bool start(const std::vector<std::string>& argv, const std::filesystem::path& log_file,
             const std::map<std::string, std::string>& env = {});
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

// One of our server binaries with a fixed environment and log file, started, killed
// and started again alike (an agent or a coordinator in a process-level test).
class ServiceProcess {
 public:
  ServiceProcess(std::filesystem::path binary, std::map<std::string, std::string> env,
                 std::filesystem::path log_file)
      : binary_(std::move(binary)), env_(std::move(env)), log_(std::move(log_file)) {}
  void start();  // throws std::runtime_error when fork fails
  void stop() { process_.stop(); }
  void kill9() { process_.kill(); }
  std::string log_tail() const;

 private:
  std::filesystem::path binary_;
  std::map<std::string, std::string> env_;
  std::filesystem::path log_;
  ChildProcess process_;
};

// The last `max_bytes` of a log file ("" when unreadable).
std::string file_tail(const std::filesystem::path& file, size_t max_bytes = 4096);

}  // namespace gthulhu::test
