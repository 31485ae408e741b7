// Host integration tests of the cgroup/process tracker (bpf/tracker.bpf.c through
// agent/bpf/tracker_bpf.h): real BPF programs on the host kernel, real cgroup v2
// directories laid out like kubelet's, real processes. Root only; they skip with the
// reason where BPF or cgroup2 is unavailable.
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fcntl.h>
#include <fstream>
#include <memory>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/bpf/pinned_policy_maps.h"
#include "agent/bpf/tracker_bpf.h"
#include "tests/integration/host_sandbox.h"

namespace gthulhu::agent {
namespace {

using namespace std::chrono_literals;
using test::CgroupTree;
using test::Child;
using test::Pipe;

// Pod and container names as kubelet/containerd create them (systemd and cgroupfs
// drivers); the pod UID's dashes become underscores in systemd slice names.
constexpr const char* kPodUid = "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d";
constexpr const char* kContainerId =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

std::string systemd_pod_slice() {
  std::string uid = kPodUid;
  std::replace(uid.begin(), uid.end(), '-', '_');
  return "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uid + ".slice";
}

std::string systemd_container_scope() {
  return systemd_pod_slice() + "/cri-containerd-" + kContainerId + ".scope";
}

std::string cgroupfs_container() {
  return std::string("kubepods/burstable/pod") + kPodUid + "/" + kContainerId;
}

gthulhu_policy make_policy(uint32_t id, int32_t priority, uint32_t flags) {
  gthulhu_policy p{};
  p.policy_id = id;
  p.priority = priority;
  p.slice_ns = 4'000'000;
  p.flags = flags;
  p.weight = gthulhu_weight_of(priority);
  return p;
}

bool same_policy(const gthulhu_policy& a, const gthulhu_policy& b) {
  return a.policy_id == b.policy_id && a.priority == b.priority && a.slice_ns == b.slice_ns &&
         a.flags == b.flags && a.weight == b.weight;
}

// What the test binary's own comm is (children that did not exec keep it).
std::string own_comm() {
  std::ifstream in("/proc/self/comm");
  std::string comm;
  std::getline(in, comm);
  return comm;
}

// The state of thread `tid` of process `pid` ('R', 'S', 'Z', ...), for waiting on a
// zombie leader. Test-side only: the agent itself never reads /proc.
char thread_state(pid_t pid, pid_t tid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= stat.size()) return '?';
  return stat[close_paren + 2];
}

class TrackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = TrackerBpf::unsupported_reason(); !why.empty()) GTEST_SKIP() << why;
    auto mount = test::cgroup2_mount();
    if (!mount) GTEST_SKIP() << "no cgroup2 mount on this host";
    if (auto why = test::ensure_bpffs(); !why.empty())
      GTEST_SKIP() << "no BPF filesystem for pins: " << why;
    cgroup2_ = *mount;
    tree_ = std::make_unique<CgroupTree>(cgroup2_);
    pins_ = std::make_unique<test::PinDir>();
    if (open_tracker_in_setup_) {
      tracker_ = open_tracker();
      ASSERT_NE(tracker_, nullptr);
      ASSERT_EQ(tracker_->start(), "");
    }
  }

  void TearDown() override {
    tracker_.reset();  // detach before the cgroups and pins go
    tree_.reset();
    pins_.reset();
  }

  TrackerOptions options() const {
    TrackerOptions o;
    o.pin_root = pins_->path();
    o.proc_table_entries = 65536;
    o.ring_buffer_bytes = 1u << 20;
    o.mount_bpffs = false;  // ensure_bpffs() did it, privately
    o.remove_pins_on_close = true;
    return o;
  }

  std::unique_ptr<TrackerBpf> open_tracker(const TrackerOptions& o) {
    std::string error;
    auto t = TrackerBpf::open(o, &error);
    EXPECT_NE(t, nullptr) << error;
    return t;
  }
  std::unique_ptr<TrackerBpf> open_tracker() { return open_tracker(options()); }

  // Polls until an event satisfying pred arrives (or was already seen).
  std::optional<TrackerEvent> wait_event(const std::function<bool(const TrackerEvent&)>& pred,
                                         std::chrono::milliseconds timeout = 5s) {
    for (const auto& e : seen_)
      if (pred(e)) return e;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::optional<TrackerEvent> found;
    while (!found && std::chrono::steady_clock::now() < deadline) {
      tracker_->poll(20ms, [&](const TrackerEvent& e) {
        seen_.push_back(e);
        if (!found && pred(e)) found = e;
      });
    }
    return found;
  }

  // Takes whatever events are waiting, for up to `quiet` without a new one.
  void drain(std::chrono::milliseconds quiet = 100ms) {
    while (tracker_->poll(quiet, [&](const TrackerEvent& e) { seen_.push_back(e); }) > 0) {
    }
  }

  std::vector<TrackerEvent> seen_for(uint32_t tgid) const {
    std::vector<TrackerEvent> out;
    for (const auto& e : seen_)
      if (e.tgid == tgid) out.push_back(e);
    return out;
  }

  bool open_tracker_in_setup_ = true;
  std::string cgroup2_;
  std::unique_ptr<CgroupTree> tree_;
  std::unique_ptr<test::PinDir> pins_;
  std::unique_ptr<TrackerBpf> tracker_;
  std::vector<TrackerEvent> seen_;
};

