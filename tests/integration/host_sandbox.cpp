#include "tests/integration/host_sandbox.h"


#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

namespace gthulhu::test {

namespace fs = std::filesystem;

namespace {

std::atomic<int> g_counter{0};

std::string unique_name() {
  return "gthulhu-it-" + std::to_string(getpid()) + "-" + std::to_string(g_counter++);
}

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

bool is_bpffs(const char* path) {
  struct statfs st {};
  return statfs(path, &st) == 0 && static_cast<unsigned long>(st.f_type) == BPF_FS_MAGIC;
}

void write_file(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw_errno("open " + path);
  ssize_t n = write(fd, text.data(), text.size());
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    errno = err;
    throw_errno("write " + path);
  }
}

bool populated(const std::string& dir) {
  std::ifstream in(dir + "/cgroup.events");
  std::string key;
  int value = 0;
  while (in >> key >> value) {
    if (key == "populated") return value != 0;
  }
  return false;
}

}  // namespace

std::optional<std::string> cgroup2_mount() {
  // Fields: id parent major:minor root mountpoint options [optional...] - fstype source ...
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::vector<std::string> parts;
    std::string part;
    while (fields >> part) parts.push_back(part);
    auto dash = std::find(parts.begin(), parts.end(), "-");
    if (dash != parts.end() && dash + 1 != parts.end() && *(dash + 1) == "cgroup2" &&
        parts.size() > 4)
      return parts[4];
  }
  return std::nullopt;
}

uint64_t cgroup_id_of(const std::string& dir) {
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) throw_errno("stat " + dir);
  return st.st_ino;
}

std::optional<std::string> own_cgroup2_dir() {
  auto mount = cgroup2_mount();
  if (!mount) return std::nullopt;
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) return *mount + line.substr(3);
  }
  return std::nullopt;
}

std::string ensure_bpffs() {
  static std::string result = [] () -> std::string {
    if (is_bpffs("/sys/fs/bpf")) return {};
    if (unshare(CLONE_NEWNS) != 0) return std::string("unshare(CLONE_NEWNS): ") + strerror(errno);
    // Slave: host mounts still reach us, ours never propagate back to the host.
    if (mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0)
      return std::string("make / a slave mount: ") + strerror(errno);
    if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") != 0)
      return std::string("mount bpffs on /sys/fs/bpf: ") + strerror(errno);
    return {};
  }();
  return result;
}

CgroupTree::CgroupTree(const std::string& cgroup2_root) : mount_(cgroup2_root) {
  root_ = mount_ + "/" + unique_name();
  if (mkdir(root_.c_str(), 0755) != 0) throw_errno("mkdir " + root_);
}

CgroupTree::~CgroupTree() {
  // Everything inside was started by this test: kill it all at once.
  if (populated(root_)) {
    try {
      write_file(root_ + "/cgroup.kill", "1");
    } catch (const std::exception&) {
    }
    eventually([&] { return !populated(root_); }, std::chrono::seconds(10));
  }
  std::vector<std::string> dirs;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root_, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec)) dirs.push_back(it->path());
  }
  std::sort(dirs.begin(), dirs.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& dir : dirs) rmdir(dir.c_str());
  rmdir(root_.c_str());
}

std::string CgroupTree::kernel_path(const std::string& dir) const {
  return dir.substr(mount_.size());
}

std::string CgroupTree::make(const std::string& relative) {
  std::string path = root_;
  std::istringstream parts(relative);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part.empty()) continue;
    path += "/" + part;
    if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) throw_errno("mkdir " + path);
  }
  return path;
}

void CgroupTree::move(const std::string& dir, pid_t pid) {
  write_file(dir + "/cgroup.procs", std::to_string(pid));
}

PinDir::PinDir() : path_("/sys/fs/bpf/" + unique_name()) {}

PinDir::~PinDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

Pipe::Pipe() {
  if (pipe2(fds_, O_CLOEXEC) != 0) throw_errno("pipe2");
}

Pipe::~Pipe() {
  for (int fd : fds_)
    if (fd >= 0) close(fd);
}

void Pipe::send(char c) const {
  while (write(fds_[1], &c, 1) < 0 && errno == EINTR) {
  }
}

void Pipe::send_u32(uint32_t v) const {
  while (write(fds_[1], &v, sizeof(v)) < 0 && errno == EINTR) {
  }
}

char Pipe::recv() const {
  char c = 0;
  for (;;) {
    ssize_t n = read(fds_[0], &c, 1);
    if (n == 1) return c;
    if (n == 0 || errno != EINTR) return '\0';
  }
}

std::optional<char> Pipe::recv_for(std::chrono::milliseconds timeout) const {
  pollfd p{fds_[0], POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
  char c = 0;
  if (read(fds_[0], &c, 1) != 1) return std::nullopt;
  return c;
}

std::optional<uint32_t> Pipe::recv_u32_for(std::chrono::milliseconds timeout) const {
  pollfd p{fds_[0], POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
  uint32_t v = 0;
  // Writes of 4 bytes to a pipe are atomic: one read gets all of it.
  if (read(fds_[0], &v, sizeof(v)) != sizeof(v)) return std::nullopt;
  return v;
}

void Pipe::close_write() {
  if (fds_[1] >= 0) close(fds_[1]);
  fds_[1] = -1;
}

Child Child::spawn(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    int rc = 120;
    try {
      rc = body();
    } catch (...) {
    }
    _exit(rc);
  }
  return Child(pid);
}

Child::~Child() { kill_and_wait(); }

int Child::wait() {
  if (reaped_ || pid_ <= 0) return -1;
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

void Child::kill_and_wait() {
  if (reaped_ || pid_ <= 0) return;
  kill(pid_, SIGKILL);
  wait();
}

}  // namespace gthulhu::test
