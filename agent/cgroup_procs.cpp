#include "agent/cgroup_procs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace gthulhu::agent {
namespace {

// kernfs (cgroupfs) file handles: 8 bytes, the cgroup id (include/linux/exportfs.h).
constexpr int kFileIdKernfs = 0xfe;

// True when this process sees pids as the host does (NSpid has one entry).
bool in_host_pid_namespace() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("NSpid:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    int n = 0;
    std::string pid;
    while (fields >> pid) ++n;
    return n == 1;
  }
  return true;  // kernels without NSpid have no nesting to worry about here
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

CgroupProcs::CgroupProcs(const std::string& cgroup2_dir) {
  mount_fd_ = ::open(cgroup2_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (mount_fd_ < 0) {
    unavailable_ = "cannot open " + cgroup2_dir + ": " + std::strerror(errno);
  } else if (!in_host_pid_namespace()) {
    unavailable_ = "the agent is not in the host's pid namespace (set hostPID)";
  }
}

CgroupProcs::~CgroupProcs() {
  if (mount_fd_ >= 0) ::close(mount_fd_);
}

std::optional<std::vector<uint32_t>> CgroupProcs::pids_of(uint64_t cgroup_id) const {
  if (!unavailable_.empty()) return std::nullopt;
  alignas(file_handle) unsigned char storage[sizeof(file_handle) + sizeof cgroup_id] = {};
  auto* handle = reinterpret_cast<file_handle*>(storage);
  handle->handle_bytes = sizeof cgroup_id;
  handle->handle_type = kFileIdKernfs;
  std::memcpy(handle->f_handle, &cgroup_id, sizeof cgroup_id);
  Fd dir(::open_by_handle_at(mount_fd_, handle, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) {
    // ESTALE/ENOENT: the cgroup is gone, so it has no processes.
    if (errno == ESTALE || errno == ENOENT) return std::vector<uint32_t>{};
    return std::nullopt;
  }
  Fd procs(::openat(dir.get(), "cgroup.procs", O_RDONLY | O_CLOEXEC));
  if (procs.get() < 0) {
    if (errno == ENOENT || errno == ENODEV) return std::vector<uint32_t>{};
    return std::nullopt;
  }
  std::vector<uint32_t> out;
  std::string text;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(procs.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENODEV) return std::vector<uint32_t>{};  // removed while reading
      return std::nullopt;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    uint32_t pid = 0;
    auto [next, ec] = std::from_chars(p, end, pid);
    if (ec == std::errc() && pid != 0) out.push_back(pid);
    p = ec == std::errc() ? next : p + 1;
    while (p < end && (*p == '\n' || *p == ' ')) ++p;
  }
  return out;
}

}  // namespace gthulhu::agent
