#include "agent/bpf/scheduler_bpf.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "gthulhu.skel.h"

namespace gthulhu::agent {
namespace {

constexpr const char* kStatePath = "/sys/kernel/sched_ext/state";
constexpr const char* kOpsPath = "/sys/kernel/sched_ext/root/ops";
constexpr const char* kOpsName = "gthulhu";
constexpr const char* kLinkPin = "gthulhu_link";

static_assert(sizeof(gthulhu_sched_stats) % 8 == 0, "per-CPU values are 8-byte strided");
static_assert(sizeof(gthulhu_policy_stats) % 8 == 0, "per-CPU values are 8-byte strided");

std::string errno_text(int err) {
  if (err < 0) err = -err;
  return std::strerror(err);
}

std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (in) std::getline(in, line);
  return line;
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// libbpf reports the details of a failure (verifier log, BTF mismatches) through its
// print callback; keep the recent ones to put into the exception message.
class LibbpfLog {
 public:
  static LibbpfLog& instance() {
    static LibbpfLog log;
    return log;
  }
  void begin() {
    std::lock_guard<std::mutex> lock(mutex_);
    lines_.clear();
    if (depth_++ == 0) previous_ = libbpf_set_print(&LibbpfLog::print);
  }
  void end() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (--depth_ == 0) libbpf_set_print(previous_);
  }
  std::string tail() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out;
    for (const auto& l : lines_) out += "\n  libbpf: " + l;
    return out;
  }

 private:
  static int print(enum libbpf_print_level level, const char* fmt, va_list args) {
    if (level == LIBBPF_DEBUG) return 0;
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
      self.lines_.push_back(line);
      // The verifier's verdict is at the end of its log: keep the last lines.
      if (self.lines_.size() > 40) self.lines_.pop_front();
    }
    return n;
  }

  std::mutex mutex_;
  std::deque<std::string> lines_;
  libbpf_print_fn_t previous_ = nullptr;
  int depth_ = 0;
};

struct LogCapture {
  LogCapture() { LibbpfLog::instance().begin(); }
  ~LogCapture() { LibbpfLog::instance().end(); }
};

[[noreturn]] void fail(const std::string& what, int err, const std::string& hint = {}) {
  std::string msg = what + ": " + errno_text(err);
  if (!hint.empty()) msg += " (" + hint + ")";
  msg += LibbpfLog::instance().tail();
  throw SchedulerError(msg);
}

bool has_cap_sys_admin() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("CapEff:", 0) == 0) {
      unsigned long long caps = std::stoull(line.substr(7), nullptr, 16);
      return caps & (1ULL << 21);  // CAP_SYS_ADMIN
    }
  }
  return geteuid() == 0;
}

// The nearest existing ancestor of `path` (or path itself) is on a bpf filesystem.
bool on_bpffs(std::string path) {
  while (!path.empty()) {
    struct statfs fs;
    if (::statfs(path.c_str(), &fs) == 0) return fs.f_type == BPF_FS_MAGIC;
    auto slash = path.find_last_of('/');
    if (slash == std::string::npos) break;
    path = slash == 0 ? "/" : path.substr(0, slash);
  }
  return false;
}

void mkdir_p(const std::string& dir) {
  std::string partial;
  std::istringstream parts(dir);
  for (std::string part; std::getline(parts, part, '/');) {
    if (part.empty()) continue;
    partial += "/" + part;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST)
      fail("mkdir " + partial, errno, "the pin root must be creatable on a bpf filesystem");
  }
}

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd = o.fd;
      o.fd = -1;
    }
    return *this;
  }
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

bool map_info(int fd, bpf_map_info* info) {
  std::memset(info, 0, sizeof(*info));
  __u32 len = sizeof(*info);
  return bpf_map_get_info_by_fd(fd, info, &len) == 0;
}

