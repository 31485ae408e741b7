#pragma once
// Internal to agent/bpf/*.cpp (includes libbpf): what the scheduler and tracker
// wrappers share. One error type (BpfError in the common Result), one libbpf log
// hook, one capability probe, one pin-root check, one pin reconciliation (with the
// ABI version check), and one per-CPU sum. The rest of the agent never sees libbpf.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "common/result.h"

extern "C" {
#include "bpf/gthulhu_shared.h"
}

namespace gthulhu::agent::bpf_support {

// ---- errors -------------------------------------------------------------------------

struct BpfError {
  int code = 0;         // errno (positive) of the failed call; 0 when none
  std::string message;  // "<operation>: <errno text> (<what to do>)" + libbpf's lines
};
template <typename T>
using BpfResult = gthulhu::Result<T, BpfError>;
using BpfStatus = gthulhu::StatusOf<BpfError>;

// strerror of an errno or of a libbpf result (-errno).
std::string errno_text(int err);
// A failed call: "what: <errno text> (hint)", followed by the libbpf messages captured
// since the innermost LibbpfLogCapture began (verifier log, BTF mismatches).
BpfError os_error(const std::string& what, int err, const std::string& hint = {});
// A failure that is no syscall's (a layout mismatch, a refused option).
BpfError plain_error(std::string message);

// ---- libbpf's log ---------------------------------------------------------------------

// Where this layer's log lines go: the agent links bpf_log_spdlog.cpp (spdlog); the
// statically linked VM test binaries, which carry no spdlog, tests/vm/bpf_log_stderr.cpp.
enum class LogLevel { kDebug, kInfo, kWarn };
bool log_enabled(LogLevel level);
void log_line(LogLevel level, const std::string& line);

// Routes libbpf's messages to log_line() (warnings and info; debug only at debug level) and
// keeps the last lines for os_error. Installed once, by the first capture.
class LibbpfLogCapture {
 public:
  LibbpfLogCapture();
  ~LibbpfLogCapture();
  LibbpfLogCapture(const LibbpfLogCapture&) = delete;
  LibbpfLogCapture& operator=(const LibbpfLogCapture&) = delete;
};

// ---- can this process run BPF here ----------------------------------------------------

inline constexpr int kCapSysAdmin = 21;
inline constexpr int kCapPerfmon = 38;  // not in older <linux/capability.h>
inline constexpr int kCapBpf = 39;
bool has_capability(int cap);  // effective set, without libcap
// Kernel BTF at /sys/kernel/btf/vmlinux (CO-RE and struct_ops need it).
BpfStatus kernel_btf_present();
// The kernel lets this process create a map (capabilities can still be overridden by
// an LSM, seccomp or a container's sysctl).
BpfStatus probe_bpf_syscall();

// ---- the pin root -------------------------------------------------------------------

// The nearest existing ancestor of `path` (or the path) is on a BPF filesystem.
bool on_bpffs(const std::string& path);
// Makes `root` (absolute) a 0700 directory on a BPF filesystem. With mount_bpffs, a
// root under /sys/fs/bpf gets a BPF filesystem mounted there when none is (what systemd
// does at boot); otherwise a root off bpffs is an error that says how to mount one.
BpfStatus prepare_pin_root(const std::string& root, bool mount_bpffs);

// ---- pinned maps and the ABI version --------------------------------------------------

// What a map pinned by an earlier run holds, and so what to do when it does not fit.
enum class PinKind {
  kShared,  // policies shared by tracker and scheduler: a mismatch is refused
  kOwned,   // state of one object: replaced on a layout mismatch, else kept with its size
  kCache,   // rebuilt from the kernel: replaced on any mismatch, size included
};
struct PinnedMap {
  bpf_map* map;  // of an opened, not yet loaded object whose pin_root_path is the root
  PinKind kind;
};
struct ReconciledPins {
  std::vector<std::string> reused;    // map names libbpf will adopt
  std::vector<std::string> replaced;  // unlinked: created anew at load
};
// Before load: makes every existing pin of `maps` adoptable, so libbpf reuses it
// instead of failing. Pins written by another ABI version (GTHULHU_ABI_VERSION, see
// the abi_version pin) are never adopted silently: owned and cache maps are replaced,
// shared ones refused with a message saying what to do. `owner` names the caller in
// log lines ("tracker", "scheduler").
BpfResult<ReconciledPins> reconcile_pins(const std::string& pin_root,
                                         const std::vector<PinnedMap>& maps,
                                         const char* owner);
// After a successful load: records this build's ABI version in <pin_root>/abi_version.
BpfStatus record_abi_version(const std::string& pin_root);
// The ABI version recorded under pin_root; nullopt when no abi_version pin exists.
BpfResult<std::optional<uint32_t>> pinned_abi_version(const std::string& pin_root);
// Refuses pins of another ABI version (for processes that open pins without loading
// an object, PinnedPolicyMaps). No abi_version pin at all is refused too.
BpfStatus require_current_abi(const std::string& pin_root);
inline constexpr const char* kAbiPinName = "abi_version";

// ---- per-CPU maps -------------------------------------------------------------------

int possible_cpus();  // libbpf_num_possible_cpus(), cached; > 0 or the error (< 0)

// Every CPU's value of one key of a per-CPU map. T must be a whole number of 8-byte
// words: the kernel strides per-CPU values by 8 bytes.
template <typename T>
BpfResult<std::vector<T>> lookup_per_cpu(int fd, const void* key, const std::string& what) {
  static_assert(sizeof(T) % 8 == 0, "per-CPU values are 8-byte strided");
  int ncpus = possible_cpus();
  if (ncpus <= 0) return os_error("libbpf_num_possible_cpus", ncpus);
  std::vector<T> values(static_cast<size_t>(ncpus));
  if (bpf_map_lookup_elem(fd, key, values.data()) != 0) return os_error(what, errno);
  return values;
}

// Adds the per-CPU copies of a struct of __u64 counters field by field; the fields at
// `latest_offsets` (timestamps) take the maximum instead.
template <typename T>
T sum_per_cpu(const T* values, size_t count, std::initializer_list<size_t> latest_offsets = {}) {
  static_assert(sizeof(T) % sizeof(uint64_t) == 0 && std::is_trivially_copyable_v<T>,
                "summed as an array of __u64");
  constexpr size_t kWords = sizeof(T) / sizeof(uint64_t);
  uint64_t sum[kWords] = {};
  for (size_t c = 0; c < count; ++c) {
    uint64_t words[kWords];
    std::memcpy(words, &values[c], sizeof(words));
    for (size_t i = 0; i < kWords; ++i) {
      bool latest = false;
      for (size_t off : latest_offsets) latest |= off == i * sizeof(uint64_t);
      sum[i] = latest ? (words[i] > sum[i] ? words[i] : sum[i]) : sum[i] + words[i];
    }
  }
  T out;
  std::memcpy(&out, sum, sizeof(out));
  return out;
}
template <typename T>
T sum_per_cpu(const std::vector<T>& values, std::initializer_list<size_t> latest_offsets = {}) {
  return sum_per_cpu(values.data(), values.size(), latest_offsets);
}

// ---- owners -------------------------------------------------------------------------

// A file descriptor closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { int f = fd_; fd_ = -1; return f; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// The one owner of a skeleton: destroying it detaches its links and closes its maps.
template <typename Skel, void (*Destroy)(Skel*)>
struct SkeletonDeleter {
  void operator()(Skel* s) const { Destroy(s); }
};
template <typename Skel, void (*Destroy)(Skel*)>
using SkeletonPtr = std::unique_ptr<Skel, SkeletonDeleter<Skel, Destroy>>;

struct RingBufferDeleter {
  void operator()(ring_buffer* rb) const { ring_buffer__free(rb); }
};
using RingBufferPtr = std::unique_ptr<ring_buffer, RingBufferDeleter>;

}  // namespace gthulhu::agent::bpf_support