// A child that blocks until told to go, then exits 0.
Child blocked_child(const Pipe& go) {
  return Child::spawn([&go] { return go.recv() == 'g' ? 0 : 1; });
}

TEST_F(TrackerTest, ProcessMovedIntoContainerCgroupHasItsCgroupId) {
  std::string container = tree_->make(systemd_container_scope());
  uint64_t container_id = test::cgroup_id_of(container);

  Pipe go;
  Child child = blocked_child(go);
  auto before = tracker_->process(child.pid());
  ASSERT_TRUE(before.has_value()) << "fork not tracked";
  auto own_dir = test::own_cgroup2_dir();
  ASSERT_TRUE(own_dir.has_value());
  EXPECT_EQ(before->cgroup_id, test::cgroup_id_of(*own_dir));
  EXPECT_EQ(before->ppid, static_cast<uint32_t>(getpid()));
  EXPECT_EQ(before->comm, own_comm());

  // This process writes the child's pid: the attach tracepoint runs in our context,
  // the tracker must take the moved task from the tracepoint's argument.
  CgroupTree::move(container, child.pid());
  auto after = tracker_->process(child.pid());
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->cgroup_id, container_id);
  EXPECT_EQ(after->start_ns, before->start_ns);
  auto own = tracker_->process(getpid());
  ASSERT_TRUE(own.has_value());
  EXPECT_NE(own->cgroup_id, container_id) << "the writer must not have been moved";

  auto in_pod = tracker_->processes_in({container_id});
  ASSERT_EQ(in_pod.size(), 1u);
  EXPECT_EQ(in_pod[0].tgid, static_cast<uint32_t>(child.pid()));

  go.send('g');
  EXPECT_EQ(child.wait(), 0);
}

// clone3(CLONE_INTO_CGROUP) places the child directly (systemd and runc use it): no
// cgroup_attach_task event, so only the fork handler can see the right cgroup.
TEST_F(TrackerTest, Clone3IntoCgroupIsTrackedWithTheTargetCgroup) {
  std::string container = tree_->make(cgroupfs_container());
  uint64_t container_id = test::cgroup_id_of(container);
  int dir_fd = open(container.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir_fd, 0);

  struct {  // struct clone_args (linux/sched.h), CLONE_ARGS_SIZE_VER2
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
        set_tid, set_tid_size, cgroup;
  } args{};
  constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;
  args.flags = kCloneIntoCgroup;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<uint64_t>(dir_fd);

  Pipe go;
  long pid = syscall(SYS_clone3, &args, sizeof(args));
  if (pid == 0) {
    // Raw syscalls only in the raw clone3 child.
    char c = 0;
    while (syscall(SYS_read, go.read_fd(), &c, 1) < 0) {
    }
    syscall(SYS_exit_group, c == 'g' ? 0 : 1);
  }
  close(dir_fd);
  ASSERT_GT(pid, 0) << "clone3: " << strerror(errno);
  Child child(static_cast<pid_t>(pid));

  auto proc = tracker_->process(child.pid());
  ASSERT_TRUE(proc.has_value());
  EXPECT_EQ(proc->cgroup_id, container_id);
  EXPECT_EQ(proc->ppid, static_cast<uint32_t>(getpid()));

  go.send('g');
  EXPECT_EQ(child.wait(), 0);
  EXPECT_FALSE(tracker_->process(child.pid()).has_value());
}

