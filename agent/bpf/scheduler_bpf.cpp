#include "agent/bpf/scheduler_bpf.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <thread>

#include "agent/bpf/bpf_support.h"
#include "gthulhu.skel.h"

namespace gthulhu::agent {

using namespace bpf_support;

namespace {

using GthulhuSkeleton = SkeletonPtr<gthulhu_bpf, gthulhu_bpf__destroy>;

constexpr const char* kStatePath = "/sys/kernel/sched_ext/state";
constexpr const char* kOpsPath = "/sys/kernel/sched_ext/root/ops";
constexpr const char* kOpsName = "gthulhu";
constexpr const char* kLinkPin = "gthulhu_link";

static_assert(sizeof(gthulhu_sched_stats) % 8 == 0, "per-CPU values are 8-byte strided");
static_assert(sizeof(gthulhu_policy_stats) % 8 == 0, "per-CPU values are 8-byte strided");

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

// The scheduler's interface reports errors as SchedulerError exceptions: the
// BpfError's message (operation, errno text, what to do, libbpf's lines).
[[noreturn]] void raise(const BpfError& e) { throw SchedulerError(e.message); }

[[noreturn]] void fail(const std::string& what, int err, const std::string& hint = {}) {
  raise(os_error(what, err, hint));
}

template <typename T>
T take(BpfResult<T> r) {
  if (!r) raise(r.error());
  return std::move(r).value();
}
void check(const BpfStatus& s) {
  if (!s) raise(s.error());
}

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
  if (auto btf = kernel_btf_present(); !btf) {
    s.reason = btf.error().message;
    return s;
  }
  if (!has_capability(kCapSysAdmin)) {
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
  GthulhuSkeleton skel;  // the one owner of the loaded object (none when adopted)
  bpf_link* link = nullptr;
  bool adopted = false;
  bool attached = false;
  // Map fds: borrowed from the skeleton, or owned (adopted instance).
  UniqueFd owned_sched_stats, owned_policy_stats, owned_sched_exit, owned_sched_events;
  int sched_stats_fd = -1, policy_stats_fd = -1, sched_exit_fd = -1, sched_events_fd = -1;
  uint32_t policy_stats_entries = 0;
  std::optional<gthulhu_exit_info> previous_exit;
  RingBufferPtr rb;
  const EventCallback* on_event = nullptr;
  int consumed = 0;

  std::string pin(std::string_view name) const {
    return opts.pin_root + "/" + std::string(name);
  }

  ~Impl() {
    rb.reset();
    if (link) {
      // Closing our fd only: the pinned link keeps the scheduler attached.
      bpf_link__disconnect(link);
      bpf_link__destroy(link);
    }
    skel.reset();
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

  // The running instance's maps are what they are: adopt them only at this ABI.
  check(require_current_abi(opts.pin_root));
  auto open_pinned = [&](const char* name, UniqueFd& owned, int& fd) {
    std::string path = pin(name);
    owned = UniqueFd(bpf_obj_get(path.c_str()));
    if (!owned.valid())
      fail("bpf_obj_get(" + path + ")", errno,
           "the running scheduler's maps must be pinned next to its link");
    fd = owned.get();
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
// reused by libbpf only if their definition matches (bpf_support::reconcile_pins).
// Policy maps keep their existing size and must match: they hold user data.
// Scheduler-owned maps whose layout or ABI changed (an upgrade) are replaced.
void SchedulerBpf::Impl::reconcile_pinned_maps() {
  (void)take(reconcile_pins(opts.pin_root,
                            {{skel->maps.policy_by_cgroup, PinKind::kShared},
                             {skel->maps.policy_by_tgid, PinKind::kShared},
                             {skel->maps.policy_stats, PinKind::kOwned},
                             {skel->maps.sched_stats, PinKind::kOwned},
                             {skel->maps.sched_exit, PinKind::kOwned},
                             {skel->maps.sched_events, PinKind::kOwned}},
                            "scheduler"));
}

void SchedulerBpf::Impl::open_and_load() {
  LibbpfLogCapture capture;
  bpf_object_open_opts open_opts{};
  open_opts.sz = sizeof(open_opts);
  open_opts.pin_root_path = opts.pin_root.c_str();
  skel.reset(gthulhu_bpf__open_opts(&open_opts));
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

  int err = gthulhu_bpf__load(skel.get());
  if (err)
    fail("loading the gthulhu BPF programs", err,
         "the verifier or BTF messages below say why; the kernel needs sched_ext and BTF");
  check(record_abi_version(opts.pin_root));
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
  if (int n = possible_cpus(); n <= 0) fail("libbpf_num_possible_cpus", n);

  SchedulerSupport sup = support();
  if (!sup.available) throw SchedulerError("sched_ext scheduler unavailable: " + sup.reason);
  check(prepare_pin_root(opts.pin_root, /*mount_bpffs=*/false));

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
      UniqueFd stale(bpf_obj_get(link_path.c_str()));
      if (stale.valid()) bpf_link_detach(stale.get());  // already disabled: nothing to undo
    }
    if (::unlink(link_path.c_str()) != 0) fail("unlink stale " + link_path, errno);
  } else if (running_ours) {
    throw SchedulerError("a gthulhu scheduler is attached but not pinned under " +
                         opts.pin_root + "; it belongs to another process or pin root");
  }

  // Why the previous instance ended, if one left its exit map behind.
  {
    UniqueFd fd(bpf_obj_get(impl_->pin("sched_exit").c_str()));
    if (fd.valid()) {
      gthulhu_exit_info info{};
      __u32 zero = 0;
      if (bpf_map_lookup_elem(fd.get(), &zero, &info) == 0 && info.valid) {
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
  LibbpfLogCapture capture;
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
  __u32 zero = 0;
  auto per_cpu = take(lookup_per_cpu<gthulhu_sched_stats>(impl_->sched_stats_fd, &zero,
                                                          "reading sched_stats"));
  // Counters add up; the last dispatch is the latest of any CPU.
  return sum_per_cpu(per_cpu, {offsetof(gthulhu_sched_stats, last_dispatch_ns)});
}

gthulhu_policy_stats SchedulerBpf::policy_stats(uint32_t policy_id) const {
  if (policy_id >= impl_->policy_stats_entries)
    throw SchedulerError("policy id " + std::to_string(policy_id) + " is beyond policy_stats (" +
                         std::to_string(impl_->policy_stats_entries) + " entries)");
  return sum_per_cpu(take(lookup_per_cpu<gthulhu_policy_stats>(
      impl_->policy_stats_fd, &policy_id, "reading policy_stats[" + std::to_string(policy_id) + "]")));
}

std::vector<PolicyStatsEntry> SchedulerBpf::active_policy_stats() const {
  std::vector<PolicyStatsEntry> out;
  const int ncpus = possible_cpus();
  auto add = [&](uint32_t id, const gthulhu_policy_stats* per_cpu) {
    gthulhu_policy_stats sum = sum_per_cpu(per_cpu, static_cast<size_t>(ncpus));
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
  int n = ring_buffer__poll(im.rb.get(), timeout_ms);
  im.on_event = nullptr;
  if (n < 0 && n != -EINTR) fail("ring_buffer__poll(sched_events)", n);
  return im.consumed;
}

int SchedulerBpf::events_fd() const {
  impl_->ensure_ring_buffer();
  return ring_buffer__epoll_fd(impl_->rb.get());
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
    rb.reset(ring_buffer__new(sched_events_fd, handle, this, nullptr));
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
  UniqueFd cg(::open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cg.valid()) return std::nullopt;
  gthulhu_cgroup_state st{};
  // Cgroup storage is looked up by an fd of the cgroup's directory.
  int cg_fd = cg.get();
  if (bpf_map_lookup_elem(bpf_map__fd(impl_->skel->maps.cgroup_states), &cg_fd, &st) != 0)
    return std::nullopt;
  return st;
}

}  // namespace gthulhu::agent
