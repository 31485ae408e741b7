#include "agent/bpf/bpf_support.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <mutex>
#include <sstream>

namespace gthulhu::agent::bpf_support {

namespace {

constexpr const char* kBpffsDefault = "/sys/fs/bpf";
constexpr size_t kLogTailLines = 40;  // the verifier's verdict is at the end of its log

// libbpf's print callback is process-wide: one hook for both objects. It forwards to
// log_line() and keeps the last lines while some caller is capturing them for an error.
class LibbpfLog {
 public:
  static LibbpfLog& instance() {
    static LibbpfLog log;
    return log;
  }
  void begin() {
    std::call_once(installed_, [] { libbpf_set_print(&LibbpfLog::print); });
    std::lock_guard<std::mutex> lock(mutex_);
    if (depth_++ == 0) lines_.clear();
  }
  void end() {
    std::lock_guard<std::mutex> lock(mutex_);
    --depth_;
  }
  std::string tail() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (depth_ == 0) return {};
    std::string out;
    for (const auto& l : lines_) out += "\n  libbpf: " + l;
    return out;
  }

 private:
  static int print(enum libbpf_print_level level, const char* fmt, va_list args) {
    if (level == LIBBPF_DEBUG && !log_enabled(LogLevel::kDebug)) return 0;
    // One message can be a whole verifier log: size the buffer to it.
    va_list copy;
    va_copy(copy, args);
    int n = std::vsnprintf(nullptr, 0, fmt, copy);
    va_end(copy);
    if (n <= 0) return n;
    std::string text(static_cast<size_t>(n) + 1, '\0');
    std::vsnprintf(text.data(), text.size(), fmt, args);
    text.resize(static_cast<size_t>(n));
    auto& self = instance();
    std::lock_guard<std::mutex> lock(self.mutex_);
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty()) continue;
      switch (level) {
        case LIBBPF_WARN: log_line(LogLevel::kWarn, "libbpf: " + line); break;
        case LIBBPF_INFO: log_line(LogLevel::kInfo, "libbpf: " + line); break;
        default: log_line(LogLevel::kDebug, "libbpf: " + line); continue;  // never into errors
      }
      if (self.depth_ == 0) continue;
      self.lines_.push_back(line);
      if (self.lines_.size() > kLogTailLines) self.lines_.pop_front();
    }
    return n;
  }

  std::once_flag installed_;
  std::mutex mutex_;
  std::deque<std::string> lines_;
  int depth_ = 0;
};

struct MapInfo {
  bpf_map_info info{};
};

BpfResult<MapInfo> map_info(int fd, const std::string& path) {
  MapInfo m;
  uint32_t len = sizeof(m.info);
  if (bpf_map_get_info_by_fd(fd, &m.info, &len) != 0) return os_error("map info of " + path, errno);
  return m;
}

bool same_layout(const bpf_map_info& pinned, const bpf_map* map) {
  return pinned.type == static_cast<uint32_t>(bpf_map__type(map)) &&
         pinned.key_size == bpf_map__key_size(map) &&
         pinned.value_size == bpf_map__value_size(map) &&
         pinned.map_flags == bpf_map__map_flags(map);
}

std::string abi_pin(const std::string& root) { return root + "/" + kAbiPinName; }

std::string abi_name(std::optional<uint32_t> v) {
  return v ? "ABI version " + std::to_string(*v) : "no ABI version (written before versions were recorded)";
}

}  // namespace

std::string errno_text(int err) { return std::strerror(err < 0 ? -err : err); }

BpfError os_error(const std::string& what, int err, const std::string& hint) {
  if (err < 0) err = -err;
  std::string msg = what + ": " + errno_text(err);
  if (!hint.empty()) msg += " (" + hint + ")";
  msg += LibbpfLog::instance().tail();
  return {err, std::move(msg)};
}

BpfError plain_error(std::string message) { return {0, std::move(message)}; }