TEST_F(TrackerTest, MkdirUnderPoliciedCgroupInheritsPolicyInKernel) {
  std::string pod = tree_->make(systemd_pod_slice());
  uint64_t pod_id = test::cgroup_id_of(pod);
  const gthulhu_policy policy =
      make_policy(7, 5, GTHULHU_POLICY_APPLY | GTHULHU_POLICY_WATCH_EXEC);
  ASSERT_EQ(tracker_->policy_maps().set_cgroup_policy(pod_id, policy), "");
  auto before = tracker_->stats();

  std::string container = tree_->make(systemd_container_scope());
  std::string nested = tree_->make(systemd_container_scope() + "/nested");
  std::string unpolicied = tree_->make("kubepods.slice/other");
  uint64_t container_id = test::cgroup_id_of(container);
  uint64_t nested_id = test::cgroup_id_of(nested);

  gthulhu_policy expected = policy;
  expected.flags |= GTHULHU_POLICY_INHERITED;
  for (uint64_t id : {container_id, nested_id}) {
    auto got = tracker_->policy_maps().cgroup_policy(id);
    ASSERT_TRUE(got.has_value()) << "cgroup " << id << " did not inherit";
    EXPECT_TRUE(same_policy(*got, expected));
  }
  EXPECT_FALSE(tracker_->policy_maps().cgroup_policy(test::cgroup_id_of(unpolicied)).has_value());
  auto after = tracker_->stats();
  EXPECT_EQ(after.policies_inherited - before.policies_inherited, 2u);
  EXPECT_EQ(after.policy_inherit_failed, 0u);
  EXPECT_GE(after.cgroup_mkdirs - before.cgroup_mkdirs, 3u);  // + kubepods.slice/other

  // The agent learns about the container cgroup from the event, with its pod path.
  auto mkdir = wait_event([&](const TrackerEvent& e) {
    return e.type == TrackerEvent::Type::kCgroupMkdir && e.cgroup_id == container_id;
  });
  ASSERT_TRUE(mkdir.has_value());
  EXPECT_EQ(mkdir->parent_cgroup_id, pod_id);
  EXPECT_EQ(mkdir->cgroup_path, tree_->kernel_path(container));
  EXPECT_EQ(mkdir->cgroup_name, std::string("cri-containerd-") + kContainerId + ".scope");
  EXPECT_EQ(mkdir->level,
            static_cast<uint32_t>(std::count(mkdir->cgroup_path.begin(), mkdir->cgroup_path.end(), '/')));

  // rmdir drops the entry and reports.
  ASSERT_EQ(rmdir(nested.c_str()), 0);
  EXPECT_FALSE(tracker_->policy_maps().cgroup_policy(nested_id).has_value());
  auto removed = wait_event([&](const TrackerEvent& e) {
    return e.type == TrackerEvent::Type::kCgroupRmdir && e.cgroup_id == nested_id;
  });
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(removed->parent_cgroup_id, container_id);
  EXPECT_EQ(removed->cgroup_name, "nested");
}

TEST_F(TrackerTest, ExecInWatchedCgroupReportsArgv) {
  std::string container = tree_->make(systemd_container_scope());
  uint64_t container_id = test::cgroup_id_of(container);
  ASSERT_EQ(tracker_->policy_maps().set_cgroup_policy(
                container_id, make_policy(3, 2, GTHULHU_POLICY_APPLY | GTHULHU_POLICY_WATCH_EXEC)),
            "");

  Pipe go;
  Child child = Child::spawn([&go] {
    if (go.recv() != 'g') return 1;
    const char* argv[] = {"true", "--gthulhu-marker", "two words", nullptr};
    execv("/bin/true", const_cast<char* const*>(argv));
    return 127;
  });
  CgroupTree::move(container, child.pid());
  go.send('g');
  EXPECT_EQ(child.wait(), 0);

  auto exec = wait_event([&](const TrackerEvent& e) {
    return e.type == TrackerEvent::Type::kExec && e.tgid == static_cast<uint32_t>(child.pid());
  });
  ASSERT_TRUE(exec.has_value()) << "no EXEC event";
  EXPECT_EQ(exec->cgroup_id, container_id);
  EXPECT_EQ(exec->comm, "true");
  EXPECT_EQ(exec->ppid, static_cast<uint32_t>(getpid()));
  EXPECT_EQ(exec->argv, (std::vector<std::string>{"true", "--gthulhu-marker", "two words"}));
  EXPECT_FALSE(exec->args_truncated);
  EXPECT_FALSE(exec->from_scan);
}

TEST_F(TrackerTest, LongCommandLineIsCutAndMarked) {
  std::string container = tree_->make(systemd_container_scope());
  uint64_t container_id = test::cgroup_id_of(container);
  ASSERT_EQ(tracker_->policy_maps().set_cgroup_policy(
                container_id, make_policy(3, 2, GTHULHU_POLICY_WATCH_EXEC)),
            "");
  std::string long_arg(400, 'x');
  Pipe go;
  Child child = Child::spawn([&] {
    if (go.recv() != 'g') return 1;
    const char* argv[] = {"true", long_arg.c_str(), nullptr};
    execv("/bin/true", const_cast<char* const*>(argv));
    return 127;
  });
  CgroupTree::move(container, child.pid());
  go.send('g');
  EXPECT_EQ(child.wait(), 0);
  auto exec = wait_event([&](const TrackerEvent& e) {
    return e.type == TrackerEvent::Type::kExec && e.tgid == static_cast<uint32_t>(child.pid());
  });
  ASSERT_TRUE(exec.has_value());
  ASSERT_EQ(exec->argv.size(), 2u);
  EXPECT_EQ(exec->argv[0], "true");
  EXPECT_EQ(exec->argv[1], std::string(GTHULHU_ARGS_LEN - 5, 'x'));
  EXPECT_TRUE(exec->args_truncated);
}

