#include "tests/chart/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>

namespace gthulhu::test::chart {

namespace {

// Reads whatever is ready on the two pipes; false once both are closed.
bool drain(std::array<int, 2>& fds, CommandResult& r, int wait_ms) {
  std::array<pollfd, 2> p{};
  int open = 0;
  for (int i = 0; i < 2; ++i) {
    p[i] = {fds[i], POLLIN, 0};
    if (fds[i] >= 0) ++open;
  }
  if (open == 0) return false;
  if (poll(p.data(), p.size(), wait_ms) <= 0) return true;
  for (int i = 0; i < 2; ++i) {
    if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    char buf[8192];
    const ssize_t n = read(fds[i], buf, sizeof buf);
    if (n <= 0) {
      close(fds[i]);
      fds[i] = -1;
      continue;
    }
    r.output.append(buf, static_cast<size_t>(n));
    if (i == 0) r.stdout_only.append(buf, static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::seconds timeout) {
  CommandResult r;
  int out[2], err[2];
  if (argv.empty() || pipe2(out, O_CLOEXEC) != 0) return r;
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return r;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  if (pid < 0) {
    close(out[0]);
    close(err[0]);
    return r;
  }
  std::array<int, 2> fds = {out[0], err[0]};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (drain(fds, r, 200)) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      r.timed_out = true;
      for (int fd : fds) if (fd >= 0) close(fd);
      break;
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!r.timed_out && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  return r;
}

}  // namespace gthulhu::test::chart