LibbpfLogCapture::LibbpfLogCapture() { LibbpfLog::instance().begin(); }
LibbpfLogCapture::~LibbpfLogCapture() { LibbpfLog::instance().end(); }

bool has_capability(int cap) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, 2> data{};
  if (syscall(SYS_capget, &header, data.data()) != 0) return false;
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

BpfStatus kernel_btf_present() {
  if (::access("/sys/kernel/btf/vmlinux", R_OK) == 0) return {};
  int err = errno;
  return BpfError{err, "no kernel BTF (/sys/kernel/btf/vmlinux: " + errno_text(err) +
                           "); the kernel needs CONFIG_DEBUG_INFO_BTF=y"};
}

BpfStatus probe_bpf_syscall() {
  int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "gthulhu_probe", sizeof(uint32_t),
                          sizeof(uint32_t), 1, nullptr);
  if (fd < 0) return os_error("the kernel refused bpf() map creation", fd);
  ::close(fd);
  return {};
}

bool on_bpffs(const std::string& start) {
  std::string path = start;
  while (!path.empty()) {
    struct statfs fs {};
    if (::statfs(path.c_str(), &fs) == 0)
      return static_cast<unsigned long>(fs.f_type) == BPF_FS_MAGIC;
    auto slash = path.find_last_of('/');
    if (slash == std::string::npos) break;
    path = slash == 0 ? (path == "/" ? "" : "/") : path.substr(0, slash);
  }
  return false;
}

BpfStatus prepare_pin_root(const std::string& root, bool mount_bpffs) {
  namespace fs = std::filesystem;
  if (root.empty() || root.front() != '/')
    return plain_error("pin root '" + root + "' is not an absolute path");
  std::error_code ec;
  if (!on_bpffs(root)) {
    bool under_default =
        root == kBpffsDefault || root.starts_with(std::string(kBpffsDefault) + "/");
    if (!mount_bpffs || !under_default || !fs::is_directory(kBpffsDefault, ec))
      return plain_error("pin root " + root +
                         " is not on a BPF filesystem (mount one: mount -t bpf bpf /sys/fs/bpf)");
    if (::mount("bpf", kBpffsDefault, "bpf", 0, "mode=0700") != 0)
      return os_error("mount bpffs on /sys/fs/bpf", errno);
    log_line(LogLevel::kInfo, std::string("bpf: mounted a BPF filesystem on ") + kBpffsDefault);
  }
  fs::create_directories(root, ec);
  if (ec) return plain_error("create pin root " + root + ": " + ec.message() +
                             " (the pin root must be creatable on a BPF filesystem)");
  ::chmod(root.c_str(), 0700);
  return {};
}

BpfResult<std::optional<uint32_t>> pinned_abi_version(const std::string& pin_root) {
  const std::string path = abi_pin(pin_root);
  UniqueFd fd(bpf_obj_get(path.c_str()));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::optional<uint32_t>{};
    return os_error("open pinned " + path, errno);
  }
  uint32_t zero = 0, version = 0;
  if (bpf_map_lookup_elem(fd.get(), &zero, &version) != 0) return os_error("read " + path, errno);
  return std::optional<uint32_t>{version};
}

BpfStatus record_abi_version(const std::string& pin_root) {
  const std::string path = abi_pin(pin_root);
  UniqueFd fd(bpf_obj_get(path.c_str()));
  if (!fd.valid()) {
    if (errno != ENOENT) return os_error("open pinned " + path, errno);
    fd.reset(bpf_map_create(BPF_MAP_TYPE_ARRAY, "gthulhu_abi", sizeof(uint32_t),
                            sizeof(uint32_t), 1, nullptr));
    if (!fd.valid()) return os_error("create the abi_version map", errno);
    // Another loader may pin its own at the same moment: either one is fine.
    if (bpf_obj_pin(fd.get(), path.c_str()) != 0 && errno != EEXIST)
      return os_error("pin " + path, errno);
  }
  uint32_t zero = 0, version = GTHULHU_ABI_VERSION;
  if (bpf_map_update_elem(fd.get(), &zero, &version, BPF_ANY) != 0)
    return os_error("write " + path, errno);
  return {};
}