TEST_F(TrackerTest, ExecOutsideWatchedCgroupsSendsNothing) {
  std::string watched = tree_->make(systemd_container_scope());
  std::string applied_only = tree_->make("kubepods.slice/applied");
  std::string plain = tree_->make("kubepods.slice/plain");
  ASSERT_EQ(tracker_->policy_maps().set_cgroup_policy(
                test::cgroup_id_of(watched), make_policy(1, 0, GTHULHU_POLICY_WATCH_EXEC)),
            "");
  ASSERT_EQ(tracker_->policy_maps().set_cgroup_policy(
                test::cgroup_id_of(applied_only), make_policy(2, 4, GTHULHU_POLICY_APPLY)),
            "");

  // Two long-running execs where nobody watches; their comm still updates.
  auto sleeper = [](const Pipe& go) {
    return Child::spawn([&go] {
      if (go.recv() != 'g') return 1;
      const char* argv[] = {"sleep", "30", nullptr};
      execv("/bin/sleep", const_cast<char* const*>(argv));
      return 127;
    });
  };
  Pipe go_a, go_b, go_sentinel;
  Child a = sleeper(go_a);
  Child b = sleeper(go_b);
  CgroupTree::move(applied_only, a.pid());
  CgroupTree::move(plain, b.pid());
  go_a.send('g');
  go_b.send('g');
  for (pid_t pid : {a.pid(), b.pid()}) {
    ASSERT_TRUE(test::eventually([&] {
      auto p = tracker_->process(pid);
      return p && p->comm == "sleep";
    })) << "exec of " << pid << " not seen in proc_table";
    EXPECT_EQ(tracker_->process(pid)->exec_count, 1u);
  }

  // A sentinel exec in the watched cgroup happens after both: once its event is here,
  // any event for a or b would have been reserved earlier in the same ring.
  Child sentinel = Child::spawn([&go_sentinel] {
    if (go_sentinel.recv() != 'g') return 1;
    const char* argv[] = {"true", nullptr};
    execv("/bin/true", const_cast<char* const*>(argv));
    return 127;
  });
  CgroupTree::move(watched, sentinel.pid());
  go_sentinel.send('g');
  EXPECT_EQ(sentinel.wait(), 0);
  ASSERT_TRUE(wait_event([&](const TrackerEvent& e) {
                return e.type == TrackerEvent::Type::kExec &&
                       e.tgid == static_cast<uint32_t>(sentinel.pid());
              }).has_value());
  EXPECT_TRUE(seen_for(a.pid()).empty());
  EXPECT_TRUE(seen_for(b.pid()).empty());
}

// A child process that forks on command ('f': fork a grandchild that blocks, report its
// pid; 'q': quit). Used to fork from a process that has an override.
Child forking_child(const Pipe& commands, const Pipe& replies) {
  return Child::spawn([&commands, &replies] {
    std::vector<pid_t> kids;
    for (;;) {
      char c = commands.recv();
      if (c == 'f') {
        pid_t kid = fork();
        if (kid == 0) {
          pause();  // until SIGKILL
          _exit(0);
        }
        kids.push_back(kid);
        replies.send_u32(static_cast<uint32_t>(kid));
      } else if (c == 'r') {  // reap whatever exited
        while (waitpid(-1, nullptr, WNOHANG) > 0) {
        }
        replies.send_u32(0);
      } else {
        for (pid_t kid : kids) kill(kid, SIGKILL);
        return 0;
      }
    }
  });
}

