#include "agent/bpf/tracker_bpf.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <unordered_map>

#include "agent/bpf/bpf_support.h"
#include "agent/bpf/map_dump.h"
#include "agent/bpf/pinned_policy_maps.h"
#include "tracker.skel.h"

namespace gthulhu::agent {

using namespace bpf_support;

namespace {

using TrackerSkeleton = SkeletonPtr<tracker_bpf, tracker_bpf__destroy>;

// The tracker's errors are strings at its interface (see tracker_bpf.h).
std::string errno_text(const std::string& what, int err, const std::string& hint = {}) {
  return os_error(what, err, hint).message;
}

uint32_t ring_size(uint32_t requested) {
  uint32_t page = static_cast<uint32_t>(sysconf(_SC_PAGESIZE));
  uint32_t size = page;
  while (size < requested && size < (1u << 30)) size <<= 1;
  return size;
}

std::string fixed_string(const char* chars, size_t max) { return std::string(chars, strnlen(chars, max)); }

TrackedProcess to_process(uint32_t tgid, const gthulhu_proc& p) {
  TrackedProcess out;
  out.tgid = tgid;
  out.ppid = p.ppid;
  out.cgroup_id = p.cgroup_id;
  out.start_ns = p.start_ns;
  out.exec_count = p.exec_count;
  out.comm = fixed_string(p.comm, sizeof(p.comm));
  return out;
}

}  // namespace

TrackerEvent decode_tracker_event(const gthulhu_event& raw) {
  TrackerEvent e;
  e.raw_type = raw.type;
  switch (raw.type) {
    case GTHULHU_EVENT_EXEC: e.type = TrackerEvent::Type::kExec; break;
    case GTHULHU_EVENT_EXIT: e.type = TrackerEvent::Type::kExit; break;
    case GTHULHU_EVENT_CGROUP_MKDIR: e.type = TrackerEvent::Type::kCgroupMkdir; break;
    case GTHULHU_EVENT_CGROUP_RMDIR: e.type = TrackerEvent::Type::kCgroupRmdir; break;
    default: e.type = TrackerEvent::Type::kUnknown; break;
  }
  e.tgid = raw.tgid;
  e.pid = raw.pid;
  e.ppid = raw.ppid;
  e.cgroup_id = raw.cgroup_id;
  e.parent_cgroup_id = raw.parent_cgroup_id;
  e.level = raw.level;
  e.timestamp_ns = raw.timestamp_ns;
  e.comm = fixed_string(raw.comm, sizeof(raw.comm));
  size_t len = raw.args_len < sizeof(raw.args) ? raw.args_len : sizeof(raw.args);

  if (e.type == TrackerEvent::Type::kExec) {
    // NUL-separated argv; a missing final NUL means the copy was cut.
    size_t start = 0;
    for (size_t i = 0; i < len; ++i) {
      if (raw.args[i] == '\0') {
        e.argv.emplace_back(raw.args + start, i - start);
        start = i + 1;
      }
    }
    if (start < len) {
      e.argv.emplace_back(raw.args + start, len - start);
      e.args_truncated = true;
    }
  } else if (e.type == TrackerEvent::Type::kCgroupMkdir ||
             e.type == TrackerEvent::Type::kCgroupRmdir) {
    // The full path starts with '/'; a bare leaf name (the path did not fit) never does.
    std::string text = fixed_string(raw.args, len);
    if (!text.empty() && text.front() == '/') {
      e.cgroup_path = text;
      e.cgroup_name = text.substr(text.rfind('/') + 1);
    } else {
      e.cgroup_name = text;
    }
  }
  return e;
}

struct TrackerBpf::Impl {
  TrackerOptions options;
  TrackerSkeleton skel;
  RingBufferPtr ring;
  std::unique_ptr<PinnedPolicyMaps> policy_maps;
  const EventHandler* handler = nullptr;
  std::exception_ptr handler_error;
  uint64_t malformed_records = 0;
  bool attached = false;

  ~Impl() {
    ring.reset();
    policy_maps.reset();
    skel.reset();  // detaches every link, closes maps
    if (options.remove_pins_on_close) remove_pins();
  }

  // Names of the maps pinned by name: libbpf puts them at <pin root>/<map name>.
  static constexpr std::array<const char*, 4> kPinned = {"policy_by_cgroup", "policy_by_tgid",
                                                         "proc_table", "tracker_stats"};

  void remove_pins() const {
    for (const char* name : kPinned) unlink((options.pin_root + "/" + name).c_str());
    // The ABI record goes with the last pin: the scheduler may still have its own.
    std::error_code ec;
    std::filesystem::directory_iterator it(options.pin_root, ec), end;
    bool only_abi = !ec;
    for (; !ec && it != end; it.increment(ec))
      if (it->path().filename() != kAbiPinName) only_abi = false;
    if (only_abi) unlink((options.pin_root + "/" + kAbiPinName).c_str());
    rmdir(options.pin_root.c_str());  // only if nothing else lives there
  }

