#pragma once
// The agent's handle on the cgroup/process tracker (bpf/tracker.bpf.c). This class is
// the only code that touches the tracker's skeleton and libbpf; this header includes
// neither, so the rest of the agent builds without them.
//
// Lifecycle: open() loads the object and creates or re-adopts the maps pinned by name
// under the pin root (a restarted agent gets the same policy maps, shared with the
// scheduler); attach() starts the tracepoints; seed() fills the process table with the
// processes that existed before (a BPF task iterator: the agent never scans /proc).
// The destructor detaches every program; pins stay unless remove_pins_on_close.
//
// One tracker per pin root. poll() must be called from one thread at a time; the
// other methods are plain map syscalls and may be called from any thread.
// A process holding a tracker should not fork(): the child copies the ring buffer's
// page table entries (about 0.1 ms per MiB of ring on a VM). Start helpers with
// posix_spawn (CLONE_VM, nothing copied).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "agent/policy_maps.h"  // also brings bpf/gthulhu_shared.h

namespace gthulhu::agent {

struct TrackerOptions {
  std::string pin_root = GTHULHU_PIN_ROOT;
  // proc_table capacity (processes on the node). A pinned table of another size is
  // replaced: it only caches kernel state that seed() rebuilds.
  uint32_t proc_table_entries = 262144;
  // Ring buffer for events; rounded up to a power of two of at least one page.
  uint32_t ring_buffer_bytes = 4u << 20;
  // When the pin root lies under /sys/fs/bpf and no BPF filesystem is mounted there,
  // mount one (what systemd normally does at boot). Otherwise open() fails.
  bool mount_bpffs = true;
  // Unlink this tracker's pins (and the pin root, if then empty) on destruction.
  // For tests; a daemon keeps them so a restart re-adopts the policies.
  bool remove_pins_on_close = false;
};

// One entry of proc_table.
struct TrackedProcess {
  uint32_t tgid = 0;
  uint32_t ppid = 0;
  uint64_t cgroup_id = 0;  // cgroup v2 id (directory inode) of the process
  uint64_t start_ns = 0;   // boot-clock ns of its fork; tells apart reused pids
  uint32_t exec_count = 0; // execs seen while tracked
  std::string comm;
};

// A decoded struct gthulhu_event.
struct TrackerEvent {
  enum class Type { kExec, kExit, kCgroupMkdir, kCgroupRmdir, kUnknown };
  Type type = Type::kUnknown;
  uint32_t raw_type = 0;
  uint32_t tgid = 0;
  uint32_t pid = 0;
  uint32_t ppid = 0;
  uint64_t cgroup_id = 0;
  uint64_t parent_cgroup_id = 0;  // mkdir/rmdir
  uint32_t level = 0;             // mkdir/rmdir: depth below the cgroup2 root
  uint64_t timestamp_ns = 0;      // boot clock
  std::string comm;
  // kExec: the command line. args_truncated when it was longer than GTHULHU_ARGS_LEN
  // (the last element is then cut).
  std::vector<std::string> argv;
  bool args_truncated = false;
  // mkdir/rmdir: path relative to the cgroup2 mount ("/kubepods.slice/...") when it
  // fitted in the record, else empty; the leaf name is always set.
  std::string cgroup_path;
  std::string cgroup_name;
  // Produced by a scan of existing state (scan_watched_execs, scan_cgroups), not by
  // a live kernel event.
  bool from_scan = false;
};

// Pure decoding of one ring buffer record (exposed for unit tests).
TrackerEvent decode_tracker_event(const gthulhu_event& raw);

class TrackerBpf {
 public:
  // Empty when this process can run the tracker here, else a sentence saying why not
  // (no kernel BTF, no privileges, bpf() refused). Cheap; creates no pins.
  static std::string unsupported_reason();

  // Opens and loads the object, creating or re-adopting the pinned maps. nullptr on
  // failure, with the reason in *error.
  static std::unique_ptr<TrackerBpf> open(const TrackerOptions& options = {},
                                          std::string* error = nullptr);
  ~TrackerBpf();
  TrackerBpf(const TrackerBpf&) = delete;
  TrackerBpf& operator=(const TrackerBpf&) = delete;

  // Each returns an empty string on success, else the error.
  std::string attach();
  // Adds every live process missing from proc_table, then drops process overrides
  // whose process is gone (left from before a restart). Call after attach().
  std::string seed();
  // attach() then seed().
  std::string start();

  using EventHandler = std::function<void(const TrackerEvent&)>;
  // Waits up to timeout for events and hands each to handler (on this thread).
  // Returns the number handled, or -errno. Exceptions from handler propagate.
  // EXEC events end the wait at once; the others do not (waking the consumer costs
  // more than the rest of the tracker's work): they arrive when the wait ends, or
  // sooner once the ring is a quarter full. Poll with a timeout of what delay is
  // acceptable for cgroup and exit events (100 ms is typical).
  int poll(std::chrono::milliseconds timeout, const EventHandler& handler);
  // Readable (epoll) when urgent events are waiting, for the agent's own event loop;
  // call poll(0ms) when it is, and at least every acceptable delay otherwise.
  int event_fd() const;

  // The per-CPU counters summed.
  gthulhu_tracker_stats stats() const;

  std::vector<TrackedProcess> processes() const;
  std::vector<TrackedProcess> processes_in(const std::unordered_set<uint64_t>& cgroup_ids) const;
  std::optional<TrackedProcess> process(uint32_t tgid) const;

  // EXEC records (argv) of live processes whose cgroup has GTHULHU_POLICY_WATCH_EXEC,
  // for intents that arrive after their pod's processes started. Reads another
  // process's memory through the kernel (a sleepable BPF iterator), not /proc.
  std::vector<TrackerEvent> scan_watched_execs(std::string* error = nullptr) const;
  // One kCgroupMkdir record per cgroup v2 directory at or below cgroup_dir (a
  // directory on the cgroup2 mount), parents first, with cgroup_path filled in
  // relative to cgroup_dir's own path ("" for cgroup_dir itself).
  std::vector<TrackerEvent> scan_cgroups(const std::string& cgroup_dir,
                                         std::string* error = nullptr) const;

  // The kernel's per-program counters. run_count and run_time_ns only advance while
  // run-time accounting is on (sysctl kernel.bpf_stats_enabled=1, or the descriptor
  // from enable_runtime_stats() is open); verified_insns is the verifier's count.
  struct ProgramStats {
    std::string name;
    uint64_t run_count = 0;
    uint64_t run_time_ns = 0;
    uint64_t verified_insns = 0;
  };
  std::vector<ProgramStats> program_stats() const;
  // Turns run-time accounting on until the returned descriptor is closed (it adds a
  // little cost to every program run: for benchmarks and debugging). -errno on error.
  static int enable_runtime_stats();

  // policy_by_cgroup and policy_by_tgid, the maps the scheduler shares.
  PolicyMaps& policy_maps();

  const std::string& pin_root() const;

 private:
  struct Impl;
  explicit TrackerBpf(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gthulhu::agent