// One jiffy: the coarse clocks advance once per tick, and report that as their
// resolution (works in containers, unlike reading CONFIG_HZ from /boot). 0 if absurd.
uint64_t detect_tick_ns() {
  timespec res{};
  if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) != 0 || res.tv_sec != 0) return 0;
  uint64_t ns = static_cast<uint64_t>(res.tv_nsec);
  return ns >= 1'000'000 && ns <= 10'000'000 ? ns : 0;  // HZ 100..1000
}


// The kernel's own BTF, read once: which sched_ext_ops members and scx_ops_flags the
// running kernel has. A struct_ops member the kernel lacks must be NULL at load
// (libbpf refuses it otherwise), so the optional callbacks are cleared there.
struct KernelOpsBtf {
  bool known = false;                 // vmlinux BTF was readable
  std::vector<std::string> members;   // sched_ext_ops members
  std::optional<uint64_t> has_cgroup_weight_flag;  // SCX_OPS_HAS_CGROUP_WEIGHT (6.12-6.1x)
  bool has(const std::string& m) const {
    return std::find(members.begin(), members.end(), m) != members.end();
  }
};

const KernelOpsBtf& kernel_ops_btf() {
  static const KernelOpsBtf info = [] {
    KernelOpsBtf k;
    btf* vmlinux = btf__load_vmlinux_btf();
    if (!vmlinux) return k;
    int id = btf__find_by_name_kind(vmlinux, "sched_ext_ops", BTF_KIND_STRUCT);
    if (id > 0) {
      k.known = true;
      const btf_type* t = btf__type_by_id(vmlinux, id);
      const struct btf_member* m = btf_members(t);
      for (int i = 0; i < btf_vlen(t); i++, m++)
        k.members.emplace_back(btf__name_by_offset(vmlinux, m->name_off));
    }
    int eid = btf__find_by_name_kind(vmlinux, "scx_ops_flags", BTF_KIND_ENUM64);
    if (eid <= 0) eid = btf__find_by_name_kind(vmlinux, "scx_ops_flags", BTF_KIND_ENUM);
    if (eid > 0) {
      const btf_type* t = btf__type_by_id(vmlinux, eid);
      for (int i = 0; i < btf_vlen(t); i++) {
        const char* name;
        uint64_t value;
        if (btf_is_enum64(t)) {
          const struct btf_enum64* e = btf_enum64(t) + i;
          name = btf__name_by_offset(vmlinux, e->name_off);
          value = btf_enum64_value(e);
        } else {
          const struct btf_enum* e = btf_enum(t) + i;
          name = btf__name_by_offset(vmlinux, e->name_off);
          value = static_cast<uint32_t>(e->val);
        }
        if (std::strcmp(name, "SCX_OPS_HAS_CGROUP_WEIGHT") == 0) k.has_cgroup_weight_flag = value;
      }
    }
    btf__free(vmlinux);
    return k;
  }();
  return info;
}

}  // namespace

std::string exit_kind_name(uint32_t kind) {
  switch (kind) {
    case 0: return "NONE";
    case 1: return "DONE";
    case 64: return "UNREG";
    case 65: return "UNREG_BPF";
    case 66: return "UNREG_KERN";
    case 67: return "SYSRQ";
    case 68: return "PARENT";
    case 69: return "PARENT_KILL";
    case 1024: return "ERROR";
    case 1025: return "ERROR_BPF";
    case 1026: return "ERROR_STALL";
    case 1027: return "ERROR_REENQ";
    case 1028: return "ERROR_RESCUE";
    default: return "KIND_" + std::to_string(kind);
  }
}

std::string SchedulerBpf::kernel_state() { return first_line(kStatePath); }
std::string SchedulerBpf::kernel_ops() { return first_line(kOpsPath); }