BpfStatus require_current_abi(const std::string& pin_root) {
  auto version = pinned_abi_version(pin_root);
  if (!version) return version.error();
  if (*version == std::optional<uint32_t>{GTHULHU_ABI_VERSION}) return {};
  return plain_error("the maps pinned under " + pin_root + " have " + abi_name(*version) +
                     ", this build uses ABI version " + std::to_string(GTHULHU_ABI_VERSION) +
                     ": restart the agent of this version, which re-creates them");
}

BpfResult<ReconciledPins> reconcile_pins(const std::string& pin_root,
                                         const std::vector<PinnedMap>& maps,
                                         const char* owner) {
  auto version = pinned_abi_version(pin_root);
  if (!version) return version.error();
  const bool same_abi = *version == std::optional<uint32_t>{GTHULHU_ABI_VERSION};

  // Shared maps first: a refusal must come before any other pin was unlinked.
  std::vector<PinnedMap> ordered = maps;
  std::stable_partition(ordered.begin(), ordered.end(),
                        [](const PinnedMap& m) { return m.kind == PinKind::kShared; });
  ReconciledPins out;
  for (const PinnedMap& m : ordered) {
    const std::string name = bpf_map__name(m.map);
    const std::string path = pin_root + "/" + name;
    UniqueFd fd(bpf_obj_get(path.c_str()));
    if (!fd.valid()) {
      if (errno == ENOENT) continue;
      return os_error("open pinned " + path, errno);
    }
    auto info = map_info(fd.get(), path);
    if (!info) return info.error();
    const bpf_map_info& pinned = info->info;
    const bool layout_ok = same_layout(pinned, m.map);

    std::string mismatch;  // why the pin cannot be adopted as it is; empty: it can
    if (!same_abi) mismatch = "written with " + abi_name(*version);
    else if (!layout_ok) mismatch = "another layout";
    else if (m.kind == PinKind::kCache && pinned.max_entries != bpf_map__max_entries(m.map))
      mismatch = "another size";

    if (mismatch.empty()) {
      // Adopted: a pinned map keeps the size the first loader gave it.
      if (int err = bpf_map__set_max_entries(m.map, pinned.max_entries); err)
        return os_error("size " + name + " like its pin", err);
      out.reused.push_back(name);
      continue;
    }
    if (m.kind == PinKind::kShared) {
      std::string what = !same_abi
          ? "has " + abi_name(*version) + ", this build uses ABI version " +
                std::to_string(GTHULHU_ABI_VERSION) + " (its values may be laid out differently)"
          : "(key " + std::to_string(pinned.key_size) + " B, value " +
                std::to_string(pinned.value_size) + " B, flags " +
                std::to_string(pinned.map_flags) + ") does not match this build (key " +
                std::to_string(bpf_map__key_size(m.map)) + " B, value " +
                std::to_string(bpf_map__value_size(m.map)) + " B, flags " +
                std::to_string(bpf_map__map_flags(m.map)) + ")";
      return plain_error("pinned " + path + " " + what +
                         ": stop the scheduler and the agent, remove the old pins (rm -r " +
                         pin_root + "), and start the agent again; it re-creates the maps "
                         "and rewrites every policy");
    }
    log_line(LogLevel::kInfo, std::string(owner) + ": replacing pinned " + path + " (" + mismatch + ")");
    if (::unlink(path.c_str()) != 0) return os_error("unlink " + path, errno);
    out.replaced.push_back(name);
  }
  return out;
}

int possible_cpus() {
  static const int n = libbpf_num_possible_cpus();
  return n;
}

}  // namespace gthulhu::agent::bpf_support