  // Before load: makes every existing pin reusable (bpf_support::reconcile_pins).
  // Shared policy maps keep the size the first loader gave them and must match; the
  // tracker's own maps only cache kernel state and are replaced when they do not.
  // Sets *proc_table_reused when an old process table will be adopted.
  BpfStatus reconcile(bool* proc_table_reused) {
    auto pins = reconcile_pins(options.pin_root,
                               {{skel->maps.policy_by_cgroup, PinKind::kShared},
                                {skel->maps.policy_by_tgid, PinKind::kShared},
                                {skel->maps.proc_table, PinKind::kCache},
                                {skel->maps.tracker_stats, PinKind::kCache}},
                               "tracker");
    if (!pins) return pins.error();
    *proc_table_reused = false;
    for (const auto& name : pins->reused) *proc_table_reused |= name == "proc_table";
    return {};
  }

  // A table left from an earlier run may name processes that exited while nothing
  // was attached (and whose pids may be reused): start empty, seed() refills it.
  std::string clear_proc_table() const {
    int fd = bpf_map__fd(skel->maps.proc_table);
    std::vector<std::pair<uint32_t, gthulhu_proc>> entries;
    if (auto dumped = dump_hash_map(fd, &entries); !dumped) return dumped.error().message;
    for (const auto& [tgid, proc] : entries) bpf_map_delete_elem(fd, &tgid);
    return {};
  }

  // Runs an iterator program once and returns what it wrote.
  std::string run_iter(bpf_program* prog, union bpf_iter_link_info* link_info,
                       std::string* output) const {
    DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, opts);
    if (link_info) {
      opts.link_info = link_info;
      opts.link_info_len = sizeof(*link_info);
    }
    bpf_link* link = bpf_program__attach_iter(prog, link_info ? &opts : nullptr);
    if (!link) return errno_text("attach iterator " + std::string(bpf_program__name(prog)), errno);
    int fd = bpf_iter_create(bpf_link__fd(link));
    if (fd < 0) {
      int err = errno;
      bpf_link__destroy(link);
      return errno_text("create iterator", err);
    }
    std::string error;
    char buf[64 * 1024];
    for (;;) {
      ssize_t n = read(fd, buf, sizeof(buf));
      if (n > 0) {
        if (output) output->append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) error = errno_text("read iterator", errno);
      break;
    }
    close(fd);
    bpf_link__destroy(link);
    return error;
  }

  static std::vector<TrackerEvent> decode_records(const std::string& bytes) {
    std::vector<TrackerEvent> out;
    for (size_t off = 0; off + sizeof(gthulhu_event) <= bytes.size(); off += sizeof(gthulhu_event)) {
      gthulhu_event raw;
      std::memcpy(&raw, bytes.data() + off, sizeof(raw));
      out.push_back(decode_tracker_event(raw));
      out.back().from_scan = true;
    }
    return out;
  }

  static int on_sample(void* ctx, void* data, size_t size) {
    auto* self = static_cast<Impl*>(ctx);
    if (size < sizeof(gthulhu_event)) {
      ++self->malformed_records;
      return 0;
    }
    gthulhu_event raw;
    std::memcpy(&raw, data, sizeof(raw));
    try {
      if (self->handler) (*self->handler)(decode_tracker_event(raw));
    } catch (...) {
      // Never unwind through libbpf's C frames: stop here, rethrow from poll().
      self->handler_error = std::current_exception();
      return -ECANCELED;
    }
    return 0;
  }
};