SchedulerSupport SchedulerBpf::support() {
  SchedulerSupport s;
  if (::access(kStatePath, F_OK) != 0) {
    s.reason = std::string("the running kernel has no sched_ext (") + kStatePath + ": " +
               errno_text(errno) + "); it needs Linux >= 6.12 with CONFIG_SCHED_CLASS_EXT=y";
    return s;
  }
  s.state = kernel_state();
  s.ops = kernel_ops();
  if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
    s.reason = "no kernel BTF (/sys/kernel/btf/vmlinux: " + errno_text(errno) +
               "); the kernel needs CONFIG_DEBUG_INFO_BTF=y";
    return s;
  }
  if (!has_cap_sys_admin()) {
    s.reason = "loading a sched_ext scheduler needs CAP_SYS_ADMIN (run the agent as root)";
    return s;
  }
  if (s.state != "disabled" && s.ops != kOpsName) {
    s.reason = "another sched_ext scheduler ('" + s.ops + "', state " + s.state +
               ") is attached; stop it first";
    return s;
  }
  s.available = true;
  return s;
}

struct SchedulerBpf::Impl {
  SchedulerOptions opts;
  gthulhu_bpf* skel = nullptr;
  bpf_link* link = nullptr;
  bool adopted = false;
  bool attached = false;
  // Map fds: borrowed from the skeleton, or owned (adopted instance).
  Fd owned_sched_stats, owned_policy_stats, owned_sched_exit, owned_sched_events;
  int sched_stats_fd = -1, policy_stats_fd = -1, sched_exit_fd = -1, sched_events_fd = -1;
  uint32_t policy_stats_entries = 0;
  int ncpus = 0;
  std::optional<gthulhu_exit_info> previous_exit;
  ring_buffer* rb = nullptr;
  const EventCallback* on_event = nullptr;
  int consumed = 0;

  std::string pin(std::string_view name) const {
    return opts.pin_root + "/" + std::string(name);
  }

  ~Impl() {
    if (rb) ring_buffer__free(rb);
    if (link) {
      // Closing our fd only: the pinned link keeps the scheduler attached.
      bpf_link__disconnect(link);
      bpf_link__destroy(link);
    }
    if (skel) gthulhu_bpf__destroy(skel);
  }

  void adopt(const std::string& link_path);
  void open_and_load();
  void use_fds();
  void reconcile_pinned_maps();
  std::optional<gthulhu_exit_info> read_exit() const;
  void clear_exit() const;
  void ensure_ring_buffer();
};

std::optional<gthulhu_exit_info> SchedulerBpf::Impl::read_exit() const {
  if (sched_exit_fd < 0) return std::nullopt;
  gthulhu_exit_info info{};
  __u32 zero = 0;
  if (bpf_map_lookup_elem(sched_exit_fd, &zero, &info) != 0 || !info.valid) return std::nullopt;
  info.reason[sizeof(info.reason) - 1] = '\0';
  info.msg[sizeof(info.msg) - 1] = '\0';
  return info;
}

void SchedulerBpf::Impl::clear_exit() const {
  gthulhu_exit_info info{};
  __u32 zero = 0;
  if (bpf_map_update_elem(sched_exit_fd, &zero, &info, BPF_ANY) != 0)
    fail("clearing the sched_exit map", errno);
}

// Take over a scheduler that an earlier agent attached and pinned.
void SchedulerBpf::Impl::adopt(const std::string& link_path) {
  link = bpf_link__open(link_path.c_str());
  if (!link) fail("bpf_link__open(" + link_path + ")", errno);
  bpf_link_info info{};
  __u32 len = sizeof(info);
  if (bpf_link_get_info_by_fd(bpf_link__fd(link), &info, &len) != 0)
    fail("bpf_link_get_info_by_fd(" + link_path + ")", errno);
  if (info.type != BPF_LINK_TYPE_STRUCT_OPS)
    throw SchedulerError(link_path + " is not a struct_ops link (type " +
                         std::to_string(info.type) + "); remove it");

  auto open_pinned = [&](const char* name, Fd& owned, int& fd) {
    std::string path = pin(name);
    owned = Fd(bpf_obj_get(path.c_str()));
    if (owned.fd < 0)
      fail("bpf_obj_get(" + path + ")", errno,
           "the running scheduler's maps must be pinned next to its link");
    fd = owned.fd;
  };
  open_pinned("sched_stats", owned_sched_stats, sched_stats_fd);
  open_pinned("policy_stats", owned_policy_stats, policy_stats_fd);
  open_pinned("sched_exit", owned_sched_exit, sched_exit_fd);
  open_pinned("sched_events", owned_sched_events, sched_events_fd);
  bpf_map_info mi;
  if (!map_info(policy_stats_fd, &mi)) fail("bpf_map_get_info_by_fd(policy_stats)", errno);
  policy_stats_entries = mi.max_entries;
  adopted = true;
  attached = true;
}

