#include "tests/support/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace gthulhu::test {

ChildProcess::ChildProcess(std::filesystem::path binary, std::vector<std::string> args,
                           std::map<std::string, std::string> env, std::filesystem::path log_file)
    : binary_(std::move(binary)), args_(std::move(args)), env_(std::move(env)), log_(std::move(log_file)) {}

ChildProcess::~ChildProcess() { stop(); }

void ChildProcess::start() {
  if (pid_ > 0) return;
  // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
  std::vector<std::string> env_text;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    if (kv.rfind("GTHULHU_", 0) != 0) env_text.push_back(kv);  // never inherit our own settings
  }
  for (const auto& [k, v] : env_) env_text.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_text) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_text = {binary_.filename().string()};
  argv_text.insert(argv_text.end(), args_.begin(), args_.end());
  std::vector<char*> argv;
  for (auto& s : argv_text) argv.push_back(s.data());
  argv.push_back(nullptr);
  const int log_fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) throw std::runtime_error("cannot open " + log_.string());
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(97);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execve(binary_.c_str(), argv.data(), envp.data());
    _exit(98);
  }
  ::close(log_fd);
  pid_ = pid;
}

int ChildProcess::stop() {
  if (pid_ <= 0) return 0;
  ::kill(pid_, SIGTERM);
  int status = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > until) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  return status;
}

void ChildProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string ChildProcess::log_tail(size_t bytes) const {
  std::ifstream in(log_);
  std::stringstream s;
  s << in.rdbuf();
  const std::string all = s.str();
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

}  // namespace gthulhu::test