TrackerBpf::TrackerBpf(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TrackerBpf::~TrackerBpf() = default;

std::string TrackerBpf::unsupported_reason() {
  if (auto btf = kernel_btf_present(); !btf) return "the tracker cannot run: " + btf.error().message;
  bool privileged = has_capability(kCapSysAdmin) ||
                    (has_capability(kCapBpf) && has_capability(kCapPerfmon));
  if (!privileged)
    return "the tracker needs root, or CAP_BPF + CAP_PERFMON, to load tracing programs "
           "(running as uid " + std::to_string(geteuid()) + " without them)";
  // Capabilities can still be overridden (LSM, seccomp, a container's sysctl): ask bpf().
  if (auto probe = probe_bpf_syscall(); !probe) return probe.error().message;
  return {};
}

std::unique_ptr<TrackerBpf> TrackerBpf::open(const TrackerOptions& options, std::string* error) {
  auto fail = [&](std::string why) -> std::unique_ptr<TrackerBpf> {
    spdlog::error("tracker: {}", why);
    if (error) *error = std::move(why);
    return nullptr;
  };
  LibbpfLogCapture capture;  // libbpf's own lines go into the errors below
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  // Until the maps are ours, a failure must not unlink pins another run still uses.
  impl->options.remove_pins_on_close = false;

  if (options.proc_table_entries == 0) return fail("proc_table_entries must be at least 1");
  if (auto root = prepare_pin_root(options.pin_root, options.mount_bpffs); !root)
    return fail(root.error().message);

  DECLARE_LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = options.pin_root.c_str());
  impl->skel.reset(tracker_bpf__open_opts(&open_opts));
  if (!impl->skel) return fail(errno_text("open tracker BPF object", errno));
  tracker_bpf* skel = impl->skel.get();

  if (int err = bpf_map__set_max_entries(skel->maps.proc_table, options.proc_table_entries); err)
    return fail(errno_text("size proc_table", err));
  if (int err = bpf_map__set_max_entries(skel->maps.tracker_events,
                                         ring_size(options.ring_buffer_bytes));
      err)
    return fail(errno_text("size tracker_events", err));

  bool proc_table_reused = false;
  if (auto pins = impl->reconcile(&proc_table_reused); !pins) return fail(pins.error().message);

  // Iterators run on demand (seed, scans), not at attach().
  bpf_program__set_autoattach(skel->progs.tk_seed, false);
  bpf_program__set_autoattach(skel->progs.tk_scan_exec, false);
  bpf_program__set_autoattach(skel->progs.tk_cgroups, false);

  if (int err = tracker_bpf__load(skel); err)
    return fail(errno_text("load tracker BPF object", err,
                           "the verifier or BTF messages below say why"));
  if (auto abi = record_abi_version(options.pin_root); !abi) return fail(abi.error().message);
  impl->options.remove_pins_on_close = options.remove_pins_on_close;

  if (proc_table_reused) {
    if (auto why = impl->clear_proc_table(); !why.empty()) return fail("clear proc_table: " + why);
  }

  impl->ring.reset(ring_buffer__new(bpf_map__fd(skel->maps.tracker_events), Impl::on_sample,
                                    impl.get(), nullptr));
  if (!impl->ring) return fail(errno_text("ring buffer", errno));

  int cgroup_fd = dup(bpf_map__fd(skel->maps.policy_by_cgroup));
  int tgid_fd = dup(bpf_map__fd(skel->maps.policy_by_tgid));
  impl->policy_maps = std::make_unique<PinnedPolicyMaps>(cgroup_fd, tgid_fd);
  if (cgroup_fd < 0 || tgid_fd < 0) return fail(errno_text("dup policy map fds", errno));

  spdlog::info("tracker: loaded, maps pinned under {} (proc_table {} entries, ring {} KiB)",
               options.pin_root, bpf_map__max_entries(skel->maps.proc_table),
               bpf_map__max_entries(skel->maps.tracker_events) / 1024);
  return std::unique_ptr<TrackerBpf>(new TrackerBpf(std::move(impl)));
}

std::string TrackerBpf::attach() {
  if (impl_->attached) return {};
  if (int err = tracker_bpf__attach(impl_->skel.get()); err)
    return errno_text("attach tracker programs", err);
  impl_->attached = true;
  return {};
}

std::string TrackerBpf::seed() {
  if (!impl_->attached)
    return "seed() before attach() would miss processes forked in between";
  if (auto why = impl_->run_iter(impl_->skel->progs.tk_seed, nullptr, nullptr); !why.empty())
    return why;

  // Overrides whose process is gone are leftovers of a run that was not attached when
  // the process exited; a reused pid must not inherit them.
  std::vector<std::pair<uint32_t, gthulhu_proc>> procs;
  if (auto dumped = dump_hash_map(bpf_map__fd(impl_->skel->maps.proc_table), &procs); !dumped)
    return "read proc_table: " + dumped.error().message;
  std::unordered_set<uint32_t> live;
  for (const auto& [tgid, proc] : procs) live.insert(tgid);
  size_t pruned = 0;
  for (const auto& [tgid, policy] : impl_->policy_maps->process_overrides()) {
    if (!live.contains(tgid) && impl_->policy_maps->clear_process_override(tgid).empty()) ++pruned;
  }
  spdlog::info("tracker: seeded, {} processes tracked, {} stale overrides dropped", procs.size(),
               pruned);
  return {};
}

std::string TrackerBpf::start() {
  if (auto why = attach(); !why.empty()) return why;
  return seed();
}