// Maps pinned by an earlier instance (or by the tracker, for the policy maps) are
// reused by libbpf only if their definition matches. Policy maps keep their existing
// size; scheduler-owned maps whose layout changed (an upgrade) are unpinned so the new
// definition wins. A policy map with another layout is an error: it holds user data.
void SchedulerBpf::Impl::reconcile_pinned_maps() {
  struct {
    bpf_map* map;
    const char* name;
    bool owned;
  } maps[] = {
      {skel->maps.policy_by_cgroup, "policy_by_cgroup", false},
      {skel->maps.policy_by_tgid, "policy_by_tgid", false},
      {skel->maps.policy_stats, "policy_stats", true},
      {skel->maps.sched_stats, "sched_stats", true},
      {skel->maps.sched_exit, "sched_exit", true},
      {skel->maps.sched_events, "sched_events", true},
  };
  for (auto& m : maps) {
    std::string path = pin(m.name);
    Fd fd(bpf_obj_get(path.c_str()));
    if (fd.fd < 0) {
      if (errno == ENOENT) continue;
      fail("bpf_obj_get(" + path + ")", errno);
    }
    bpf_map_info info;
    if (!map_info(fd.fd, &info)) fail("bpf_map_get_info_by_fd(" + path + ")", errno);
    bool same_layout = info.type == bpf_map__type(m.map) &&
                       info.key_size == bpf_map__key_size(m.map) &&
                       info.value_size == bpf_map__value_size(m.map);
    if (same_layout) {
      if (bpf_map__set_max_entries(m.map, info.max_entries) != 0)
        fail(std::string("bpf_map__set_max_entries(") + m.name + ")", errno);
      continue;
    }
    if (!m.owned)
      throw SchedulerError(path + " has another layout (key " + std::to_string(info.key_size) +
                           " B, value " + std::to_string(info.value_size) +
                           " B) than this build expects; remove it (its policies are lost "
                           "and the agent rewrites them)");
    if (::unlink(path.c_str()) != 0) fail("unlink " + path, errno);
  }
}

void SchedulerBpf::Impl::open_and_load() {
  LogCapture capture;
  bpf_object_open_opts open_opts{};
  open_opts.sz = sizeof(open_opts);
  open_opts.pin_root_path = opts.pin_root.c_str();
  skel = gthulhu_bpf__open_opts(&open_opts);
  if (!skel) fail("opening the gthulhu BPF object", errno);

  skel->rodata->slice_default_ns = opts.slice_default_ns;
  skel->rodata->slice_lag_ns = opts.slice_lag_ns;
  // A rescue after the watchdog fired would be too late: at most half its timeout.
  skel->rodata->starve_after_ns =
      std::min<uint64_t>(opts.starve_after_ns, uint64_t{opts.timeout_ms} * 1'000'000 / 2);
  skel->rodata->tick_ns = opts.tick_ns ? opts.tick_ns : detect_tick_ns();
  skel->struct_ops.gthulhu_ops->timeout_ms = opts.timeout_ms;
  // Callbacks this kernel does not know are cleared (their programs then do not load)
  // and reported by missing_callbacks(); the scheduler works without them.
  const auto& kbtf = kernel_ops_btf();
  if (kbtf.known) {
    auto* ops = skel->struct_ops.gthulhu_ops;
    // All of them exist only with CONFIG_EXT_GROUP_SCHED; the last two are newer.
    if (!kbtf.has("cgroup_init")) ops->cgroup_init = nullptr;
    if (!kbtf.has("cgroup_exit")) ops->cgroup_exit = nullptr;
    if (!kbtf.has("cgroup_move")) ops->cgroup_move = nullptr;
    if (!kbtf.has("cgroup_set_weight")) ops->cgroup_set_weight = nullptr;
    if (!kbtf.has("cgroup_set_bandwidth")) ops->cgroup_set_bandwidth = nullptr;
    if (!kbtf.has("cgroup_set_idle")) ops->cgroup_set_idle = nullptr;
    // 6.12-6.1x warn and ignore cpu.weight unless this flag says the ops implement it.
    if (kbtf.has_cgroup_weight_flag) ops->flags |= *kbtf.has_cgroup_weight_flag;
  }
  if (bpf_map__set_max_entries(skel->maps.policy_by_cgroup, opts.policy_map_entries) ||
      bpf_map__set_max_entries(skel->maps.policy_by_tgid, opts.policy_map_entries) ||
      bpf_map__set_max_entries(skel->maps.policy_stats, opts.policy_stats_entries))
    fail("sizing the policy maps", errno);
  // libbpf >= 1.5 would attach the struct_ops map in gthulhu_bpf__attach() on its own;
  // attach() does it explicitly so the link can be pinned.
  bpf_map__set_autoattach(skel->maps.gthulhu_ops, false);
  reconcile_pinned_maps();

  int err = gthulhu_bpf__load(skel);
  if (err)
    fail("loading the gthulhu BPF programs", err,
         "the verifier or BTF messages below say why; the kernel needs sched_ext and BTF");
  use_fds();
}

