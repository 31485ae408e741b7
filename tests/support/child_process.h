#pragma once
// A program of ours run as a child process for a test: its own environment, its output
// in a log file (tail shown on failure), PR_SET_PDEATHSIG so a crashed test leaves
// nothing running, and kill()/stop() by pid. Call start() from the test's main thread.
#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace gthulhu::test {

class ChildProcess {
 public:
  ChildProcess(std::filesystem::path binary, std::vector<std::string> args,
               std::map<std::string, std::string> env, std::filesystem::path log_file);
  ~ChildProcess();  // stop()
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void start();  // throws std::runtime_error when fork fails
  // SIGTERM, then SIGKILL after 5 s; reaps. Returns the exit status as waitpid gave it.
  int stop();
  void kill9();  // a crash: SIGKILL and reap
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  std::string log_tail(size_t bytes = 4000) const;

 private:
  std::filesystem::path binary_;
  std::vector<std::string> args_;
  std::map<std::string, std::string> env_;
  std::filesystem::path log_;
  pid_t pid_ = -1;
};

}  // namespace gthulhu::test