TEST_F(TrackerTest, ForkInheritsProcessOverrideAndExitRemovesIt) {
  std::string container = tree_->make(systemd_container_scope());
  uint64_t container_id = test::cgroup_id_of(container);
  Pipe commands, replies;
  Child parent = forking_child(commands, replies);
  CgroupTree::move(container, parent.pid());

  const gthulhu_policy override = make_policy(11, 10, GTHULHU_POLICY_APPLY);
  ASSERT_EQ(tracker_->policy_maps().set_process_override(parent.pid(), override), "");
  auto before = tracker_->stats();

  commands.send('f');
  auto kid = replies.recv_u32_for(5s);
  ASSERT_TRUE(kid.has_value());
  auto copied = tracker_->policy_maps().process_override(*kid);
  ASSERT_TRUE(copied.has_value()) << "override not copied to the child";
  EXPECT_TRUE(same_policy(*copied, override));
  EXPECT_EQ(tracker_->stats().overrides_inherited - before.overrides_inherited, 1u);
  auto kid_proc = tracker_->process(*kid);
  ASSERT_TRUE(kid_proc.has_value());
  EXPECT_EQ(kid_proc->ppid, static_cast<uint32_t>(parent.pid()));
  EXPECT_EQ(kid_proc->cgroup_id, container_id);

  // A process without an override passes nothing on.
  EXPECT_FALSE(tracker_->policy_maps().process_override(getpid()).has_value());
  {
    Pipe go;
    Child plain = blocked_child(go);
    EXPECT_FALSE(tracker_->policy_maps().process_override(plain.pid()).has_value());
  }

  // The grandchild dies: its entry and override go, and the agent hears of it.
  ASSERT_EQ(kill(static_cast<pid_t>(*kid), SIGKILL), 0);
  auto exit = wait_event([&](const TrackerEvent& e) {
    return e.type == TrackerEvent::Type::kExit && e.tgid == *kid;
  });
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->cgroup_id, container_id);
  EXPECT_FALSE(tracker_->policy_maps().process_override(*kid).has_value());
  EXPECT_FALSE(tracker_->process(*kid).has_value());
  EXPECT_TRUE(tracker_->policy_maps().process_override(parent.pid()).has_value());

  commands.send('q');
  EXPECT_EQ(parent.wait(), 0);
  EXPECT_FALSE(tracker_->policy_maps().process_override(parent.pid()).has_value());
  EXPECT_FALSE(tracker_->process(parent.pid()).has_value());
}

// Threads share their process's entry; it goes only when the last thread exits,
// even when the leader exits first and stays a zombie.
TEST_F(TrackerTest, EntryStaysUntilTheLastThreadExits) {
  Pipe release, ready;
  Child child = Child::spawn([&release, &ready] {
    pthread_t thread;
    auto worker = [](void* arg) -> void* {
      auto* p = static_cast<Pipe*>(arg);
      p->recv();
      syscall(SYS_exit_group, 0);
      return nullptr;
    };
    if (pthread_create(&thread, nullptr, worker, const_cast<Pipe*>(&release)) != 0) return 2;
    ready.send('r');
    syscall(SYS_exit, 0);  // the leader thread alone
    return 3;
  });
  ASSERT_EQ(ready.recv_for(5s), 'r');
  ASSERT_TRUE(test::eventually([&] { return thread_state(child.pid(), child.pid()) == 'Z'; }))
      << "leader did not become a zombie";
  auto before = tracker_->stats();
  EXPECT_TRUE(tracker_->process(child.pid()).has_value())
      << "entry removed while a thread still runs";

  release.send('x');
  EXPECT_EQ(child.wait(), 0);
  EXPECT_FALSE(tracker_->process(child.pid()).has_value());
  EXPECT_GE(tracker_->stats().exits - before.exits, 1u);
}

TEST_F(TrackerTest, PinnedPolicyMapsReadAndWriteTheSameMaps) {
  std::string error;
  auto pinned = PinnedPolicyMaps::open(pins_->path(), &error);
  ASSERT_NE(pinned, nullptr) << error;
  const gthulhu_policy p = make_policy(5, -3, GTHULHU_POLICY_APPLY);

  ASSERT_EQ(pinned->set_cgroup_policy(4242, p), "");
  auto via_tracker = tracker_->policy_maps().cgroup_policy(4242);
  ASSERT_TRUE(via_tracker.has_value());
  EXPECT_TRUE(same_policy(*via_tracker, p));
  ASSERT_EQ(tracker_->policy_maps().set_process_override(4243, p), "");
  EXPECT_TRUE(pinned->process_override(4243).has_value());

  auto all = pinned->cgroup_policies();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].first, 4242u);
  EXPECT_EQ(pinned->process_overrides().size(), 1u);

  EXPECT_EQ(pinned->clear_cgroup_policy(4242), "");
  EXPECT_EQ(pinned->clear_cgroup_policy(4242), "") << "clearing twice is not an error";
  EXPECT_EQ(tracker_->policy_maps().clear_process_override(4243), "");
  EXPECT_TRUE(tracker_->policy_maps().cgroup_policies().empty());
  EXPECT_TRUE(pinned->process_overrides().empty());

  EXPECT_EQ(PinnedPolicyMaps::open(pins_->path() + "-missing", &error), nullptr);
  EXPECT_NE(error.find("policy_by_cgroup"), std::string::npos) << error;
}