void SchedulerBpf::Impl::use_fds() {
  sched_stats_fd = bpf_map__fd(skel->maps.sched_stats);
  policy_stats_fd = bpf_map__fd(skel->maps.policy_stats);
  sched_exit_fd = bpf_map__fd(skel->maps.sched_exit);
  sched_events_fd = bpf_map__fd(skel->maps.sched_events);
  policy_stats_entries = bpf_map__max_entries(skel->maps.policy_stats);
}

SchedulerBpf::SchedulerBpf(SchedulerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->opts = std::move(options);
  auto& opts = impl_->opts;
  while (opts.pin_root.size() > 1 && opts.pin_root.back() == '/') opts.pin_root.pop_back();
  if (opts.timeout_ms == 0 || opts.timeout_ms > 30000)
    throw SchedulerError("timeout_ms must be 1..30000 (the kernel's watchdog limit), got " +
                         std::to_string(opts.timeout_ms));
  impl_->ncpus = libbpf_num_possible_cpus();
  if (impl_->ncpus <= 0) fail("libbpf_num_possible_cpus", impl_->ncpus);

  SchedulerSupport sup = support();
  if (!sup.available) throw SchedulerError("sched_ext scheduler unavailable: " + sup.reason);
  if (!on_bpffs(opts.pin_root))
    throw SchedulerError("pin root " + opts.pin_root +
                         " is not on a bpf filesystem (mount -t bpf bpf /sys/fs/bpf)");
  mkdir_p(opts.pin_root);

  std::string link_path = impl_->pin(kLinkPin);
  bool running_ours = sup.state == "enabled" && sup.ops == kOpsName;
  if (path_exists(link_path)) {
    if (running_ours) {
      if (!opts.adopt_running)
        throw SchedulerError("a gthulhu scheduler is already attached through " + link_path +
                             "; adopt it (adopt_running) or detach it first");
      impl_->adopt(link_path);
      return;
    }
    // The scheduler behind the pin is gone (an error exit, or someone else's
    // scheduler took over): drop the stale link, keep the maps. Detach it explicitly
    // first: on 6.12 the release of a struct_ops link unregisters whatever scheduler
    // is attached at that moment, and the last reference may drop asynchronously,
    // after our own attach.
    {
      Fd stale(bpf_obj_get(link_path.c_str()));
      if (stale.fd >= 0) bpf_link_detach(stale.fd);  // already disabled: nothing to undo
    }
    if (::unlink(link_path.c_str()) != 0) fail("unlink stale " + link_path, errno);
  } else if (running_ours) {
    throw SchedulerError("a gthulhu scheduler is attached but not pinned under " +
                         opts.pin_root + "; it belongs to another process or pin root");
  }

  // Why the previous instance ended, if one left its exit map behind.
  {
    Fd fd(bpf_obj_get(impl_->pin("sched_exit").c_str()));
    if (fd.fd >= 0) {
      gthulhu_exit_info info{};
      __u32 zero = 0;
      if (bpf_map_lookup_elem(fd.fd, &zero, &info) == 0 && info.valid) {
        info.reason[sizeof(info.reason) - 1] = '\0';
        info.msg[sizeof(info.msg) - 1] = '\0';
        impl_->previous_exit = info;
      }
    }
  }
  impl_->open_and_load();
}

