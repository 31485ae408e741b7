// VM test: a process started in a policied cgroup, and one started in a child cgroup
// created after the policy was set, run under the policy from their first enqueue,
// with no user-space step between the fork and that enqueue. policy_stats[id]
// .first_enqueues counts the tasks whose very first enqueue already had the policy.
// Tasks are started with clone3(CLONE_INTO_CGROUP), as container runtimes do.
//
// Inheritance into the child cgroup is the tracker's job (bpf/tracker.bpf.c copies the
// parent's policy on cgroup_mkdir, before mkdir returns). When the tracker object is
// built, the test loads it on the same pin root (sharing policy_by_cgroup, as the agent
// does) and checks that the child's entry came from it; otherwise the test writes the
// child's entry itself, standing in for the tracker, and says so.
#include <unistd.h>

#include <cstring>
#include <string>

#include "tests/vm/sched_vm_util.h"

#ifdef GTHULHU_VM_HAVE_TRACKER
#include <bpf/libbpf.h>

#include "tracker.skel.h"

namespace {
// The tracker's tracepoint programs on the test's pin root (its iterators run on
// demand only and stay detached). nullptr and a message on failure.
tracker_bpf* start_tracker(const std::string& pin_root, std::string* error) {
  bpf_object_open_opts opts{};
  opts.sz = sizeof(opts);
  opts.pin_root_path = pin_root.c_str();
  tracker_bpf* skel = tracker_bpf__open_opts(&opts);
  if (!skel) {
    *error = std::string("open: ") + std::strerror(errno);
    return nullptr;
  }
  bpf_program* prog;
  bpf_object__for_each_program(prog, skel->obj) {
    if (std::strncmp(bpf_program__section_name(prog), "iter", 4) == 0)
      bpf_program__set_autoattach(prog, false);
  }
  if (int err = tracker_bpf__load(skel)) {
    *error = std::string("load: ") + std::strerror(-err);
  } else if (int err = tracker_bpf__attach(skel)) {
    *error = std::string("attach: ") + std::strerror(-err);
  } else {
    return skel;
  }
  tracker_bpf__destroy(skel);
  return nullptr;
}
}  // namespace
#endif

using namespace gthulhu;
using namespace gthulhu::vmtest;
using agent::SchedulerBpf;

namespace {

constexpr uint32_t kPolicyId = 21;
constexpr int kThreads = 8;

void body(Checker& c, const std::vector<std::string>&) {
  Cgroup pod("gthulhu-reach"), plain("gthulhu-reach-plain");
  if (!c.check(pod.ok() && plain.ok(), "cgroups created")) return;

  auto opts = test_options(c.name());
  remove_pin_root(opts.pin_root);
  SchedulerBpf sched(opts);
  sched.attach();
  c.check(SchedulerBpf::kernel_ops() == "gthulhu", "gthulhu attached");

  PolicyMap policies(sched.pin_path("policy_by_cgroup"));
  auto policy = make_policy(kPolicyId, 4);
  c.check(policies.set(pod.id(), policy), "policy %u set for cgroup %llu", kPolicyId,
          (unsigned long long)pod.id());

  // 1. A new process (plus its threads) started straight into the policied cgroup.
  auto before = sched.policy_stats(kPolicyId);
  auto before0 = sched.policy_stats(0);
  pid_t pid = spawn_worker(pod, {"threads", std::to_string(kThreads)});
  c.check(pid > 0 && wait_worker(pid) == 0, "process with %d threads ran in the pod cgroup",
          kThreads);
  auto after = sched.policy_stats(kPolicyId);
  uint64_t got = after.first_enqueues - before.first_enqueues;
  c.check(got >= 1 + kThreads,
          "policy %u first_enqueues +%llu (want >= %d: the process and its %d threads)",
          kPolicyId, (unsigned long long)got, 1 + kThreads, kThreads);
  c.check(after.run_count > before.run_count, "they ran under policy %u (%llu runs)", kPolicyId,
          (unsigned long long)(after.run_count - before.run_count));

  // 2. A child cgroup created after the policy was set gets the parent's entry from
  //    the tracker at mkdir.
#ifdef GTHULHU_VM_HAVE_TRACKER
  std::string tracker_error;
  tracker_bpf* tracker = start_tracker(opts.pin_root, &tracker_error);
  c.check(tracker != nullptr, "tracker loaded on the same pin root%s%s",
          tracker ? "" : ": ", tracker_error.c_str());
#else
  void* tracker = nullptr;
  c.info("tracker object not built: the test writes the child's entry in its place");
#endif
  Cgroup child("gthulhu-reach/container");
  if (!c.check(child.ok(), "child cgroup created (id %llu)", (unsigned long long)child.id()))
    return;
  gthulhu_policy got_policy{};
  bool inherited_by_tracker = policies.get(child.id(), &got_policy);
  if (tracker) {
    c.check(inherited_by_tracker && got_policy.policy_id == kPolicyId &&
                (got_policy.flags & GTHULHU_POLICY_INHERITED),
            "tracker copied policy %u to the child at mkdir (flags 0x%x), no user-space write",
            got_policy.policy_id, got_policy.flags);
  } else {
    auto inherited = policy;
    inherited.flags |= GTHULHU_POLICY_INHERITED;
    c.check(policies.set(child.id(), inherited),
            "child entry written by the test in the tracker's place (flags APPLY|INHERITED)");
  }
  before = sched.policy_stats(kPolicyId);
  pid = spawn_worker(child, {"threads", std::to_string(kThreads)});
  c.check(pid > 0 && wait_worker(pid) == 0, "process with %d threads ran in the child cgroup",
          kThreads);
  after = sched.policy_stats(kPolicyId);
  got = after.first_enqueues - before.first_enqueues;
  c.check(got >= 1 + kThreads, "policy %u first_enqueues +%llu from the child cgroup (want >= %d)",
          kPolicyId, (unsigned long long)got, 1 + kThreads);

  // 3. Control: the same start in an unpolicied cgroup counts under id 0 only.
  before = sched.policy_stats(kPolicyId);
  pid = spawn_worker(plain, {"threads", std::to_string(kThreads)});
  c.check(pid > 0 && wait_worker(pid) == 0, "process ran in the unpolicied cgroup");
  after = sched.policy_stats(kPolicyId);
  auto after0 = sched.policy_stats(0);
  c.check(after.first_enqueues == before.first_enqueues,
          "unpolicied start added nothing to policy %u", kPolicyId);
  c.check(after0.first_enqueues - before0.first_enqueues >= 1 + kThreads,
          "policy 0 (no policy) first_enqueues +%llu",
          (unsigned long long)(after0.first_enqueues - before0.first_enqueues));
  print_policy_stats(c.name(), kPolicyId, after);
  print_policy_stats(c.name(), 0, after0);
  print_sched_stats(c.name(), sched.sched_stats());
  sched.detach();
#ifdef GTHULHU_VM_HAVE_TRACKER
  if (tracker) tracker_bpf__destroy(tracker);
#endif
}

}  // namespace

int main(int argc, char** argv) { return test_main(argc, argv, "vm_sched_policy_reach", body); }
