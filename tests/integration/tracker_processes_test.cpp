// The agent's process source on a real node (agent/bpf/tracker_processes.h): a pod's
// processes come from the kernel's cgroup.procs of exactly its cgroups, named from the
// tracker's table, never from a walk of every process.
#include "agent/bpf/tracker_processes.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "agent/bpf/tracker_bpf.h"
#include "agent/cgroup_procs.h"
#include "tests/integration/host_sandbox.h"

namespace gthulhu::agent {
namespace {

using test::Child;
using test::Pipe;

std::vector<uint32_t> tgids(std::vector<ProcessInfo> procs) {
  std::vector<uint32_t> out;
  for (const auto& p : procs) out.push_back(p.tgid);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(TrackerProcesses, APodsProcessesComeFromItsOwnCgroups) {
  if (auto why = TrackerBpf::unsupported_reason(); !why.empty()) GTEST_SKIP() << why;
  auto mount = test::cgroup2_mount();
  if (!mount) GTEST_SKIP() << "no cgroup2 mount on this host";
  if (auto why = test::ensure_bpffs(); !why.empty()) GTEST_SKIP() << "no BPF filesystem: " << why;
  CgroupProcs probe(*mount);
  if (!probe.unavailable_reason().empty()) GTEST_SKIP() << probe.unavailable_reason();

  test::CgroupTree tree(*mount);
  test::PinDir pins;
  TrackerOptions o;
  o.pin_root = pins.path();
  o.proc_table_entries = 65536;
  o.ring_buffer_bytes = 1u << 20;
  o.mount_bpffs = false;
  o.remove_pins_on_close = true;
  std::string error;
  auto tracker = TrackerBpf::open(o, &error);
  ASSERT_NE(tracker, nullptr) << error;
  ASSERT_EQ(tracker->start(), "");

  const std::string a = tree.make("pod-a/ctr");
  const std::string b = tree.make("pod-b/ctr");
  const uint64_t a_id = test::cgroup_id_of(a), b_id = test::cgroup_id_of(b);
  Pipe go;
  auto blocked = [&go] { return go.recv() == 'g' ? 0 : 1; };
  Child in_a = Child::spawn(blocked);
  Child in_b1 = Child::spawn(blocked);
  Child in_b2 = Child::spawn(blocked);
  test::CgroupTree::move(a, in_a.pid());
  test::CgroupTree::move(b, in_b1.pid());
  test::CgroupTree::move(b, in_b2.pid());

  TrackerProcesses source(*tracker, *mount);
  auto only_a = source.processes_in({a_id});
  ASSERT_EQ(only_a.size(), 1u);
  EXPECT_EQ(only_a[0].tgid, static_cast<uint32_t>(in_a.pid()));
  EXPECT_EQ(only_a[0].cgroup_id, a_id);
  EXPECT_EQ(only_a[0].ppid, static_cast<uint32_t>(getpid()));
  EXPECT_FALSE(only_a[0].comm.empty());
  std::vector<uint32_t> want_b = {static_cast<uint32_t>(in_b1.pid()), static_cast<uint32_t>(in_b2.pid())};
  std::sort(want_b.begin(), want_b.end());
  EXPECT_EQ(tgids(source.processes_in({b_id})), want_b);
  EXPECT_EQ(source.processes_in({a_id, b_id}).size(), 3u);
  // The parent directories hold no process themselves (cgroup.procs is per cgroup).
  EXPECT_TRUE(source.processes_in({test::cgroup_id_of(tree.make("pod-a"))}).empty());

  in_a.kill_and_wait();
  EXPECT_TRUE(test::eventually([&] { return source.processes_in({a_id}).empty(); }));
  // A cgroup that no longer exists has no processes (and is not an error).
  const std::string gone = tree.make("pod-c");
  const uint64_t gone_id = test::cgroup_id_of(gone);
  ASSERT_EQ(::rmdir(gone.c_str()), 0);
  EXPECT_EQ(probe.pids_of(gone_id), std::optional<std::vector<uint32_t>>(std::vector<uint32_t>{}));
  go.send('g');
  go.send('g');
  EXPECT_EQ(in_b1.wait(), 0);
  EXPECT_EQ(in_b2.wait(), 0);
}

}  // namespace
}  // namespace gthulhu::agent