SchedulerBpf::~SchedulerBpf() {
  if (impl_ && impl_->attached && impl_->opts.detach_on_destroy) {
    try {
      detach();
    } catch (const SchedulerError&) {
      // Destructors must not throw; the link is unpinned by then in every path
      // that reaches the kernel.
    }
  }
}

void SchedulerBpf::attach() {
  auto& im = *impl_;
  if (im.attached) return;
  if (!im.skel) throw SchedulerError("attach: the scheduler was not loaded");
  LogCapture capture;
  im.clear_exit();
  std::string state = kernel_state();
  if (state != "disabled")
    throw SchedulerError("attach: sched_ext state is '" + state + "' (scheduler '" +
                         kernel_ops() + "'); only one scheduler can be attached");

  im.link = bpf_map__attach_struct_ops(im.skel->maps.gthulhu_ops);
  if (!im.link) {
    int err = errno;
    std::string why;
    if (auto info = im.read_exit())
      why = "; the scheduler exited: " + exit_kind_name(info->kind) + " " + info->reason +
            (info->msg[0] ? std::string(": ") + info->msg : "");
    fail("bpf_map__attach_struct_ops(gthulhu_ops)" + why, err,
         "see dmesg for the kernel's sched_ext messages");
  }
  std::string link_path = im.pin(kLinkPin);
  if (int err = bpf_link__pin(im.link, link_path.c_str())) {
    bpf_link__destroy(im.link);  // not pinned: closing the link detaches the scheduler
    im.link = nullptr;
    fail("bpf_link__pin(" + link_path + ")", err,
         "without the pin the scheduler would stop with this process");
  }
  im.attached = true;

  // The kernel enables the scheduler before the attach returns; an ops.init failure
  // or an immediate error exit shows up here.
  state = kernel_state();
  if (state != "enabled") {
    std::string why = "state is '" + state + "'";
    if (auto info = im.read_exit())
      why += "; exit " + exit_kind_name(info->kind) + ": " + info->reason + " " + info->msg;
    throw SchedulerError("attach: the kernel did not enable gthulhu: " + why);
  }
}

