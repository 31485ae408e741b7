#pragma once
// Host resources for integration tests, each removed by its destructor (also when a
// test fails half-way): cgroup v2 trees, BPF pin directories, child processes.
// Everything is named uniquely per test process so concurrent runs do not collide.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "tests/support/eventually.h"

namespace gthulhu::test {

// Where cgroup2 is mounted, from /proc/self/mountinfo: /sys/fs/cgroup on a pure v2
// host, /sys/fs/cgroup/unified on a hybrid one. nullopt when there is none.
std::optional<std::string> cgroup2_mount();

// A cgroup v2 id: the directory's inode number (what the kernel's kn->id is).
uint64_t cgroup_id_of(const std::string& dir);

// The cgroup v2 directory of this process, from /proc/self/cgroup ("0::<path>").
std::optional<std::string> own_cgroup2_dir();

// Makes /sys/fs/bpf a BPF filesystem for this test process. When the host has none
// there, the process moves to a private mount namespace first, so the mount (and
// every pin in it) vanishes with the process, even after a crash. Empty on success.
std::string ensure_bpffs();

// A unique directory tree below the cgroup2 mount (gthulhu-it-<pid>-<n>). The
// destructor kills whatever still runs inside (cgroup.kill: the tree is ours alone),
// waits for it to empty and removes every directory bottom-up.
class CgroupTree {
 public:
  explicit CgroupTree(const std::string& cgroup2_root);
  ~CgroupTree();
  CgroupTree(const CgroupTree&) = delete;
  CgroupTree& operator=(const CgroupTree&) = delete;

  const std::string& root() const { return root_; }
  // Relative to the cgroup2 mount, starting with '/', as the kernel prints paths.
  std::string kernel_path(const std::string& dir) const;
  // mkdir -p of root()/relative; returns the absolute path. Throws on failure.
  std::string make(const std::string& relative);
  // Writes pid into dir/cgroup.procs (moves the whole process). Throws on failure.
  static void move(const std::string& dir, pid_t pid);

 private:
  std::string mount_;
  std::string root_;
};

// A unique pin directory /sys/fs/bpf/gthulhu-it-<pid>-<n> (not created here: the
// tracker creates it), removed with its contents by the destructor.
class PinDir {
 public:
  PinDir();
  ~PinDir();
  PinDir(const PinDir&) = delete;
  PinDir& operator=(const PinDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A pipe for one-byte messages between the test and its children (close-on-exec, so
// an exec'd child does not hold it open).
class Pipe {
 public:
  Pipe();
  ~Pipe();
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  void send(char c) const;
  void send_u32(uint32_t v) const;
  // Blocks; returns '\0' on end of file.
  char recv() const;
  // Waits at most timeout; nullopt when nothing came.
  std::optional<char> recv_for(std::chrono::milliseconds timeout) const;
  std::optional<uint32_t> recv_u32_for(std::chrono::milliseconds timeout) const;
  void close_write();
  int read_fd() const { return fds_[0]; }
  int write_fd() const { return fds_[1]; }

 private:
  int fds_[2] = {-1, -1};
};

// A forked child process, killed and reaped by the destructor unless already waited.
class Child {
 public:
  // Runs body in a forked child and _exit()s with its result. The test process is
  // single-threaded, so body may use anything (but not gtest assertions).
  static Child spawn(const std::function<int()>& body);
  // Adopts a pid this process is the parent of (e.g. from clone3).
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(Child&& other) noexcept : pid_(other.pid_), reaped_(other.reaped_) { other.reaped_ = true; }
  Child& operator=(Child&&) = delete;
  ~Child();

  // Stays valid after wait(), for checks on what the process left behind.
  pid_t pid() const { return pid_; }
  // Exit code, or 128 + signal number (-1 when already reaped).
  int wait();
  void kill_and_wait();

 private:
  pid_t pid_;
  bool reaped_ = false;
};

}  // namespace gthulhu::test