int TrackerBpf::poll(std::chrono::milliseconds timeout, const EventHandler& handler) {
  impl_->handler = &handler;
  impl_->handler_error = nullptr;
  // EXEC records wake us at once; the others are written without a wakeup (it is the
  // costliest part of emitting them) and are collected here when the wait ends.
  int n = ring_buffer__poll(impl_->ring.get(), static_cast<int>(timeout.count()));
  if (n >= 0 && !impl_->handler_error) {
    int more = ring_buffer__consume(impl_->ring.get());
    n = more < 0 ? more : n + more;
  }
  impl_->handler = nullptr;
  if (impl_->handler_error) std::rethrow_exception(std::exchange(impl_->handler_error, nullptr));
  return n;
}

int TrackerBpf::event_fd() const { return ring_buffer__epoll_fd(impl_->ring.get()); }

gthulhu_tracker_stats TrackerBpf::stats() const {
  uint32_t zero = 0;
  auto per_cpu = lookup_per_cpu<gthulhu_tracker_stats>(
      bpf_map__fd(impl_->skel->maps.tracker_stats), &zero, "read tracker_stats");
  if (!per_cpu) return {};  // counters are best effort; the map never goes away
  return sum_per_cpu(*per_cpu);
}

std::vector<TrackedProcess> TrackerBpf::processes() const {
  return processes_in({});
}

std::vector<TrackedProcess> TrackerBpf::processes_in(
    const std::unordered_set<uint64_t>& cgroup_ids) const {
  std::vector<std::pair<uint32_t, gthulhu_proc>> entries;
  if (auto dumped = dump_hash_map(bpf_map__fd(impl_->skel->maps.proc_table), &entries); !dumped)
    spdlog::warn("tracker: reading proc_table: {}", dumped.error().message);
  std::vector<TrackedProcess> out;
  out.reserve(cgroup_ids.empty() ? entries.size() : 0);
  for (const auto& [tgid, proc] : entries) {
    if (cgroup_ids.empty() || cgroup_ids.contains(proc.cgroup_id))
      out.push_back(to_process(tgid, proc));
  }
  return out;
}

std::optional<TrackedProcess> TrackerBpf::process(uint32_t tgid) const {
  gthulhu_proc proc{};
  if (bpf_map_lookup_elem(bpf_map__fd(impl_->skel->maps.proc_table), &tgid, &proc) != 0)
    return std::nullopt;
  return to_process(tgid, proc);
}

std::vector<TrackerEvent> TrackerBpf::scan_watched_execs(std::string* error) const {
  std::string bytes;
  if (auto why = impl_->run_iter(impl_->skel->progs.tk_scan_exec, nullptr, &bytes); !why.empty()) {
    if (error) *error = why;
    return {};
  }
  return Impl::decode_records(bytes);
}

std::vector<TrackerEvent> TrackerBpf::scan_cgroups(const std::string& cgroup_dir,
                                                   std::string* error) const {
  int dir_fd = ::open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    if (error) *error = errno_text("open " + cgroup_dir, errno);
    return {};
  }
  union bpf_iter_link_info link_info;
  std::memset(&link_info, 0, sizeof(link_info));
  link_info.cgroup.cgroup_fd = static_cast<uint32_t>(dir_fd);
  link_info.cgroup.order = BPF_CGROUP_ITER_DESCENDANTS_PRE;
  std::string bytes;
  std::string why = impl_->run_iter(impl_->skel->progs.tk_cgroups, &link_info, &bytes);
  close(dir_fd);
  if (!why.empty()) {
    if (error) *error = why;
    return {};
  }
  // Pre-order: a parent's record always comes before its children's.
  std::vector<TrackerEvent> records = Impl::decode_records(bytes);
  std::unordered_map<uint64_t, std::string> paths;
  for (size_t i = 0; i < records.size(); ++i) {
    TrackerEvent& r = records[i];
    if (i == 0) {
      r.cgroup_path = "";
    } else {
      auto parent = paths.find(r.parent_cgroup_id);
      r.cgroup_path = (parent != paths.end() ? parent->second : std::string("?")) + "/" + r.cgroup_name;
    }
    paths[r.cgroup_id] = r.cgroup_path;
  }
  return records;
}

std::vector<TrackerBpf::ProgramStats> TrackerBpf::program_stats() const {
  std::vector<ProgramStats> out;
  bpf_program* prog;
  bpf_object__for_each_program(prog, impl_->skel->obj) {
    int fd = bpf_program__fd(prog);
    if (fd < 0) continue;
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_prog_get_info_by_fd(fd, &info, &len) != 0) continue;
    out.push_back({bpf_program__name(prog), info.run_cnt, info.run_time_ns, info.verified_insns});
  }
  return out;
}

int TrackerBpf::enable_runtime_stats() {
  int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  return fd < 0 ? -errno : fd;
}

PolicyMaps& TrackerBpf::policy_maps() { return *impl_->policy_maps; }

const std::string& TrackerBpf::pin_root() const { return impl_->options.pin_root; }

}  // namespace gthulhu::agent