void SchedulerBpf::detach(std::chrono::milliseconds wait) {
  auto& im = *impl_;
  if (!im.attached || !im.link) return;
  // Unpin first: a pinned link outlives every fd. Then detach explicitly (other
  // processes may hold fds of the link) and release ours.
  bpf_link__unpin(im.link);
  std::string link_path = im.pin(kLinkPin);
  if (path_exists(link_path)) ::unlink(link_path.c_str());
  int detach_err = bpf_link_detach(bpf_link__fd(im.link)) ? errno : 0;
  bpf_link__destroy(im.link);
  im.link = nullptr;
  im.attached = false;

  // Disabling runs in a kernel worker: done once gthulhu is no longer the attached
  // scheduler and ops.exit has recorded why.
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    std::string state = kernel_state();
    bool still_ours = state != "disabled" && kernel_ops() == kOpsName;
    if (!still_ours && im.read_exit()) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string msg = "detach: sched_ext state is still '" + state + "' after " +
                        std::to_string(wait.count()) + " ms";
      if (detach_err) msg += " (BPF_LINK_DETACH: " + errno_text(detach_err) + ")";
      throw SchedulerError(msg);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool SchedulerBpf::attached() const { return impl_->attached; }
bool SchedulerBpf::adopted() const { return impl_->adopted; }
const SchedulerOptions& SchedulerBpf::options() const { return impl_->opts; }
std::string SchedulerBpf::pin_path(std::string_view name) const { return impl_->pin(name); }

bool SchedulerBpf::running() const {
  return impl_->attached && kernel_state() == "enabled" && kernel_ops() == kOpsName &&
         !impl_->read_exit();
}

gthulhu_sched_stats SchedulerBpf::sched_stats() const {
  std::vector<gthulhu_sched_stats> per_cpu(impl_->ncpus);
  __u32 zero = 0;
  if (bpf_map_lookup_elem(impl_->sched_stats_fd, &zero, per_cpu.data()) != 0)
    fail("reading sched_stats", errno);
  gthulhu_sched_stats sum{};
  for (const auto& c : per_cpu) {
    sum.nr_enqueues += c.nr_enqueues;
    sum.nr_direct_dispatches += c.nr_direct_dispatches;
    sum.nr_policy_dispatches += c.nr_policy_dispatches;
    sum.nr_default_dispatches += c.nr_default_dispatches;
    sum.nr_preemptions += c.nr_preemptions;
    sum.nr_bounces += c.nr_bounces;
    sum.nr_failed_dispatches += c.nr_failed_dispatches;
    sum.nr_lag_clamps += c.nr_lag_clamps;
    sum.nr_running += c.nr_running;
    sum.nr_starvation_rescues += c.nr_starvation_rescues;
    sum.nr_throttled += c.nr_throttled;
    sum.nr_throttled_tasks += c.nr_throttled_tasks;
    sum.nr_unthrottled_tasks += c.nr_unthrottled_tasks;
    sum.nr_idle_preemptions += c.nr_idle_preemptions;
    sum.nr_idle_dispatches += c.nr_idle_dispatches;
    if (c.last_dispatch_ns > sum.last_dispatch_ns) sum.last_dispatch_ns = c.last_dispatch_ns;
  }
  return sum;
}

namespace {
void add_policy_stats(gthulhu_policy_stats& sum, const gthulhu_policy_stats& c) {
  sum.cpu_time_ns += c.cpu_time_ns;
  sum.run_count += c.run_count;
  sum.wait_time_ns += c.wait_time_ns;
  sum.first_enqueues += c.first_enqueues;
  for (int i = 0; i < GTHULHU_WAIT_HIST_BUCKETS; i++) sum.wait_hist[i] += c.wait_hist[i];
  sum.nr_throttled += c.nr_throttled;
  sum.throttled_time_ns += c.throttled_time_ns;
}
}  // namespace

gthulhu_policy_stats SchedulerBpf::policy_stats(uint32_t policy_id) const {
  if (policy_id >= impl_->policy_stats_entries)
    throw SchedulerError("policy id " + std::to_string(policy_id) + " is beyond policy_stats (" +
                         std::to_string(impl_->policy_stats_entries) + " entries)");
  std::vector<gthulhu_policy_stats> per_cpu(impl_->ncpus);
  if (bpf_map_lookup_elem(impl_->policy_stats_fd, &policy_id, per_cpu.data()) != 0)
    fail("reading policy_stats[" + std::to_string(policy_id) + "]", errno);
  gthulhu_policy_stats sum{};
  for (const auto& c : per_cpu) add_policy_stats(sum, c);
  return sum;
}

std::vector<PolicyStatsEntry> SchedulerBpf::active_policy_stats() const {
  std::vector<PolicyStatsEntry> out;
  const int ncpus = impl_->ncpus;
  auto add = [&](uint32_t id, const gthulhu_policy_stats* per_cpu) {
    gthulhu_policy_stats sum{};
    for (int c = 0; c < ncpus; c++) add_policy_stats(sum, per_cpu[c]);
    if (sum.run_count || sum.cpu_time_ns || sum.first_enqueues) out.push_back({id, sum});
  };
  // Batches of 64 ids keep the buffer small on many-CPU machines (a value is
  // 224 bytes per CPU) and the syscalls few; kernels without batch ops on arrays
  // fall back to one lookup per id.
  constexpr uint32_t kChunk = 64;
  std::vector<gthulhu_policy_stats> values(static_cast<size_t>(kChunk) * ncpus);
  std::vector<uint32_t> keys(kChunk);
  uint32_t next = 0;
  bool batched = true;
  for (uint32_t start = 0; batched && start < impl_->policy_stats_entries;) {
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    uint32_t count = kChunk;
    void* in = start == 0 ? nullptr : &next;
    int err = bpf_map_lookup_batch(impl_->policy_stats_fd, in, &next, keys.data(), values.data(),
                                   &count, &opts);
    if (err && errno != ENOENT) {
      if (start == 0 && (errno == EINVAL || errno == ENOTSUP || errno == EOPNOTSUPP)) {
        batched = false;
        break;
      }
      fail("reading policy_stats (batch)", errno);
    }
    for (uint32_t i = 0; i < count; i++) add(keys[i], &values[static_cast<size_t>(i) * ncpus]);
    start += count;
    if (err || count == 0) break;  // ENOENT: the last batch
  }
  if (batched) return out;

  out.clear();
  for (uint32_t id = 0; id < impl_->policy_stats_entries; id++) {
    if (bpf_map_lookup_elem(impl_->policy_stats_fd, &id, values.data()) != 0)
      fail("reading policy_stats[" + std::to_string(id) + "]", errno);
    add(id, values.data());
  }
  return out;
}

std::optional<gthulhu_exit_info> SchedulerBpf::exit_info() const { return impl_->read_exit(); }
std::optional<gthulhu_exit_info> SchedulerBpf::previous_exit() const {
  return impl_->previous_exit;
}

int SchedulerBpf::poll_events(int timeout_ms, const EventCallback& on_event) {
  auto& im = *impl_;
  im.ensure_ring_buffer();
  im.on_event = &on_event;
  im.consumed = 0;
  int n = ring_buffer__poll(im.rb, timeout_ms);
  im.on_event = nullptr;
  if (n < 0 && n != -EINTR) fail("ring_buffer__poll(sched_events)", n);
  return im.consumed;
}

int SchedulerBpf::events_fd() const {
  impl_->ensure_ring_buffer();
  return ring_buffer__epoll_fd(impl_->rb);
}

void SchedulerBpf::Impl::ensure_ring_buffer() {
  if (!rb) {
    auto handle = [](void* ctx, void* data, size_t size) -> int {
      auto* self = static_cast<Impl*>(ctx);
      gthulhu_sched_event ev{};
      std::memcpy(&ev, data, size < sizeof(ev) ? size : sizeof(ev));
      ev.exit.reason[sizeof(ev.exit.reason) - 1] = '\0';
      ev.exit.msg[sizeof(ev.exit.msg) - 1] = '\0';
      self->consumed++;
      if (self->on_event && *self->on_event) (*self->on_event)(ev);
      return 0;
    };
    rb = ring_buffer__new(sched_events_fd, handle, this, nullptr);
    if (!rb) fail("ring_buffer__new(sched_events)", errno);
  }
}

std::vector<std::string> SchedulerBpf::missing_callbacks() {
  std::vector<std::string> out;
  const auto& kbtf = kernel_ops_btf();
  if (!kbtf.known) return out;
  for (const char* cb : {GTHULHU_CGROUP_CALLBACKS})
    if (!kbtf.has(cb)) out.emplace_back(cb);
  return out;
}

std::optional<gthulhu_cgroup_state> SchedulerBpf::cgroup_state(const std::string& cgroup_dir) const {
  if (!impl_->skel) return std::nullopt;  // adopted: the storage map is not pinned
  Fd cg(::open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (cg.fd < 0) return std::nullopt;
  gthulhu_cgroup_state st{};
  // Cgroup storage is looked up by an fd of the cgroup's directory.
  if (bpf_map_lookup_elem(bpf_map__fd(impl_->skel->maps.cgroup_states), &cg.fd, &st) != 0)
    return std::nullopt;
  return st;
}

}  // namespace gthulhu::agent