// A burst of fork+exit from a process with an override: every child's exit is an
// event, and every counter accounts for each of them.
TEST_F(TrackerTest, ForkExitBurstLosesNothingAndCountersAddUp) {
  constexpr int kChildren = 2000;
  std::string container = tree_->make(systemd_container_scope());
  Pipe go, done;
  Child parent = Child::spawn([&go, &done] {
    if (go.recv() != 'g') return 1;
    for (int i = 0; i < kChildren; ++i) {
      pid_t kid = fork();
      if (kid == 0) _exit(0);
      if (kid < 0) return 2;
      waitpid(kid, nullptr, 0);
    }
    done.send('d');
    return go.recv() == 'q' ? 0 : 3;
  });
  CgroupTree::move(container, parent.pid());
  ASSERT_EQ(tracker_->policy_maps().set_process_override(
                parent.pid(), make_policy(9, 1, GTHULHU_POLICY_APPLY)),
            "");
  drain(20ms);
  seen_.clear();
  auto before = tracker_->stats();

  go.send('g');
  bool finished = false;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!finished && std::chrono::steady_clock::now() < deadline) {
    tracker_->poll(10ms, [&](const TrackerEvent& e) { seen_.push_back(e); });
    finished = done.recv_for(0ms).has_value();
  }
  ASSERT_TRUE(finished) << "burst did not finish";

  // Everything sent must be received: drain until the counts meet (other processes on
  // the host may add cgroup events meanwhile, so re-read a few times).
  gthulhu_tracker_stats after{};
  for (int round = 0; round < 20; ++round) {
    drain(50ms);
    after = tracker_->stats();
    if (after.events_sent - before.events_sent == seen_.size()) break;
  }
  size_t exits = 0;
  std::set<uint32_t> kids;
  for (const auto& e : seen_) {
    if (e.type == TrackerEvent::Type::kExit && e.ppid == static_cast<uint32_t>(parent.pid())) {
      ++exits;
      kids.insert(e.tgid);
    }
  }
  RecordProperty("events_sent", std::to_string(after.events_sent - before.events_sent));
  RecordProperty("forks", std::to_string(after.forks - before.forks));
  std::printf("burst: forks +%llu exits +%llu overrides_inherited +%llu events_sent +%llu "
              "events_lost +%llu proc_table_full +%llu, exit events of the children %zu\n",
              (unsigned long long)(after.forks - before.forks),
              (unsigned long long)(after.exits - before.exits),
              (unsigned long long)(after.overrides_inherited - before.overrides_inherited),
              (unsigned long long)(after.events_sent - before.events_sent),
              (unsigned long long)(after.events_lost - before.events_lost),
              (unsigned long long)(after.proc_table_full - before.proc_table_full), exits);

  EXPECT_EQ(after.events_lost - before.events_lost, 0u);
  EXPECT_EQ(after.proc_table_full - before.proc_table_full, 0u);
  EXPECT_EQ(after.policy_inherit_failed - before.policy_inherit_failed, 0u);
  EXPECT_EQ(after.events_sent - before.events_sent, seen_.size());
  EXPECT_EQ(after.overrides_inherited - before.overrides_inherited,
            static_cast<uint64_t>(kChildren));
  EXPECT_GE(after.forks - before.forks, static_cast<uint64_t>(kChildren));
  EXPECT_GE(after.exits - before.exits, static_cast<uint64_t>(kChildren));
  EXPECT_EQ(exits, static_cast<size_t>(kChildren));
  EXPECT_EQ(kids.size(), static_cast<size_t>(kChildren)) << "duplicate exit events";

  // Nothing of the children is left behind in the kernel tables.
  for (const auto& p : tracker_->processes()) EXPECT_EQ(kids.count(p.tgid), 0u);
  auto overrides = tracker_->policy_maps().process_overrides();
  ASSERT_EQ(overrides.size(), 1u);
  EXPECT_EQ(overrides[0].first, static_cast<uint32_t>(parent.pid()));

  go.send('q');
  EXPECT_EQ(parent.wait(), 0);
}

