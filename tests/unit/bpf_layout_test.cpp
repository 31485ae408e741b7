// The C++ view of every struct that bpf/gthulhu_shared.h shares with the BPF programs
// must be the BPF compiler's: the agent reads and writes these bytes in maps and ring
// buffers. The table below is the C++ side (offsetof/sizeof, also fixed at compile
// time by static_assert); the test holds it against the BTF of the scheduler and
// tracker objects built into the agent, member by member, both ways: a member the BPF
// side has and the table lacks fails too (add it here when the header grows).
#include <gtest/gtest.h>

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/bpf/bpf_layout.h"

extern "C" {
#include "bpf/gthulhu_shared.h"
}

namespace {

struct CxxMember {
  const char* structure;
  const char* member;
  size_t offset;
  size_t size;
};

#define M(S, F) CxxMember{#S, #F, offsetof(S, F), sizeof(S::F)}

const std::vector<CxxMember>& cxx_members() {
  static const std::vector<CxxMember> members = {
      M(gthulhu_policy, policy_id), M(gthulhu_policy, priority), M(gthulhu_policy, slice_ns),
      M(gthulhu_policy, flags), M(gthulhu_policy, weight),

      M(gthulhu_policy_stats, cpu_time_ns), M(gthulhu_policy_stats, run_count),
      M(gthulhu_policy_stats, wait_time_ns), M(gthulhu_policy_stats, first_enqueues),
      M(gthulhu_policy_stats, wait_hist), M(gthulhu_policy_stats, nr_throttled),
      M(gthulhu_policy_stats, throttled_time_ns),

      M(gthulhu_sched_stats, nr_enqueues), M(gthulhu_sched_stats, nr_direct_dispatches),
      M(gthulhu_sched_stats, nr_policy_dispatches), M(gthulhu_sched_stats, nr_default_dispatches),
      M(gthulhu_sched_stats, nr_preemptions), M(gthulhu_sched_stats, nr_bounces),
      M(gthulhu_sched_stats, nr_failed_dispatches), M(gthulhu_sched_stats, nr_lag_clamps),
      M(gthulhu_sched_stats, nr_running), M(gthulhu_sched_stats, last_dispatch_ns),
      M(gthulhu_sched_stats, nr_starvation_rescues), M(gthulhu_sched_stats, nr_throttled),
      M(gthulhu_sched_stats, nr_throttled_tasks), M(gthulhu_sched_stats, nr_unthrottled_tasks),
      M(gthulhu_sched_stats, nr_idle_preemptions), M(gthulhu_sched_stats, nr_idle_dispatches),
      M(gthulhu_sched_stats, nr_local_picks), M(gthulhu_sched_stats, nr_remote_moves),

      M(gthulhu_cgroup_state, cgid), M(gthulhu_cgroup_state, active_sum),
      M(gthulhu_cgroup_state, counted_weight), M(gthulhu_cgroup_state, factor_at),
      M(gthulhu_cgroup_state, nr_active), M(gthulhu_cgroup_state, weight),
      M(gthulhu_cgroup_state, policy_factor), M(gthulhu_cgroup_state, policy_id),
      M(gthulhu_cgroup_state, idle), M(gthulhu_cgroup_state, throttled),
      M(gthulhu_cgroup_state, quota_ns), M(gthulhu_cgroup_state, period_ns),
      M(gthulhu_cgroup_state, period_end), M(gthulhu_cgroup_state, used_ns),
      M(gthulhu_cgroup_state, throttled_at), M(gthulhu_cgroup_state, nr_throttled),
      M(gthulhu_cgroup_state, throttled_time_ns),

      M(gthulhu_exit_info, exit_code), M(gthulhu_exit_info, kind), M(gthulhu_exit_info, valid),
      M(gthulhu_exit_info, timestamp_ns), M(gthulhu_exit_info, reason), M(gthulhu_exit_info, msg),

      M(gthulhu_sched_event, type), M(gthulhu_sched_event, reserved), M(gthulhu_sched_event, exit),

      M(gthulhu_proc, cgroup_id), M(gthulhu_proc, start_ns), M(gthulhu_proc, ppid),
      M(gthulhu_proc, exec_count), M(gthulhu_proc, comm),

      M(gthulhu_event, type), M(gthulhu_event, tgid), M(gthulhu_event, pid), M(gthulhu_event, ppid),
      M(gthulhu_event, cgroup_id), M(gthulhu_event, parent_cgroup_id),
      M(gthulhu_event, timestamp_ns), M(gthulhu_event, args_len), M(gthulhu_event, level),
      M(gthulhu_event, comm), M(gthulhu_event, args),

      M(gthulhu_tracker_stats, forks), M(gthulhu_tracker_stats, execs),
      M(gthulhu_tracker_stats, exits), M(gthulhu_tracker_stats, cgroup_mkdirs),
      M(gthulhu_tracker_stats, cgroup_rmdirs), M(gthulhu_tracker_stats, policies_inherited),
      M(gthulhu_tracker_stats, events_sent), M(gthulhu_tracker_stats, events_lost),
      M(gthulhu_tracker_stats, proc_table_full), M(gthulhu_tracker_stats, overrides_inherited),
      M(gthulhu_tracker_stats, policy_inherit_failed),
  };
  return members;
}
#undef M

const std::map<std::string, size_t>& cxx_sizes() {
  static const std::map<std::string, size_t> sizes = {
      {"gthulhu_policy", sizeof(gthulhu_policy)},
      {"gthulhu_policy_stats", sizeof(gthulhu_policy_stats)},
      {"gthulhu_sched_stats", sizeof(gthulhu_sched_stats)},
      {"gthulhu_cgroup_state", sizeof(gthulhu_cgroup_state)},
      {"gthulhu_exit_info", sizeof(gthulhu_exit_info)},
      {"gthulhu_sched_event", sizeof(gthulhu_sched_event)},
      {"gthulhu_proc", sizeof(gthulhu_proc)},
      {"gthulhu_event", sizeof(gthulhu_event)},
      {"gthulhu_tracker_stats", sizeof(gthulhu_tracker_stats)},
  };
  return sizes;
}

// What the wrappers rely on at compile time, whatever the BPF objects say.
static_assert(sizeof(gthulhu_policy) == 24 && offsetof(gthulhu_policy, slice_ns) == 8,
              "gthulhu_policy is 24 naturally aligned bytes");
static_assert(sizeof(gthulhu_sched_stats) % 8 == 0 && sizeof(gthulhu_policy_stats) % 8 == 0 &&
                  sizeof(gthulhu_tracker_stats) % 8 == 0,
              "per-CPU values are 8-byte strided and summed as __u64 words");
static_assert(offsetof(gthulhu_sched_event, exit) % 8 == 0, "exit info is 8-byte aligned");
static_assert(offsetof(gthulhu_event, comm) + GTHULHU_COMM_LEN == offsetof(gthulhu_event, args),
              "comm and args are contiguous, no padding between");

TEST(BpfLayout, CxxTableCoversEveryStructAndMemberOnce) {
  std::set<std::string> seen;
  for (const auto& m : cxx_members()) {
    EXPECT_TRUE(cxx_sizes().count(m.structure)) << m.structure;
    EXPECT_TRUE(seen.insert(std::string(m.structure) + "." + m.member).second) << m.member;
    EXPECT_LE(m.offset + m.size, cxx_sizes().at(m.structure)) << m.structure << "." << m.member;
  }
  for (const auto& [name, size] : cxx_sizes()) EXPECT_GT(size, 0u) << name;
}

TEST(BpfLayout, BpfObjectsBtfMatchesTheCxxView) {
#if GTHULHU_HAVE_AGENT_BPF
  std::vector<std::string> names;
  for (const auto& [name, size] : cxx_sizes()) names.push_back(name);
  std::string error;
  auto layouts = gthulhu::agent::bpf_object_struct_layouts(names, &error);
  ASSERT_TRUE(error.empty()) << error;

  std::set<std::string> found;
  for (const auto& s : layouts) {
    SCOPED_TRACE(s.object + " object, struct " + s.name);
    found.insert(s.name);
    EXPECT_EQ(s.size, cxx_sizes().at(s.name)) << "sizeof differs";
    std::map<std::string, const CxxMember*> cxx;
    for (const auto& m : cxx_members())
      if (s.name == m.structure) cxx[m.member] = &m;
    EXPECT_EQ(s.members.size(), cxx.size()) << "member count differs";
    for (const auto& m : s.members) {
      auto it = cxx.find(m.name);
      if (it == cxx.end()) {
        ADD_FAILURE() << "member " << m.name << " is in the BPF object's BTF but not in this "
                      << "test's table: add it (and check the agent's reader)";
        continue;
      }
      EXPECT_EQ(m.offset, it->second->offset) << "offset of " << m.name;
      EXPECT_EQ(m.size, it->second->size) << "size of " << m.name;
    }
  }
  // The BTF keeps the types of maps and globals; a map value struct missing from it
  // is no map value any more. Ring buffer records are only cast from reserved memory,
  // so the compiler keeps no BTF for them: the static_asserts and the table above (the
  // same header compiled here) are what holds them.
  const std::set<std::string> records = {"gthulhu_event", "gthulhu_sched_event"};
  for (const auto& name : names) {
    if (records.count(name)) continue;
    EXPECT_TRUE(found.count(name)) << name << " in no object's BTF";
  }
  std::printf("compared %zu struct layouts from the BPF objects' BTF (%zu structs)\n",
              layouts.size(), found.size());
#else
  GTEST_SKIP() << "built without the BPF objects (GTHULHU_BUILD_BPF=OFF): no BTF to compare";
#endif
}

}  // namespace