// A ring too small for the burst: what does not fit is counted, not silently gone.
TEST_F(TrackerTest, FullRingBufferCountsLostEvents) {
  tracker_.reset();
  TrackerOptions o = options();
  o.ring_buffer_bytes = 4096;  // one page: about ten records
  tracker_ = open_tracker(o);
  ASSERT_NE(tracker_, nullptr);
  ASSERT_EQ(tracker_->start(), "");

  constexpr int kChildren = 100;
  Pipe go, done;
  Child parent = Child::spawn([&go, &done] {
    if (go.recv() != 'g') return 1;
    for (int i = 0; i < kChildren; ++i) {
      pid_t kid = fork();
      if (kid == 0) _exit(0);
      waitpid(kid, nullptr, 0);
    }
    done.send('d');
    return 0;
  });
  ASSERT_EQ(tracker_->policy_maps().set_process_override(
                parent.pid(), make_policy(9, 1, GTHULHU_POLICY_APPLY)),
            "");
  drain(20ms);
  seen_.clear();
  auto before = tracker_->stats();
  go.send('g');
  ASSERT_EQ(done.recv_for(30s), 'd');  // nobody consumes meanwhile
  EXPECT_EQ(parent.wait(), 0);
  drain(50ms);
  auto after = tracker_->stats();

  size_t exits = 0;
  for (const auto& e : seen_)
    if (e.type == TrackerEvent::Type::kExit && e.ppid == static_cast<uint32_t>(parent.pid())) ++exits;
  uint64_t lost = after.events_lost - before.events_lost;
  uint64_t sent = after.events_sent - before.events_sent;
  std::printf("small ring: %zu exit events received, events_sent +%llu, events_lost +%llu\n", exits,
              (unsigned long long)sent, (unsigned long long)lost);
  EXPECT_GT(lost, 0u);
  EXPECT_LT(exits, static_cast<size_t>(kChildren));
  EXPECT_GE(exits + lost, static_cast<uint64_t>(kChildren));
  EXPECT_EQ(sent, seen_.size());
}

TEST_F(TrackerTest, ScanReportsArgvOfProcessesThatExecedBeforeTheWatch) {
  std::string container = tree_->make(systemd_container_scope());
  uint64_t container_id = test::cgroup_id_of(container);
  Pipe go;
  Child child = Child::spawn([&go] {
    if (go.recv() != 'g') return 1;
    const char* argv[] = {"sleep", "30", nullptr};
    execv("/bin/sleep", const_cast<char* const*>(argv));
    return 127;
  });
  CgroupTree::move(container, child.pid());
  go.send('g');
  ASSERT_TRUE(test::eventually([&] {
    auto p = tracker_->process(child.pid());
    return p && p->comm == "sleep";
  }));
  std::string error;
  EXPECT_TRUE(tracker_->scan_watched_execs(&error).empty()) << "nothing is watched yet";
  EXPECT_EQ(error, "");

  // The intent arrives after the container started.
  ASSERT_EQ(tracker_->policy_maps().set_cgroup_policy(
                container_id, make_policy(4, 3, GTHULHU_POLICY_APPLY | GTHULHU_POLICY_WATCH_EXEC)),
            "");
  auto records = tracker_->scan_watched_execs(&error);
  EXPECT_EQ(error, "");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].type, TrackerEvent::Type::kExec);
  EXPECT_TRUE(records[0].from_scan);
  EXPECT_EQ(records[0].tgid, static_cast<uint32_t>(child.pid()));
  EXPECT_EQ(records[0].cgroup_id, container_id);
  EXPECT_EQ(records[0].comm, "sleep");
  EXPECT_EQ(records[0].argv, (std::vector<std::string>{"sleep", "30"}));
}

TEST_F(TrackerTest, ScanCgroupsListsTheExistingTreeParentsFirst) {
  std::string container = tree_->make(systemd_container_scope());
  std::string other = tree_->make(cgroupfs_container());
  std::string error;
  auto records = tracker_->scan_cgroups(tree_->root(), &error);
  ASSERT_EQ(error, "");
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records[0].cgroup_id, test::cgroup_id_of(tree_->root()));

  std::map<std::string, TrackerEvent> by_path;
  std::set<uint64_t> seen_ids;
  for (const auto& r : records) {
    EXPECT_TRUE(r.from_scan);
    if (&r != &records[0]) {
      EXPECT_TRUE(seen_ids.count(r.parent_cgroup_id)) << r.cgroup_path;
    }
    seen_ids.insert(r.cgroup_id);
    by_path[r.cgroup_path] = r;
  }
  for (const std::string& dir : {container, other}) {
    std::string rel = dir.substr(tree_->root().size());
    ASSERT_TRUE(by_path.count(rel)) << rel;
    EXPECT_EQ(by_path[rel].cgroup_id, test::cgroup_id_of(dir));
  }
  // 1 root + 4 systemd levels + 4 cgroupfs levels
  EXPECT_EQ(records.size(), 9u);
}

// The tracker starts after the process: the task iterator must find it.
class TrackerSeedTest : public TrackerTest {
 protected:
  TrackerSeedTest() { open_tracker_in_setup_ = false; }
};

TEST_F(TrackerSeedTest, SeedingFindsProcessesThatStartedBefore) {
  std::string container = tree_->make(systemd_container_scope());
  Pipe go;
  Child child = blocked_child(go);
  CgroupTree::move(container, child.pid());

  tracker_ = open_tracker();
  ASSERT_NE(tracker_, nullptr);
  EXPECT_FALSE(tracker_->process(child.pid()).has_value()) << "not attached yet";
  ASSERT_EQ(tracker_->start(), "");

  auto proc = tracker_->process(child.pid());
  ASSERT_TRUE(proc.has_value()) << "pre-existing process not seeded";
  EXPECT_EQ(proc->cgroup_id, test::cgroup_id_of(container));
  EXPECT_EQ(proc->ppid, static_cast<uint32_t>(getpid()));
  EXPECT_EQ(proc->comm, own_comm());
  EXPECT_GT(proc->start_ns, 0u);
  EXPECT_TRUE(tracker_->process(getpid()).has_value());
  EXPECT_TRUE(tracker_->process(getppid()).has_value()) << "this test's parent";
  EXPECT_FALSE(tracker_->process(2).has_value()) << "kthreadd is a kernel thread";
  std::printf("seeded %zu processes\n", tracker_->processes().size());
  EXPECT_EQ(tracker_->stats().proc_table_full, 0u);

  go.send('g');
  EXPECT_EQ(child.wait(), 0);
  EXPECT_FALSE(tracker_->process(child.pid()).has_value());
}

// A restarted agent re-adopts the pinned maps: policies survive, what went stale while
// nothing was attached is dropped.
TEST_F(TrackerSeedTest, RestartReadoptsPinnedPoliciesAndDropsStaleState) {
  std::string container = tree_->make(systemd_container_scope());
  uint64_t container_id = test::cgroup_id_of(container);
  TrackerOptions keep = options();
  keep.remove_pins_on_close = false;
  const gthulhu_policy policy = make_policy(21, 6, GTHULHU_POLICY_APPLY);

  Pipe go_live, go_gone;
  Child live = blocked_child(go_live);
  Child gone = blocked_child(go_gone);
  {
    auto first = open_tracker(keep);
    ASSERT_NE(first, nullptr);
    ASSERT_EQ(first->start(), "");
    ASSERT_EQ(first->policy_maps().set_cgroup_policy(container_id, policy), "");
    ASSERT_EQ(first->policy_maps().set_process_override(live.pid(), policy), "");
    ASSERT_EQ(first->policy_maps().set_process_override(gone.pid(), policy), "");
  }
  // Nothing attached now: this exit is missed, leaving a stale override and entry.
  go_gone.send('g');
  EXPECT_EQ(gone.wait(), 0);
  for (const char* name : {"policy_by_cgroup", "policy_by_tgid", "proc_table", "tracker_stats"})
    EXPECT_EQ(access((pins_->path() + "/" + name).c_str(), F_OK), 0) << name << " not kept";

  TrackerOptions resized = options();
  resized.proc_table_entries = 32768;  // a pinned table of another size is replaced
  tracker_ = open_tracker(resized);
  ASSERT_NE(tracker_, nullptr);
  ASSERT_EQ(tracker_->start(), "");
  auto kept = tracker_->policy_maps().cgroup_policy(container_id);
  ASSERT_TRUE(kept.has_value());
  EXPECT_TRUE(same_policy(*kept, policy));
  EXPECT_TRUE(tracker_->policy_maps().process_override(live.pid()).has_value());
  EXPECT_FALSE(tracker_->policy_maps().process_override(gone.pid()).has_value());
  EXPECT_TRUE(tracker_->process(live.pid()).has_value());
  EXPECT_FALSE(tracker_->process(gone.pid()).has_value());

  // Same size: the pinned table itself is adopted, and emptied before seeding.
  tracker_.reset();
  EXPECT_NE(access((pins_->path() + "/policy_by_cgroup").c_str(), F_OK), 0)
      << "remove_pins_on_close";
}

TEST(TrackerSupport, UnprivilegedCallerGetsAClearReason) {
  if (geteuid() != 0) {
    EXPECT_NE(TrackerBpf::unsupported_reason(), "");
    return;
  }
  Pipe reply;
  Child child = Child::spawn([&reply] {
    if (setgid(65534) != 0 || setuid(65534) != 0) return 2;  // drops every capability
    std::string why = TrackerBpf::unsupported_reason();
    reply.send(why.find("root") != std::string::npos ? 'y' : 'n');
    return 0;
  });
  EXPECT_EQ(reply.recv_for(5s), 'y');
  EXPECT_EQ(child.wait(), 0);
}

}  // namespace
}  // namespace gthulhu::agent
