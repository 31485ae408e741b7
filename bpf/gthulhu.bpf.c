// SPDX-License-Identifier: GPL-2.0
/*
 * gthulhu: the sched_ext scheduler of the Gthulhu node agent.
 *
 * Weighted virtual-time scheduling with per-pod policies that the agent (and the
 * tracker, for cgroups created later) writes into BPF maps. Every decision is taken
 * here, per task, from the first enqueue of a new task on; user space only fills the
 * policy tables and reads statistics.
 *
 * Policy of a task, resolved whenever it is queued:
 *   policy_by_tgid[tgid]                 per-process override (commandRegex matches)
 *   else policy_by_cgroup[cgroup v2 id]  if the entry has GTHULHU_POLICY_APPLY
 *   else the default: priority 0, slice_default_ns, and the task's nice weight
 *        (1024 at nice 0) so unmanaged system tasks keep their usual relative shares.
 * weight = gthulhu_weight_of(priority) (1.25x per step); slice = the policy's slice_ns
 * clamped into [GTHULHU_SLICE_MIN_NS, GTHULHU_SLICE_MAX_NS], 0 = slice_default_ns.
 * The kernel ends slices on ticks only; kernel_slice() makes runs end at the tick
 * nearest the policy slice rather than at the first one after it.
 *
 * Virtual time: a task's vtime advances by runtime * 1024 / weight while it runs, and
 * queued tasks run in vtime order, so CPU-bound tasks share CPU time in proportion to
 * their weights. vtime_now follows the vtime of the tasks that start running in vtime
 * order, i.e. the queue minimum. Tasks run out of order (straight onto an idle CPU, by
 * preemption, rescued from starvation) do not move it: one far-ahead task would push
 * every sleeper and new task behind the queue. A task waking up from sleep is lifted
 * to at least vtime_now - slice_lag_ns, so sleeping earns at most slice_lag_ns of
 * credit. The lift is applied on wakeup only; applying it on every enqueue would also
 * lift runnable low-weight tasks and erase the weight differences.
 *
 * Queues: one vtime-ordered shared DSQ that every CPU consumes, and one vtime-ordered
 * DSQ per CPU for tasks that can run on that CPU only (so no CPU has to skip over
 * tasks it cannot take). ops.dispatch takes whichever head has the lower vtime, unless
 * the task whose slice just ended is lower still (it is not queued yet at that point):
 * then it keeps the CPU. Locality: when the shared head last ran on another CPU (moving
 * it takes that CPU's runqueue lock), a task already on this CPU (the one whose slice
 * ended, or a shared-queue task that last ran here) runs instead if it is at most one
 * slice ahead of the head in service (the lag bound, see pick_local_shared()); so
 * CPU-bound tasks stay where they ran, and no task gets more than a slice ahead of the
 * queue minimum. A waking task goes straight to an idle CPU's local DSQ when
 * select_cpu finds one.
 *
 * Wakeup preemption rule:
 *   A task whose priority is >= GTHULHU_PREEMPT_PRIORITY that wakes up and finds no
 *   idle CPU preempts one CPU in its affinity mask whose running task has a strictly
 *   lower priority: the CPU running the lowest priority, preferring the waker's own
 *   CPU on ties. The waker is inserted at the head of that CPU's local DSQ with
 *   SCX_ENQ_PREEMPT, which zeroes the running task's slice and kicks the CPU (the
 *   same effect as scx_bpf_kick_cpu(SCX_KICK_PREEMPT), but the waker is certain to be
 *   the task that runs next there). The preempted task is re-queued with its vtime
 *   unchanged, so it loses latency, not CPU share. Tasks below the threshold and
 *   waking tasks at equal or lower priority than every running task never preempt.
 *
 * Watchdog safety: every queued task is reachable by a CPU that can run it (per-CPU
 * DSQs only hold tasks allowed there when queued; a task moving between a per-CPU and
 * the shared DSQ is re-placed near vtime_now, see place_on_queue_change()), idle
 * CPUs are kicked when work is queued, and every CPU scans its queues every 100 ms
 * for tasks that have waited longer than starve_after_ns by the watchdog's own clock
 * (p->scx.runnable_at) and runs them ahead of vtime order: extreme weight ratios, or
 * a task whose affinity changed while queued, can otherwise wait seconds.
 * timeout_ms is the kernel watchdog's bound.
 *
 * The Kubernetes CPU contract (the cgroup CPU controller, as the kubelet sets it):
 *   cpu.weight  Hierarchical shares, flattened: a task's share of the machine is the
 *               product, level by level (root -> kubepods -> QoS slice -> pod ->
 *               container), of its entity's weight over the sum of the weights of the
 *               active entities beside it (runnable tasks of that cgroup and child
 *               cgroups with runnable tasks below), as the kernel's fair class does.
 *               A cgroup's entity weight is cpu.weight * 1024 / 100 (100 = one nice-0
 *               task), a task's is its nice weight. The sums change as tasks wake and
 *               sleep (ops.runnable/quiescent) and as weights change; the task's vtime
 *               advances by runtime / share, so busy cgroups share CPU time by weight.
 *   strategies  A policy on a cgroup multiplies that cgroup's entity weight by
 *               gthulhu_weight_of(priority) / 1024: it changes the pod's share among
 *               its siblings (inside what its parent, e.g. the QoS slice, is entitled
 *               to) and never what the parent gets. A per-process override
 *               (policy_by_tgid) multiplies the process's task weight inside its
 *               cgroup. Slices and the wakeup preemption rule apply as above.
 *   cpu.max     Quota per period, nested limits included: a run is charged to every
 *               cgroup on the task's path that has a quota; a cgroup whose quota is
 *               used up is throttled until its next period. Throttled tasks are parked
 *               on THROTTLED_DSQ (at enqueue, at a slice end, or by ops.tick mid-run)
 *               and put back by the first dispatch after a one-shot BPF timer marks a
 *               period end. Overrun (a run ends at a tick) is debt repaid from the next
 *               period, so the long-run rate is the quota. No strategy lifts it.
 *   cpu.idle    Tasks below an idle cgroup go to IDLE_DSQ, which a CPU consumes only
 *               when it has no other queued task; a normal task waking with no idle
 *               CPU kicks a CPU running an idle-class task. Idle CPUs run them fully.
 *   cpusets     Every insertion into a CPU's local DSQ is to a CPU in p->cpus_ptr
 *               (idle pick and preemption victims from the mask, pinned tasks only to
 *               their CPU); shared DSQs are consumed by the kernel only on CPUs the
 *               task may use.
 * Optional callbacks: cgroup_set_bandwidth (6.17) and cgroup_set_idle (7.1) do not
 * exist on older kernels; the loader clears them there and reports them missing.
 * The starvation bound above also covers parked and idle-class tasks, so neither a
 * deep throttle nor cpu.idle can trip the watchdog (at worst a task runs once per
 * starve_after_ns beyond its limit).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "gthulhu_shared.h"
#include "policy_maps.bpf.h"
#include "compat.bpf.h"

char _license[] SEC("license") = "GPL";

#define BPF_STRUCT_OPS(name, args...) SEC("struct_ops/" #name) BPF_PROG(name, ##args)
#define BPF_STRUCT_OPS_SLEEPABLE(name, args...) SEC("struct_ops.s/" #name) BPF_PROG(name, ##args)

#define ENOMEM 12
#define CLOCK_MONOTONIC 1
#define E2BIG 7

/* CPUs this object supports; init fails cleanly on a bigger machine. */
#define MAX_CPUS 1024

/* DSQ ids: user DSQs are any id without the built-in bit. CPU c has DSQ c. */
#define SHARED_DSQ (1ULL << 32)
#define IDLE_DSQ (SHARED_DSQ + 1)      /* cpu.idle tasks, vtime-ordered */
#define THROTTLED_DSQ (SHARED_DSQ + 2) /* tasks of throttled cgroups, FIFO */
#define CPU_DSQ(cpu) ((u64)(cpu))

/*
 * Shares are fixed point: SHARE_ONE is the whole machine. A task's effective weight
 * is share * nr_cpus, so a task entitled to exactly one CPU has VT_ONE and its vtime
 * advances as fast as the clock; vtime_charge() converts runtime to vtime.
 */
#define SHARE_ONE (1ULL << 20)
#define VT_ONE SHARE_ONE
#define EFF_W_MAX (1ULL << 40)
/* Cgroup levels the walks follow (cgroup v2 allows deeper; deeper levels are flattened into the 32nd). */
#define CGROUP_MAX_DEPTH 32
/* A cgroup's policy weight is re-read at most this often (policy maps change without callbacks). */
#define FACTOR_REFRESH_NS (10ULL * 1000 * 1000)
/* Parked tasks looked at per release pass. */
#define RELEASE_BATCH 256

/* Shared-DSQ tasks looked at for one that already sits on the dispatching CPU. */
#define LOCAL_SCAN_TASKS 8

/* The periodic queue scans run at most this often per CPU and look at this many tasks. */
#define STARVE_SCAN_INTERVAL_NS (100ULL * 1000 * 1000)
#define STARVE_SCAN_TASKS 128

/* Loader-set options (rodata, fixed at load; __u64 so the skeleton compiles). */
const volatile __u64 slice_default_ns = GTHULHU_SLICE_DEFAULT_NS;
const volatile __u64 slice_lag_ns = GTHULHU_SLICE_DEFAULT_NS;
const volatile __u64 starve_after_ns = 1000ULL * 1000 * 1000;
/* The kernel's tick (1s / CONFIG_HZ); 0 = unknown. See kernel_slice(). */
const volatile __u64 tick_ns = 0;

/* Internal state below is static: it stays out of the skeleton. */

/* Number of possible CPUs, from ops.init. */
static u32 nr_cpus;

/*
 * vtime of the most recent task to start running in vtime order. Updated racily from
 * every CPU: an error is bounded by one slice's charge and corrects itself at the
 * next run.
 */
static u64 vtime_now;

/* What each CPU runs, for the wakeup preemption rule (read across CPUs, racy by design). */
struct cpu_state {
	s32 priority;	      /* policy priority of the running task (or of a waker heading there) */
	u32 busy;	      /* 1 while a task of ours runs there */
	u64 last_starve_scan; /* when this CPU last scanned for starved tasks */
	u32 idle_class;	      /* 1 while a cpu.idle task runs there (a normal waker may kick it) */
	u32 pad;
	u64 cgid;	      /* cpu-controller cgroup of the task running there (0: none known) */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_CPUS);
	__type(key, u32);
	__type(value, struct cpu_state);
} cpu_states SEC(".maps");

/* Per-task context. */
struct task_ctx {
	u64 vtime;	   /* the task's virtual time */
	u64 runnable_at;   /* when it last became runnable or was re-queued; 0 = running */
	u64 started_at;	   /* when its current run started */
	u64 slice_ns;	   /* cached policy slice, already clamped */
	u32 policy_id;	   /* cached policy id (0 = unpolicied) */
	s32 priority;	   /* cached policy priority */
	u64 eff_w;	   /* cached effective weight: share of the machine * nr_cpus (VT_ONE = 1 CPU) */
	bool first_pending; /* forked while we were loaded and not queued yet */
	bool in_order;	    /* queued on a vtime DSQ: its run may advance vtime_now */
	bool idle_class;    /* below a cpu.idle cgroup */
	bool throttled;	    /* a cgroup on its path is out of quota (refreshed with the policy) */
	bool bw_limited;    /* some cgroup on its path has a quota: charge its runs */
	u64 last_dsq;	    /* the vtime DSQ it was last queued on (NO_DSQ: none yet) */
	u64 cgid;	    /* its cpu-controller cgroup (scx_bpf_task_cgroup), 0 = not known yet */
	u64 counted_cgid;   /* the cgroup whose active_sum holds counted_w (0: not counted) */
	u64 counted_w;	    /* the task weight added there while runnable */
	u64 bw_from;	    /* runtime before this point is already charged to quotas */
	u64 refreshed_at;   /* bpf_ktime of the last refresh_policy() (0: refresh at the next chance) */
};

#define NO_DSQ (~0ULL)

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ctx);
} task_ctxs SEC(".maps");

/* Per-policy statistics, indexed by policy_id (0 = tasks without a policy). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GTHULHU_MAX_POLICIES);
	__type(key, u32);
	__type(value, struct gthulhu_policy_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} policy_stats SEC(".maps");

/*
 * Global counters (one entry, per CPU; readers sum, except last_dispatch_ns: max):
 *   nr_enqueues           ops.enqueue calls (tasks that found no idle CPU at wakeup,
 *                         were preempted, used up their slice, or changed affinity)
 *   nr_direct_dispatches  tasks inserted straight into an idle CPU's local DSQ
 *   nr_policy_dispatches  tasks handed to a DSQ (any) while under a policy
 *   nr_default_dispatches tasks handed to a DSQ (any) without a policy
 *   nr_preemptions        wakeup preemptions done by the rule above
 *   nr_bounces            pinned tasks queued while on a CPU their (new) affinity
 *                         excludes, sent to the shared DSQ instead of that CPU's DSQ,
 *                         and tasks moved off a CPU's DSQ after their affinity changed
 *                         while queued (requeue_misplaced())
 *   nr_failed_dispatches  ops.dispatch saw queued tasks but could move none to its CPU
 *                         (another CPU took them first, or they may not run here)
 *   nr_lag_clamps         wakeups whose banked credit was capped at slice_lag_ns
 *   nr_running            1 on each CPU that is running one of our tasks right now
 *   last_dispatch_ns      time of this CPU's last ops.dispatch (scheduler liveness)
 *   nr_starvation_rescues tasks run ahead of vtime order after waiting starve_after_ns
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct gthulhu_sched_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sched_stats SEC(".maps");

/* Why the scheduler was unloaded; kept pinned so a restarted agent can read it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct gthulhu_exit_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sched_exit SEC(".maps");

/* Per-cgroup CPU controller state, see struct gthulhu_cgroup_state. */
struct {
	__uint(type, BPF_MAP_TYPE_CGRP_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct gthulhu_cgroup_state);
} cgroup_states SEC(".maps");

/* One-shot timer: the earliest end of a period in which some cgroup is throttled. */
struct release_timer {
	struct bpf_timer timer;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct release_timer);
} release_timers SEC(".maps");

/*
 * Active-sum updates of all cgroups take this lock (one level at a time, as in the
 * kernel's own tools/sched_ext/scx_flatcg): activation, deactivation and weight
 * changes race otherwise. Readers (the share walk) do not take it.
 */
#define private(name) SEC(".data." #name) __hidden __attribute__((aligned(8)))
private(CGW) struct bpf_spin_lock cgw_lock;

/* Set by the release timer, cleared by the dispatch that puts parked tasks back. */
static u64 release_pending;
/* When the release timer fires next (0: not armed). */
static u64 release_armed_at;
/* Parked tasks looked at by the current release pass. */
static u64 release_seen;
/* Set when a cgroup was throttled: its siblings' shares grew, rebase their queued tasks. */
static u64 rebase_pending;

/* Scheduler events for the agent (struct gthulhu_sched_event). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sched_events SEC(".maps");

static __always_inline bool vtime_before(u64 a, u64 b)
{
	return (s64)(a - b) < 0;
}

static __always_inline struct gthulhu_sched_stats *sched_stats_this_cpu(void)
{
	u32 zero = 0;

	return bpf_map_lookup_elem(&sched_stats, &zero);
}

static __always_inline struct gthulhu_policy_stats *policy_stats_of(u32 policy_id)
{
	return bpf_map_lookup_elem(&policy_stats, &policy_id);
}

static __always_inline struct task_ctx *task_ctx_of(struct task_struct *p)
{
	return bpf_task_storage_get(&task_ctxs, p, 0, 0);
}

static __always_inline struct cpu_state *cpu_state_of(s32 cpu)
{
	u32 idx = cpu;

	return bpf_map_lookup_elem(&cpu_states, &idx);
}

/* floor(log2(v)) for v > 0, without loops. */
static __always_inline u32 log2_u32(u32 v)
{
	u32 r, shift;

	r = (v > 0xffff) << 4;
	v >>= r;
	shift = (v > 0xff) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xf) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	return r | (v >> 1);
}

static __always_inline u32 log2_u64(u64 v)
{
	u32 hi = v >> 32;

	return hi ? log2_u32(hi) + 32 : log2_u32((u32)v);
}

/* Bucket i holds waits in [2^(i+9), 2^(i+10)) ns; the first and last are open. */
static __always_inline u32 wait_bucket(u64 wait_ns)
{
	u32 l = wait_ns ? log2_u64(wait_ns) : 0;

	if (l <= 9)
		return 0;
	l -= 9;
	return l < GTHULHU_WAIT_HIST_BUCKETS ? l : GTHULHU_WAIT_HIST_BUCKETS - 1;
}

/* Cgroup v2 id of @p: the id policy_by_cgroup is keyed by (the directory's inode). */
static __always_inline u64 task_cgroup_id(struct task_struct *p)
{
	return BPF_CORE_READ(p, cgroups, dfl_cgrp, kn, id);
}

static __always_inline u64 clamp_slice(u64 slice_ns)
{
	if (!slice_ns)
		return slice_default_ns;
	if (slice_ns < GTHULHU_SLICE_MIN_NS)
		return GTHULHU_SLICE_MIN_NS;
	if (slice_ns > GTHULHU_SLICE_MAX_NS)
		return GTHULHU_SLICE_MAX_NS;
	return slice_ns;
}

/*
 * The slice handed to the kernel for a policy slice. The kernel charges a running
 * task at each tick and ends its slice at the first tick that finds it used up, so a
 * task switched in at a tick (the usual case when CPU-bound tasks take turns) would
 * run slice + 1 tick. Asking for half a tick less ends the run at the tick nearest
 * the policy slice instead: on average the run is as long as the policy asked, for
 * any phase of the tick. Slices of half a tick or less are passed as they are.
 */
static __always_inline u64 kernel_slice(u64 slice_ns)
{
	u64 half_tick = tick_ns / 2;

	return slice_ns > half_tick ? slice_ns - half_tick : slice_ns;
}

static __always_inline u64 vtime_charge(u64 ns, u64 eff_w)
{
	return ns * VT_ONE / (eff_w ? eff_w : 1);
}

/* A policy's weight, bounded (entries come from user space). */
static __always_inline u32 policy_weight(struct gthulhu_policy *pol)
{
	s32 prio = pol->priority;
	u32 weight = pol->weight;

	if (prio < GTHULHU_PRIORITY_MIN)
		prio = GTHULHU_PRIORITY_MIN;
	if (prio > GTHULHU_PRIORITY_MAX)
		prio = GTHULHU_PRIORITY_MAX;
	if (weight < gthulhu_priority_weights[0] ||
	    weight > gthulhu_priority_weights[GTHULHU_PRIORITY_MAX - GTHULHU_PRIORITY_MIN])
		weight = gthulhu_weight_of(prio);
	return weight;
}

/*
 * Task weight inside its cpu-controller cgroup @cpu_cgid: nice weight (1024 at nice 0)
 * times a per-process override's weight / 1024. A policy on the task's own cgroup
 * counts here too when that cgroup has no cpu controller (so no entity weight of its
 * own to carry the policy): the task is then scaled inside the nearest cgroup that
 * has one, as without cgroup scheduling.
 */
static u64 task_entity_weight(struct task_struct *p, u64 cpu_cgid)
{
	struct gthulhu_policy *pol;
	u32 tgid = p->tgid;
	u64 w, dfl;

	/* p->scx.weight is the nice weight scaled to 100 at nice 0. */
	w = (u64)p->scx.weight * GTHULHU_WEIGHT_DEFAULT / 100;
	pol = bpf_map_lookup_elem(&policy_by_tgid, &tgid);
	if (!pol) {
		dfl = task_cgroup_id(p);
		if (dfl != cpu_cgid) {
			pol = bpf_map_lookup_elem(&policy_by_cgroup, &dfl);
			if (pol && !(pol->flags & GTHULHU_POLICY_APPLY))
				pol = NULL;
		}
	}
	if (pol)
		w = w * policy_weight(pol) / GTHULHU_WEIGHT_DEFAULT;
	return w ? w : 1;
}

static __always_inline struct gthulhu_cgroup_state *cg_state(struct cgroup *cgrp)
{
	return bpf_cgrp_storage_get(&cgroup_states, cgrp, 0, 0);
}

/* State of @cgrp's ancestor at @level (@cgrp itself at its own level). */
static struct gthulhu_cgroup_state *cg_state_at(struct cgroup *cgrp, u32 level)
{
	struct gthulhu_cgroup_state *cs;
	struct cgroup *anc;

	anc = bpf_cgroup_ancestor(cgrp, level);
	if (!anc)
		return NULL;
	cs = cg_state(anc);
	bpf_cgroup_release(anc);
	return cs;
}

/*
 * Entity weight of a cgroup among its siblings: cpu.weight in task units (100 ->
 * 1024) times its policy's weight / 1024; GTHULHU_CGROUP_WEIGHT_IDLE for cpu.idle.
 * The policy is re-read every FACTOR_REFRESH_NS: user space changes policy_by_cgroup
 * without any callback.
 */
static u64 cg_entity_weight(struct gthulhu_cgroup_state *cs, u64 now)
{
	struct gthulhu_policy *pol;
	u64 cgid = cs->cgid, w;
	u32 factor = GTHULHU_WEIGHT_DEFAULT, id = 0;

	if (cs->idle)
		return GTHULHU_CGROUP_WEIGHT_IDLE;
	/*
	 * A throttled cgroup leaves its parent's sum (as the fair class dequeues a
	 * throttled group): its siblings share what it cannot use until its next period.
	 */
	if (cs->throttled)
		return 1;
	if (!cs->factor_at || now - cs->factor_at >= FACTOR_REFRESH_NS) {
		pol = bpf_map_lookup_elem(&policy_by_cgroup, &cgid);
		if (pol && (pol->flags & GTHULHU_POLICY_APPLY)) {
			factor = policy_weight(pol);
			id = pol->policy_id;
		}
		cs->policy_factor = factor;
		cs->policy_id = id;
		cs->factor_at = now ? now : 1;
	}
	w = (u64)cs->weight * GTHULHU_WEIGHT_DEFAULT / 100 * cs->policy_factor /
	    GTHULHU_WEIGHT_DEFAULT;
	return w ? w : 1;
}

static __always_inline void sum_sub(u64 *sum, u64 w)
{
	*sum = *sum > w ? *sum - w : 0;
}

/*
 * A task of weight @w became runnable in @cgrp: add it there, and walk up while
 * cgroups turn active (their entity weight joins their parent's sum).
 */
static void cg_activate(struct cgroup *cgrp, u64 w, u64 now)
{
	struct gthulhu_cgroup_state *cs, *ps;
	u32 level = cgrp->level, i;
	s32 active;
	u64 ew;

	cs = cg_state(cgrp);
	if (!cs)
		return;
	bpf_spin_lock(&cgw_lock);
	cs->active_sum += w;
	active = ++cs->nr_active;
	bpf_spin_unlock(&cgw_lock);
	if (active != 1)
		return;

	bpf_for(i, 0, CGROUP_MAX_DEPTH) {
		if (i >= level)
			break;
		cs = cg_state_at(cgrp, level - i);
		ps = cg_state_at(cgrp, level - i - 1);
		if (!cs || !ps)
			break;
		ew = cg_entity_weight(cs, now);
		bpf_spin_lock(&cgw_lock);
		cs->counted_weight = ew;
		ps->active_sum += ew;
		active = ++ps->nr_active;
		bpf_spin_unlock(&cgw_lock);
		if (active != 1)
			break;
	}
}

/*
 * The reverse: a task of weight @w stopped being runnable in @cgrp. A cgroup left
 * with nothing active has its sum reset, which also clears drift from racing updates.
 */
static void cg_deactivate(struct cgroup *cgrp, u64 w)
{
	struct gthulhu_cgroup_state *cs, *ps;
	u32 level = cgrp->level, i;
	s32 active;

	cs = cg_state(cgrp);
	if (!cs)
		return;
	bpf_spin_lock(&cgw_lock);
	sum_sub(&cs->active_sum, w);
	active = --cs->nr_active;
	if (active <= 0)
		cs->active_sum = 0;
	bpf_spin_unlock(&cgw_lock);
	if (active != 0)
		return;

	bpf_for(i, 0, CGROUP_MAX_DEPTH) {
		if (i >= level)
			break;
		cs = cg_state_at(cgrp, level - i);
		ps = cg_state_at(cgrp, level - i - 1);
		if (!cs || !ps)
			break;
		bpf_spin_lock(&cgw_lock);
		sum_sub(&ps->active_sum, cs->counted_weight);
		active = --ps->nr_active;
		if (active <= 0)
			ps->active_sum = 0;
		bpf_spin_unlock(&cgw_lock);
		if (active != 0)
			break;
	}
}

/* @cs (of @cgrp) has entity weight @ew now: fix its parent's sum if it is counted there. */
static void cg_reweight(struct cgroup *cgrp, struct gthulhu_cgroup_state *cs, u64 ew)
{
	struct gthulhu_cgroup_state *ps;

	if (!cgrp->level) {
		cs->counted_weight = ew;
		return;
	}
	ps = cg_state_at(cgrp, cgrp->level - 1);
	if (!ps)
		return;
	bpf_spin_lock(&cgw_lock);
	if (cs->nr_active > 0) {
		sum_sub(&ps->active_sum, cs->counted_weight);
		ps->active_sum += ew;
	}
	cs->counted_weight = ew;
	bpf_spin_unlock(&cgw_lock);
}

static void arm_release_timer(u64 at)
{
	struct release_timer *rt;
	u64 armed = release_armed_at, now = bpf_ktime_get_ns();
	u32 zero = 0;

	/* An expiry at or before @at is pending already. */
	if (armed && armed > now && armed <= at)
		return;
	if (__sync_val_compare_and_swap(&release_armed_at, armed, at) != armed)
		return;
	rt = bpf_map_lookup_elem(&release_timers, &zero);
	if (rt)
		bpf_timer_start(&rt->timer, at > now ? at - now : 0, 0);
}

/*
 * Start the periods that have ended since @cs's current one: each repays one quota of
 * the CPU time charged (debt from overrun carries over, unused quota does not).
 * Clears the throttle when what is left fits in the quota. One CPU wins the roll.
 */
static void bw_roll(struct cgroup *cgrp, struct gthulhu_cgroup_state *cs, u64 now)
{
	struct gthulhu_policy_stats *ps;
	u64 end = cs->period_end, period = cs->period_ns, quota = cs->quota_ns;
	u64 n, repay, used, left;

	if (!period || !quota)
		return;
	/*
	 * Periods are aligned to multiples of their length, so nested cgroups with the
	 * same period (the kubelet's 100 ms) start theirs together: a child is not starved
	 * of its quota by a parent period that straddles its own.
	 */
	if (!end) {
		__sync_val_compare_and_swap(&cs->period_end, 0, (now / period + 1) * period);
		return;
	}
	if (now < end)
		return;
	n = (now - end) / period + 1;
	if (__sync_val_compare_and_swap(&cs->period_end, end, end + n * period) != end)
		return;
	repay = n * quota;
	used = cs->used_ns;
	left = used > repay ? used - repay : 0;
	/* Chargers add concurrently: subtract what we saw, never more than is there. */
	__sync_fetch_and_sub(&cs->used_ns, used - left);
	/* Debt beyond a quota: the new period is throttled from its start (counted as cpu.stat does). */
	if (cs->throttled && left >= quota) {
		struct gthulhu_sched_stats *ss = sched_stats_this_cpu();

		cs->nr_throttled += n;
		ps = policy_stats_of(cs->policy_id);
		if (ps)
			ps->nr_throttled += n;
		if (ss)
			ss->nr_throttled += n;
	}
	if (cs->throttled && left < quota &&
	    __sync_val_compare_and_swap(&cs->throttled, 1, 0) == 1) {
		cs->throttled_time_ns += now - cs->throttled_at;
		ps = policy_stats_of(cs->policy_id);
		if (ps)
			ps->throttled_time_ns += now - cs->throttled_at;
		release_pending = 1;
		cg_reweight(cgrp, cs, cg_entity_weight(cs, now));
	}
}

/* What one walk down a task's cgroup path finds. */
struct path_info {
	u64 share;	/* share of the machine of the leaf cgroup (SHARE_ONE = all) */
	u64 leaf_sum;	/* active_sum of the leaf cgroup */
	u64 throttle_end; /* end of the period of a throttled cgroup on the path */
	bool ok;	/* every level had state */
	bool idle;	/* some cgroup on the path has cpu.idle */
	bool throttled;	/* some cgroup on the path is out of quota */
	bool limited;	/* some cgroup on the path has a quota */
};

/*
 * Walk the path from the root to @cgid, top-down: the product of the shares, cpu.idle
 * anywhere on the path, and the quota state of every limited cgroup. Entity weights
 * that changed (policy updates) are fixed in the parents' sums on the way.
 * A global function: the verifier checks it once, not at every call site (the calls
 * inside the DSQ loops of ops.dispatch would otherwise exceed its complexity limit).
 */
__noinline int walk_path(u64 cgid, u64 now, struct path_info *pi)
{
	struct gthulhu_cgroup_state *cs;
	struct cgroup *cgrp, *anc;
	u64 share = SHARE_ONE, parent_sum = 0, ew, sum;
	u32 level, i;

	if (!pi)
		return 0;
	pi->ok = false;
	pi->idle = false;
	pi->throttled = false;
	pi->limited = false;
	pi->share = SHARE_ONE;
	pi->leaf_sum = 0;
	pi->throttle_end = 0;
	if (!cgid)
		return 0;
	cgrp = bpf_cgroup_from_id(cgid);
	if (!cgrp)
		return 0;
	level = cgrp->level;
	bpf_for(i, 0, CGROUP_MAX_DEPTH) {
		if (i > level)
			break;
		anc = bpf_cgroup_ancestor(cgrp, i);
		if (!anc)
			break;
		cs = cg_state(anc);
		if (!cs) {
			bpf_cgroup_release(anc);
			break;
		}
		if (i > 0) {
			ew = cg_entity_weight(cs, now);
			if (ew != cs->counted_weight)
				cg_reweight(anc, cs, ew);
			/* Racy sums may lag: a share never exceeds the parent's. */
			sum = parent_sum > ew ? parent_sum : ew;
			share = share * ew / sum;
			if (!share)
				share = 1;
		}
		parent_sum = cs->active_sum;
		if (cs->idle)
			pi->idle = true;
		if (cs->quota_ns) {
			pi->limited = true;
			bw_roll(anc, cs, now);
			if (cs->throttled) {
				pi->throttled = true;
				pi->throttle_end = cs->period_end;
			}
		}
		bpf_cgroup_release(anc);
		if (i == level)
			pi->ok = true;
	}
	bpf_cgroup_release(cgrp);
	pi->share = share;
	pi->leaf_sum = parent_sum;
	return 0;
}

/*
 * @cgid (at @level) just ran out of quota: end the runs of its tasks on other CPUs
 * now, not at their next tick (up to a tick of overrun per CPU otherwise, which a
 * nested child then pays for by losing its own quota to its parent's debt).
 */
__noinline int kick_throttled(u64 cgid, u32 level)
{
	struct cpu_state *cs;
	struct cgroup *cgrp, *anc;
	u64 running;
	u32 cpu;

	bpf_for(cpu, 0, nr_cpus) {
		cs = cpu_state_of(cpu);
		if (!cs)
			break;
		running = cs->cgid;
		if (!cs->busy || !running)
			continue;
		cgrp = bpf_cgroup_from_id(running);
		if (!cgrp)
			continue;
		anc = bpf_cgroup_ancestor(cgrp, level);
		if (anc) {
			if (anc->kn->id == cgid)
				scx_bpf_kick_cpu(cpu, SCX_KICK_PREEMPT);
			bpf_cgroup_release(anc);
		}
		bpf_cgroup_release(cgrp);
	}
	return 0;
}

/*
 * Charge @ns of CPU time to every cgroup with a quota on the path to @cgid; a cgroup
 * whose quota runs out is throttled (counted once per period) and the release timer
 * armed for its period's end. Returns true when the path is throttled now.
 */
__noinline int bw_charge(u64 cgid, u64 ns, u64 now)
{
	struct gthulhu_sched_stats *ss;
	struct gthulhu_policy_stats *ps;
	struct gthulhu_cgroup_state *cs;
	struct cgroup *cgrp;
	bool throttled = false;
	u32 level, i;

	if (!cgid)
		return false;
	cgrp = bpf_cgroup_from_id(cgid);
	if (!cgrp)
		return false;
	level = cgrp->level;
	bpf_for(i, 0, CGROUP_MAX_DEPTH) {
		struct cgroup *anc;

		if (i > level)
			break;
		anc = bpf_cgroup_ancestor(cgrp, i);
		if (!anc)
			break;
		cs = cg_state(anc);
		if (!cs || !cs->quota_ns) {
			bpf_cgroup_release(anc);
			continue;
		}
		bw_roll(anc, cs, now);
		__sync_fetch_and_add(&cs->used_ns, ns);
		if (cs->used_ns >= cs->quota_ns && !cs->throttled &&
		    __sync_val_compare_and_swap(&cs->throttled, 0, 1) == 0) {
			cg_reweight(anc, cs, cg_entity_weight(cs, now));
			cs->throttled_at = now;
			cs->nr_throttled++;
			ps = policy_stats_of(cs->policy_id);
			if (ps)
				ps->nr_throttled++;
			ss = sched_stats_this_cpu();
			if (ss)
				ss->nr_throttled++;
			kick_throttled(cs->cgid, i);
			rebase_pending = 1;
		}
		if (cs->throttled) {
			throttled = true;
			arm_release_timer(cs->period_end);
		}
		bpf_cgroup_release(anc);
	}
	bpf_cgroup_release(cgrp);
	return throttled;
}

/* Charge the run since tctx->bw_from to the quotas on its path. */
static __always_inline bool bw_charge_run(struct task_ctx *tctx, u64 now)
{
	u64 from = tctx->bw_from;

	if (!from || now <= from)
		return false;
	tctx->bw_from = now;
	if (!tctx->bw_limited)
		return false;
	return bw_charge(tctx->cgid, now - from, now);
}

/* @v * @num / @den without overflow for v < 2^40 (ratios of effective weights). */
static __always_inline u64 scale_ratio(u64 v, u64 num, u64 den)
{
	u32 sh;

	if (v > (1ULL << 40))
		v = 1ULL << 40;
	if (num > (1ULL << 22)) {
		sh = log2_u64(num) - 22;
		num >>= sh;
		den >>= sh;
	}
	return v * num / (den ? den : 1);
}

/*
 * A task's effective weight grows from @old to @new: scale its lead on (or lag
 * behind) vtime_now by old/new, as the fair class scales an entity's lag when it is
 * reweighted, so the service it is ahead (or behind) stays the same. One flattened
 * vtime serves every cgroup: a task whose share collapsed for a while (a sibling
 * with a huge weight ran, e.g. between two throttled periods of it) was charged at
 * that tiny share and would otherwise carry a vtime far ahead, and starve, once its
 * share is back. Drops are not scaled: a queued task cannot be rescaled when its
 * share comes back, so the lead must not grow while it waits. With constant shares
 * nothing changes, so weighted shares hold.
 */
static __always_inline void reweight_vtime(struct task_ctx *tctx, u64 old, u64 new)
{
	u64 d;

	if (!old || new <= old)
		return;
	if (vtime_before(vtime_now, tctx->vtime)) {
		d = scale_ratio(tctx->vtime - vtime_now, old, new);
		tctx->vtime = vtime_now + d;
	} else {
		d = scale_ratio(vtime_now - tctx->vtime, old, new);
		tctx->vtime = vtime_now - d;
	}
}

/*
 * A runnable task's weight changed (a policy written or removed since it woke):
 * update what it adds to its cgroup's sum, so CPU hogs that never sleep pick up
 * per-process and non-cpu-cgroup policies too.
 */
static void recount_task(struct task_struct *p, struct task_ctx *tctx)
{
	struct gthulhu_cgroup_state *cs;
	struct cgroup *cgrp;
	u64 nw;

	if (!tctx->counted_cgid || tctx->counted_cgid != tctx->cgid)
		return;
	nw = task_entity_weight(p, tctx->cgid);
	if (nw == tctx->counted_w)
		return;
	cgrp = bpf_cgroup_from_id(tctx->counted_cgid);
	if (!cgrp)
		return;
	cs = cg_state(cgrp);
	if (cs) {
		bpf_spin_lock(&cgw_lock);
		sum_sub(&cs->active_sum, tctx->counted_w);
		cs->active_sum += nw;
		bpf_spin_unlock(&cgw_lock);
		tctx->counted_w = nw;
	}
	bpf_cgroup_release(cgrp);
}

/* The task's effective weight from its path's share (walk_path) and its task weight. */
static void apply_share(struct task_struct *p, struct task_ctx *tctx, struct path_info *pi)
{
	u64 tw, sum, share;

	tw = tctx->counted_cgid ? tctx->counted_w : task_entity_weight(p, tctx->cgid);
	sum = pi->leaf_sum > tw ? pi->leaf_sum : tw;
	share = pi->share * tw / sum;
	share *= nr_cpus;
	if (!share)
		share = 1;
	share = share < EFF_W_MAX ? share : EFF_W_MAX;
	reweight_vtime(tctx, tctx->eff_w, share);
	tctx->eff_w = share;
}

/*
 * Resolve @p's policy into its context. Called every time the task is queued (and
 * when a CPU hog gets a new slice, and at ticks), so map updates reach running tasks
 * within one slice and a new task has its policy at its very first enqueue.
 * Priority and slice: policy_by_tgid, else the task's own cgroup's policy. Weight:
 * the share of its cgroup path (see the top of the file) times its task weight over
 * the sum beside it; on a kernel without cgroup state, the flat weight of old.
 */
static void refresh_policy(struct task_struct *p, struct task_ctx *tctx)
{
	struct gthulhu_policy *pol;
	struct path_info pi;
	u32 tgid = p->tgid;
	u64 cgid, now = bpf_ktime_get_ns();
	u32 weight;

	tctx->refreshed_at = now;
	pol = bpf_map_lookup_elem(&policy_by_tgid, &tgid);
	if (!pol) {
		cgid = task_cgroup_id(p);
		pol = bpf_map_lookup_elem(&policy_by_cgroup, &cgid);
		if (pol && !(pol->flags & GTHULHU_POLICY_APPLY))
			pol = NULL;
	}

	if (!pol) {
		tctx->policy_id = 0;
		tctx->priority = 0;
		/* p->scx.weight is the nice weight scaled to 100 at nice 0. */
		weight = p->scx.weight * GTHULHU_WEIGHT_DEFAULT / 100;
		tctx->slice_ns = slice_default_ns;
	} else {
		s32 prio = pol->priority;

		if (prio < GTHULHU_PRIORITY_MIN)
			prio = GTHULHU_PRIORITY_MIN;
		if (prio > GTHULHU_PRIORITY_MAX)
			prio = GTHULHU_PRIORITY_MAX;
		weight = policy_weight(pol);
		tctx->policy_id = pol->policy_id;
		tctx->priority = prio;
		tctx->slice_ns = clamp_slice(pol->slice_ns);
	}

	recount_task(p, tctx);
	walk_path(tctx->cgid, now, &pi);
	tctx->idle_class = pi.idle;
	tctx->throttled = pi.throttled;
	tctx->bw_limited = pi.limited;
	if (pi.throttled) {
		/*
		 * It will not run before its next period: keep the share it ran with. The
		 * throttled cgroup's weight has left its parent's sum, so a share computed
		 * now would be near zero and price its vtime out of reach after release.
		 */
		arm_release_timer(pi.throttle_end);
		return;
	}
	if (!pi.ok) {
		/* No cgroup state (kernel without the cgroup callbacks): flat weights. */
		tctx->eff_w = (u64)(weight ? weight : 1) * (VT_ONE / GTHULHU_WEIGHT_DEFAULT);
		return;
	}
	apply_share(p, tctx, &pi);
}

/*
 * Whether @tctx's policy, share and quota state are less than a tick old: a slice end
 * comes right after the tick that refreshed them (ops.tick runs before the kernel
 * ends the slice), and walking the cgroup path again there found nothing new but cost
 * a walk per level. Anything that must be seen at once (a quota running out, a cgroup
 * move) clears refreshed_at.
 */
static __always_inline bool policy_fresh(struct task_ctx *tctx)
{
	u64 at = tctx->refreshed_at;

	return tick_ns && at && bpf_ktime_get_ns() - at < tick_ns;
}

/* refresh_policy() unless the last one is fresh (see policy_fresh()). */
static __always_inline void refresh_policy_lazy(struct task_struct *p, struct task_ctx *tctx)
{
	if (!policy_fresh(tctx))
		refresh_policy(p, tctx);
}

/* Bookkeeping for every hand-off of a task to a DSQ. */
static void note_queued(struct task_ctx *tctx, struct gthulhu_sched_stats *ss)
{
	struct gthulhu_policy_stats *ps;

	if (ss) {
		if (tctx->policy_id)
			ss->nr_policy_dispatches++;
		else
			ss->nr_default_dispatches++;
	}

	/* The "0 user-space steps" proof: the policy was there at the first enqueue. */
	if (tctx->first_pending) {
		tctx->first_pending = false;
		ps = policy_stats_of(tctx->policy_id);
		if (ps)
			ps->first_enqueues++;
	}
}

/* Charge the run that started at tctx->started_at: vtime and per-policy CPU time. */
static void charge_until(struct task_ctx *tctx, u64 now, bool run_ends)
{
	struct gthulhu_policy_stats *ps;
	u64 ran;

	if (!tctx->started_at || now <= tctx->started_at)
		return;
	ran = now - tctx->started_at;
	tctx->started_at = run_ends ? 0 : now;
	tctx->vtime += vtime_charge(ran, tctx->eff_w);

	ps = policy_stats_of(tctx->policy_id);
	if (ps)
		ps->cpu_time_ns += ran;
}

static __always_inline void charge_run(struct task_ctx *tctx, u64 now)
{
	charge_until(tctx, now, true);
}

/* A run starts now, after waiting since tctx->runnable_at (0: no wait to record). */
static void start_run(struct task_ctx *tctx, u64 now)
{
	struct gthulhu_policy_stats *ps;
	u64 wait = 0;

	if (tctx->runnable_at && now > tctx->runnable_at)
		wait = now - tctx->runnable_at;
	tctx->runnable_at = 0;
	tctx->started_at = now;
	tctx->bw_from = bpf_ktime_get_ns();

	ps = policy_stats_of(tctx->policy_id);
	if (ps) {
		u32 b = wait_bucket(wait);

		ps->run_count++;
		ps->wait_time_ns += wait;
		if (b < GTHULHU_WAIT_HIST_BUCKETS)
			ps->wait_hist[b]++;
	}
}

/*
 * The CPU in @p's mask running the lowest priority below @prio, or -1. The winner is
 * marked with @prio at once so that concurrent wakers pick different CPUs.
 */
static s32 find_preempt_victim(struct task_struct *p, s32 prio, s32 prefer_cpu)
{
	struct cpu_state *cs, *best_cs = NULL;
	s32 best = -1, best_prio = prio;
	u32 cpu;

	cs = cpu_state_of(prefer_cpu);
	if (cs && cs->busy && cs->priority < best_prio &&
	    bpf_cpumask_test_cpu(prefer_cpu, p->cpus_ptr)) {
		best = prefer_cpu;
		best_prio = cs->priority;
		best_cs = cs;
	}

	bpf_for(cpu, 0, nr_cpus) {
		cs = cpu_state_of(cpu);
		if (!cs)
			break;
		if (!cs->busy || cs->priority >= best_prio)
			continue;
		if (!bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
			continue;
		best = cpu;
		best_prio = cs->priority;
		best_cs = cs;
	}

	if (best_cs)
		best_cs->priority = prio;
	return best;
}

/*
 * A task moving to another vtime DSQ (its affinity changed: per-CPU <-> shared) is
 * placed near the queue it joins: at least vtime_now - slice_lag_ns, at most one
 * slice's charge above vtime_now. A per-CPU queue and the shared one advance at
 * different rates, so a task's vtime from one is meaningless in the other: carried
 * over, it could starve the task for seconds (far ahead) or let it hold the CPUs
 * (far behind). Requeues to the same DSQ keep their vtime, so weights hold.
 */
static __always_inline void place_on_queue_change(struct task_ctx *tctx, u64 dsq_id)
{
	u64 low, high;

	if (tctx->last_dsq == dsq_id)
		return;
	if (tctx->last_dsq != NO_DSQ) {
		low = vtime_now - slice_lag_ns;
		high = vtime_now + vtime_charge(tctx->slice_ns, tctx->eff_w);
		if (vtime_before(tctx->vtime, low))
			tctx->vtime = low;
		else if (vtime_before(high, tctx->vtime))
			tctx->vtime = high;
	}
	tctx->last_dsq = dsq_id;
}

/* An idle CPU, claimed, or < 0. */
static s32 pick_any_idle_cpu(void)
{
	const struct cpumask *online = scx_bpf_get_online_cpumask();
	s32 cpu = scx_bpf_pick_idle_cpu(online, 0);

	scx_bpf_put_cpumask(online);
	return cpu;
}

/* If @cpu runs a cpu.idle task, make it reschedule (a normal task is queued for it). */
static bool kick_idle_class(s32 cpu)
{
	struct gthulhu_sched_stats *ss;
	struct cpu_state *cs = cpu_state_of(cpu);

	if (!cs || !cs->busy || !cs->idle_class)
		return false;
	/* One kick per run: the next waker looks elsewhere. */
	cs->idle_class = 0;
	scx_bpf_kick_cpu(cpu, SCX_KICK_PREEMPT);
	ss = sched_stats_this_cpu();
	if (ss)
		ss->nr_idle_preemptions++;
	return true;
}

/* A normal task was queued and no CPU is idle: take a CPU in its mask from a cpu.idle task. */
static void preempt_idle_class(struct task_struct *p)
{
	struct cpu_state *cs;
	u32 cpu;

	bpf_for(cpu, 0, nr_cpus) {
		cs = cpu_state_of(cpu);
		if (!cs)
			break;
		if (!cs->busy || !cs->idle_class)
			continue;
		if (!bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
			continue;
		if (kick_idle_class(cpu))
			return;
	}
}

s32 BPF_STRUCT_OPS(gthulhu_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	struct task_ctx *tctx = task_ctx_of(p);
	bool is_idle = false;
	s32 cpu;

	cpu = gthulhu_pick_cpu(p, prev_cpu, wake_flags, &is_idle);
	if (is_idle) {
		struct gthulhu_sched_stats *ss = sched_stats_this_cpu();
		u64 slice = slice_default_ns;

		if (tctx) {
			refresh_policy(p, tctx);
			/* Out of quota: ops.enqueue parks it. */
			if (tctx->throttled)
				return cpu;
			note_queued(tctx, ss);
			slice = tctx->slice_ns;
		}
		if (ss)
			ss->nr_direct_dispatches++;
		/* Skips ops.enqueue: the task runs on the idle CPU (claimed for it) next. */
		gthulhu_dsq_insert(p, SCX_DSQ_LOCAL, kernel_slice(slice), 0);
	}
	return cpu;
}

void BPF_STRUCT_OPS(gthulhu_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct gthulhu_sched_stats *ss = sched_stats_this_cpu();
	struct task_ctx *tctx = task_ctx_of(p);
	s32 cpu;

	if (ss)
		ss->nr_enqueues++;

	if (!tctx) {
		/* No context (allocation failed at init_task): run it, FIFO, unaccounted. */
		gthulhu_dsq_insert(p, SCX_DSQ_GLOBAL, kernel_slice(slice_default_ns), enq_flags);
		return;
	}

	/*
	 * A wakeup resolves the policy anew; a requeue (slice end, preemption) follows
	 * the tick that just did, unless ops.stopping found the quota used up.
	 */
	if (enq_flags & SCX_ENQ_WAKEUP)
		refresh_policy(p, tctx);
	else
		refresh_policy_lazy(p, tctx);

	if (tctx->throttled) {
		/* Its runnable_at keeps counting: the starvation bound covers parked tasks. */
		if (ss)
			ss->nr_throttled_tasks++;
		tctx->in_order = false;
		gthulhu_dsq_insert(p, THROTTLED_DSQ, kernel_slice(tctx->slice_ns), enq_flags);
		return;
	}
	note_queued(tctx, ss);

	/*
	 * Nothing else can run here (SCX_OPS_ENQ_LAST): keep the CPU. The flag is on so
	 * that a lone task out of quota reaches the parking above instead of having the
	 * kernel refill its slice.
	 */
	if (enq_flags & SCX_ENQ_LAST) {
		gthulhu_dsq_insert(p, SCX_DSQ_LOCAL, kernel_slice(tctx->slice_ns), enq_flags);
		return;
	}

	if (tctx->idle_class) {
		place_on_queue_change(tctx, IDLE_DSQ);
		tctx->in_order = true;
		gthulhu_dsq_insert_vtime(p, IDLE_DSQ, kernel_slice(tctx->slice_ns), tctx->vtime,
					 enq_flags);
		cpu = scx_bpf_pick_idle_cpu(p->cpus_ptr, 0);
		if (cpu >= 0)
			scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
		return;
	}

	if ((enq_flags & SCX_ENQ_WAKEUP) && tctx->priority >= GTHULHU_PREEMPT_PRIORITY) {
		cpu = scx_bpf_pick_idle_cpu(p->cpus_ptr, 0);
		if (cpu >= 0) {
			gthulhu_dsq_insert(p, SCX_DSQ_LOCAL_ON | cpu, kernel_slice(tctx->slice_ns),
					   enq_flags);
			scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
			if (ss)
				ss->nr_direct_dispatches++;
			return;
		}
		cpu = find_preempt_victim(p, tctx->priority, scx_bpf_task_cpu(p));
		if (cpu >= 0) {
			gthulhu_dsq_insert(p, SCX_DSQ_LOCAL_ON | cpu, kernel_slice(tctx->slice_ns),
					   enq_flags | SCX_ENQ_PREEMPT);
			if (ss)
				ss->nr_preemptions++;
			return;
		}
	}

	if (p->nr_cpus_allowed == 1) {
		cpu = scx_bpf_task_cpu(p);
		if (bpf_cpumask_test_cpu(cpu, p->cpus_ptr)) {
			place_on_queue_change(tctx, CPU_DSQ(cpu));
			tctx->in_order = true;
			gthulhu_dsq_insert_vtime(p, CPU_DSQ(cpu), kernel_slice(tctx->slice_ns),
						 tctx->vtime, enq_flags);
			if (!kick_idle_class(cpu))
				scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
			return;
		}
		/*
		 * Mid affinity change: the task sits on a CPU it may no longer use. The
		 * shared DSQ is consumed by every CPU, so the allowed one will take it.
		 */
		if (ss)
			ss->nr_bounces++;
	}

	place_on_queue_change(tctx, SHARED_DSQ);
	tctx->in_order = true;
	gthulhu_dsq_insert_vtime(p, SHARED_DSQ, kernel_slice(tctx->slice_ns), tctx->vtime,
				 enq_flags);

	/* Idle CPUs do not look at DSQs by themselves: wake one that can run @p. */
	cpu = scx_bpf_pick_idle_cpu(p->cpus_ptr, 0);
	if (cpu >= 0)
		scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
	else
		preempt_idle_class(p);
}

/*
 * One slice of @tctx's policy in vtime at its current share: how far it may run ahead
 * of the queue head for locality (see pick_local_shared()).
 */
static __always_inline u64 slice_vtime(struct task_ctx *tctx)
{
	return vtime_charge(tctx->slice_ns, tctx->eff_w);
}

/*
 * The first task of @dsq_id, if any: its vtime and the CPU it last ran on (its
 * task_rq: moving it from another CPU takes that CPU's runqueue lock).
 */
static bool dsq_head(u64 dsq_id, u64 *vtime, s32 *head_cpu)
{
	struct task_struct *p;

	bpf_for_each(scx_dsq, p, dsq_id, 0) {
		*vtime = p->scx.dsq_vtime;
		*head_cpu = scx_bpf_task_cpu(p);
		return true;
	}
	return false;
}

/*
 * Run a task that has waited longer than starve_after_ns, from the tail of @dsq_id
 * (the highest vtimes, where starved tasks sit).
 */
/*
 * How long @p has been waiting. The kernel's watchdog measures from
 * p->scx.runnable_at (jiffies, kept across requeues and affinity changes), so use the
 * same clock when the tick length is known, else our own runnable_at.
 */
static __always_inline u64 waited_ns(struct task_struct *p, struct task_ctx *tctx, u64 now)
{
	if (tick_ns)
		return (bpf_jiffies64() - p->scx.runnable_at) * tick_ns;
	return tctx->runnable_at ? now - tctx->runnable_at : 0;
}

/*
 * Run the tasks of @dsq_id that have waited longer than starve_after_ns, looking at
 * up to STARVE_SCAN_TASKS from the tail, where the highest vtimes sit. The scan
 * bound comes from bpf_for() and the count lives in the stats map, so the verifier
 * need not track either value through the loop.
 */
static bool rescue_starved(s32 cpu, u64 dsq_id, u64 now)
{
	struct gthulhu_sched_stats *ss = sched_stats_this_cpu();
	struct bpf_iter_scx_dsq it;
	struct task_struct *p;
	u64 before, bound;
	u32 i;

	if (!ss)
		return false;
	/*
	 * cpu.idle tasks wait 1.5 times as long: they are meant to starve while normal
	 * work exists, and the loader caps starve_after_ns at half the watchdog's timeout,
	 * so this stays at three quarters of it.
	 */
	bound = dsq_id == IDLE_DSQ ? starve_after_ns + starve_after_ns / 2 : starve_after_ns;
	before = ss->nr_starvation_rescues;
	if (bpf_iter_scx_dsq_new(&it, dsq_id, SCX_DSQ_ITER_REV) == 0) {
		bpf_for(i, 0, STARVE_SCAN_TASKS) {
			struct task_ctx *tctx;

			p = bpf_iter_scx_dsq_next(&it);
			if (!p)
				break;
			tctx = task_ctx_of(p);
			if (!tctx || waited_ns(p, tctx, now) < bound)
				continue;
			if (!bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
				continue;
			if (gthulhu_dsq_move(&it, p, SCX_DSQ_LOCAL, 0)) {
				tctx->in_order = false;
				ss->nr_starvation_rescues++;
			}
		}
	}
	bpf_iter_scx_dsq_destroy(&it);
	return ss->nr_starvation_rescues != before;
}

/* @tctx's vtime counting its run so far. */
static __always_inline u64 running_vtime(struct task_ctx *tctx, u64 now)
{
	u64 vtime = tctx->vtime;

	if (tctx->started_at && now > tctx->started_at)
		vtime += vtime_charge(now - tctx->started_at, tctx->eff_w);
	return vtime;
}

/*
 * @prev used up its slice and is still runnable. It is not queued yet (ops.enqueue
 * runs after ops.dispatch), so compare it with the queue heads here: if its vtime,
 * counting the run so far, is still the lowest, or at most @slack above the shared
 * head's (the lag bound of pick_local_shared(), when nothing lower sits on this CPU),
 * it keeps the CPU with a fresh slice of its own policy. Otherwise a task far ahead
 * of it in vtime order would run first and it would wait a whole slice at the back,
 * costing high-weight tasks their share and latency-sensitive ones their bursts.
 * This CPU's own queue (pinned tasks) is compared strictly.
 */
static __always_inline bool keep_prev(struct task_struct *prev, struct task_ctx *tctx, u64 now,
				      s32 cpu, bool on_cpu_dsq, u64 cpu_vtime, bool on_shared,
				      u64 shared_vtime, u64 slack, bool on_idle, u64 idle_vtime)
{
	struct gthulhu_sched_stats *ss;
	u64 vtime = running_vtime(tctx, now), floor;
	bool ahead;

	/* Its affinity (cpuset) may have changed under it: never keep a disallowed CPU. */
	if (!bpf_cpumask_test_cpu(cpu, prev->cpus_ptr))
		return false;
	if (tctx->idle_class) {
		/* Any normal task goes first; among idle tasks, vtime order. */
		if (on_cpu_dsq || on_shared || (on_idle && vtime_before(idle_vtime, vtime)))
			return false;
	} else if ((on_cpu_dsq && vtime_before(cpu_vtime, vtime)) ||
		   (on_shared && vtime_before(shared_vtime + slack, vtime))) {
		return false;
	}
	ahead = on_shared && vtime_before(shared_vtime, vtime);

	/* The slice boundary counts as a new run: run lengths in the statistics stay true. */
	charge_run(tctx, now);
	/* The tick that ended the slice refreshed the policy a moment ago, unless the quota ran out. */
	if (bw_charge_run(tctx, bpf_ktime_get_ns()))
		tctx->refreshed_at = 0;
	refresh_policy_lazy(prev, tctx);
	/* Out of quota (or moved below cpu.idle with normal work queued): ops.enqueue decides. */
	if (tctx->throttled || (tctx->idle_class && (on_cpu_dsq || on_shared)))
		return false;
	start_run(tctx, now);
	/* vtime_now follows the queue minimum: a run ahead of the head does not move it past the head. */
	floor = ahead ? shared_vtime : tctx->vtime;
	if (vtime_before(vtime_now, floor))
		vtime_now = floor;
	if (ahead) {
		ss = sched_stats_this_cpu();
		if (ss)
			ss->nr_local_picks++;
	}
	gthulhu_task_set_slice(prev, kernel_slice(tctx->slice_ns));
	return true;
}

/*
 * Locality of the shared DSQ. Moving a task to this CPU is cheap when the task already
 * sits on this CPU's runqueue (it last ran here) and costly otherwise: the kernel
 * migrates it under the other CPU's runqueue lock (measured under TCG: 2.8-4.7 ms per
 * such move against 0.13-0.17 ms for a local one) and its cache is cold here. So when
 * the head last ran elsewhere, take instead the lowest-vtime task among the first
 * LOCAL_SCAN_TASKS that last ran here, if it is at most one slice ahead of the head
 * in service: its vtime at most the lag bound (one slice's charge at its own share)
 * above the head's, and below @below when @has_below (a lower local alternative:
 * @prev or this CPU's own queue). Weighted shares hold: no task gets more than one
 * slice of its own ahead of the queue minimum this way, and the head runs at the next
 * dispatch of its own CPU (where it is local and lowest) or of any CPU whose local
 * tasks are all beyond the bound. The bound is the candidate's own slice, not the
 * smaller of its and the head's: under flattened shares a task's vtime step per slice
 * swings with its siblings' activity (a Burstable hog's share drops twentyfold while
 * a prioritised Guaranteed pod is runnable), and with the smaller bound most local
 * candidates missed it (as many remote moves as local picks in the node mix).
 * vtime_now stays at the head's vtime. Returns 1 when a task was moved to this CPU's
 * local DSQ.
 */
__noinline int pick_local_shared(s32 cpu, u64 head_vtime, u64 below, u64 has_below)
{
	struct gthulhu_sched_stats *ss = sched_stats_this_cpu();
	struct bpf_iter_scx_dsq it;
	struct task_struct *p;
	int picked = 0;
	u32 i;

	if (!ss)
		return 0;
	if (bpf_iter_scx_dsq_new(&it, SHARED_DSQ, 0) == 0) {
		bpf_for(i, 0, LOCAL_SCAN_TASKS) {
			struct task_ctx *tctx;
			u64 v;

			p = bpf_iter_scx_dsq_next(&it);
			if (!p)
				break;
			v = p->scx.dsq_vtime;
			/* In vtime order: once past @below, every later task is too. */
			if (has_below && !vtime_before(v, below))
				break;
			if (scx_bpf_task_cpu(p) != cpu || !bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
				continue;
			tctx = task_ctx_of(p);
			if (!tctx)
				continue;
			if (vtime_before(head_vtime + slice_vtime(tctx), v))
				continue;
			if (gthulhu_dsq_move(&it, p, SCX_DSQ_LOCAL, 0)) {
				tctx->in_order = false;
				if (vtime_before(vtime_now, head_vtime))
					vtime_now = head_vtime;
				ss->nr_local_picks++;
				picked = 1;
			}
			break;
		}
	}
	bpf_iter_scx_dsq_destroy(&it);
	return picked;
}

/*
 * Move tasks that no longer belong on this CPU's own DSQ to the shared one: tasks may
 * run elsewhere too, or not here at all, when their affinity changed while they were
 * queued without a new ops.enqueue (a 7.3 watchdog dump under an affinity storm
 * showed tasks allowed on both CPUs sitting in one CPU's DSQ). Only this
 * CPU looks at its DSQ, so such a task would otherwise wait for the starvation scan,
 * or, if it may not run here, forever. Counted as bounces.
 */
static void requeue_misplaced(s32 cpu)
{
	struct gthulhu_sched_stats *ss = sched_stats_this_cpu();
	struct bpf_iter_scx_dsq it;
	struct task_struct *p;
	u32 i;

	if (!ss)
		return;
	if (bpf_iter_scx_dsq_new(&it, CPU_DSQ(cpu), 0) == 0) {
		bpf_for(i, 0, STARVE_SCAN_TASKS) {
			struct task_ctx *tctx;

			p = bpf_iter_scx_dsq_next(&it);
			if (!p)
				break;
			if (p->nr_cpus_allowed == 1 && bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
				continue;
			tctx = task_ctx_of(p);
			if (!tctx)
				continue;
			place_on_queue_change(tctx, SHARED_DSQ);
			if (gthulhu_dsq_move_vtime(&it, p, SHARED_DSQ, tctx->vtime))
				ss->nr_bounces++;
		}
	}
	bpf_iter_scx_dsq_destroy(&it);
}

/*
 * Put parked tasks whose path has quota again back into the shared queue (placed
 * near vtime_now, as any queue change). Runs on the first dispatch after the release
 * timer; a pass that hits RELEASE_BATCH leaves the flag set for the next dispatch.
 */
__noinline int release_throttled(void)
{
	struct gthulhu_sched_stats *ss = sched_stats_this_cpu();
	struct bpf_iter_scx_dsq it;
	struct task_struct *p;
	struct path_info pi;
	u64 released;
	u32 i;
	s32 cpu;

	if (!ss || !release_pending || __sync_val_compare_and_swap(&release_pending, 1, 0) != 1)
		return 0;
	/*
	 * Counts live in memory, not in locals: the verifier then need not track them
	 * through the loop (a precise counter would make it walk all RELEASE_BATCH
	 * iterations).
	 */
	released = ss->nr_unthrottled_tasks;
	release_seen = 0;
	if (bpf_iter_scx_dsq_new(&it, THROTTLED_DSQ, 0) == 0) {
		bpf_for(i, 0, RELEASE_BATCH) {
			struct task_ctx *tctx;

			p = bpf_iter_scx_dsq_next(&it);
			if (!p)
				break;
			release_seen++;
			tctx = task_ctx_of(p);
			if (!tctx)
				continue;
			walk_path(tctx->cgid, bpf_ktime_get_ns(), &pi);
			if (pi.throttled) {
				arm_release_timer(pi.throttle_end);
				continue;
			}
			tctx->throttled = false;
			/* Its share with the quota back, before it is placed by it. */
			if (pi.ok)
				apply_share(p, tctx, &pi);
			place_on_queue_change(tctx, SHARED_DSQ);
			if (gthulhu_dsq_move_vtime(&it, p, SHARED_DSQ, tctx->vtime))
				ss->nr_unthrottled_tasks++;
		}
	}
	bpf_iter_scx_dsq_destroy(&it);
	released = ss->nr_unthrottled_tasks - released;
	if (release_seen >= RELEASE_BATCH)
		release_pending = 1;
	/* This CPU takes one; wake idle CPUs for the others. */
	bpf_for(i, 1, released) {
		if (i > nr_cpus)
			break;
		cpu = pick_any_idle_cpu();
		if (cpu < 0)
			break;
		scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
	}
	return 0;
}

/*
 * A cgroup was just throttled, so the shares of everything beside it grew at once.
 * Tasks already queued on the shared DSQ carry vtimes priced at their old, smaller
 * shares (reweight_vtime() only sees tasks when they are refreshed, not while they
 * wait): rescale them now and re-queue them at the new vtime, or they wait behind
 * everyone until vtime_now catches up (a priority-20 pod under cpu.max starved its
 * siblings that way in tests/vm/vm_sched_cgroup).
 */
__noinline int rebase_queued(void)
{
	struct bpf_iter_scx_dsq it;
	struct task_struct *p;
	struct path_info pi;
	u64 before;
	u32 i;

	if (!rebase_pending || __sync_val_compare_and_swap(&rebase_pending, 1, 0) != 1)
		return 0;
	if (bpf_iter_scx_dsq_new(&it, SHARED_DSQ, 0) == 0) {
		bpf_for(i, 0, RELEASE_BATCH) {
			struct task_ctx *tctx;

			p = bpf_iter_scx_dsq_next(&it);
			if (!p)
				break;
			tctx = task_ctx_of(p);
			if (!tctx)
				continue;
			walk_path(tctx->cgid, bpf_ktime_get_ns(), &pi);
			if (!pi.ok || pi.throttled)
				continue;
			before = tctx->vtime;
			apply_share(p, tctx, &pi);
			if (tctx->vtime != before)
				gthulhu_dsq_move_vtime(&it, p, SHARED_DSQ, tctx->vtime);
		}
	}
	bpf_iter_scx_dsq_destroy(&it);
	return 0;
}

void BPF_STRUCT_OPS(gthulhu_dispatch, s32 cpu, struct task_struct *prev)
{
	struct gthulhu_sched_stats *ss = sched_stats_this_cpu();
	struct cpu_state *cs = cpu_state_of(cpu);
	struct task_ctx *prev_ctx = NULL;
	u64 now = gthulhu_now();
	u64 first = SHARED_DSQ, second = CPU_DSQ(cpu);
	u64 cpu_vtime = 0, shared_vtime = 0, idle_vtime = 0;
	u64 below = 0, has_below = 0, slack = 0, pv;
	s32 shared_cpu = -1, head_cpu;
	bool on_cpu_dsq, on_shared, on_idle;

	if (ss)
		ss->last_dispatch_ns = now;

	release_throttled();
	rebase_queued();

	if (cs && now - cs->last_starve_scan >= STARVE_SCAN_INTERVAL_NS) {
		cs->last_starve_scan = now;
		if (scx_bpf_dsq_nr_queued(CPU_DSQ(cpu)) > 0)
			requeue_misplaced(cpu);
		if (starve_after_ns &&
		    (rescue_starved(cpu, CPU_DSQ(cpu), now) || rescue_starved(cpu, SHARED_DSQ, now) ||
		     rescue_starved(cpu, IDLE_DSQ, now) || rescue_starved(cpu, THROTTLED_DSQ, now)))
			return;
	}

	on_cpu_dsq = scx_bpf_dsq_nr_queued(CPU_DSQ(cpu)) > 0 &&
		     dsq_head(CPU_DSQ(cpu), &cpu_vtime, &head_cpu);
	on_shared = scx_bpf_dsq_nr_queued(SHARED_DSQ) > 0 &&
		    dsq_head(SHARED_DSQ, &shared_vtime, &shared_cpu);
	on_idle = scx_bpf_dsq_nr_queued(IDLE_DSQ) > 0 &&
		  dsq_head(IDLE_DSQ, &idle_vtime, &head_cpu);

	if (prev && (prev->scx.flags & SCX_TASK_QUEUED))
		prev_ctx = task_ctx_of(prev);
	if (prev_ctx && keep_prev(prev, prev_ctx, now, cpu, on_cpu_dsq, cpu_vtime, on_shared,
				  shared_vtime, 0, on_idle, idle_vtime))
		return;

	if (on_cpu_dsq || on_shared) {
		/* Lowest vtime first between this CPU's own queue and the shared one. */
		if (on_cpu_dsq && (!on_shared || vtime_before(cpu_vtime, shared_vtime))) {
			first = CPU_DSQ(cpu);
			second = SHARED_DSQ;
		} else if (shared_cpu != cpu) {
			/*
			 * The shared head sits on another CPU: prefer what is here already,
			 * within the lag bound, lowest vtime first (a shared task, or @prev).
			 */
			if (on_cpu_dsq) {
				below = cpu_vtime;
				has_below = 1;
			}
			if (prev_ctx && !prev_ctx->idle_class && !prev_ctx->throttled) {
				slack = slice_vtime(prev_ctx);
				pv = running_vtime(prev_ctx, now);
				/* @prev is a local candidate only within the same bound. */
				if (vtime_before(shared_vtime + slack, pv)) {
					slack = 0;
				} else if (!has_below || vtime_before(pv, below)) {
					below = pv;
					has_below = 1;
				}
			}
			if (pick_local_shared(cpu, shared_vtime, below, has_below))
				return;
			if (prev_ctx && slack &&
			    keep_prev(prev, prev_ctx, now, cpu, on_cpu_dsq, cpu_vtime,
				      on_shared, shared_vtime, slack, on_idle, idle_vtime))
				return;
		}
		if (gthulhu_dsq_move_to_local(first)) {
			if (first == SHARED_DSQ && shared_cpu != cpu && ss)
				ss->nr_remote_moves++;
			return;
		}
		if (gthulhu_dsq_move_to_local(second))
			return;
		if (ss)
			ss->nr_failed_dispatches++;
		/* Another CPU took them: @prev keeps the CPU after all. */
		if (prev_ctx && keep_prev(prev, prev_ctx, now, cpu, false, 0, false, 0, 0, on_idle,
					  idle_vtime))
			return;
	}
	/* Nothing else is queued for this CPU: cpu.idle tasks may run. */
	if (on_idle && gthulhu_dsq_move_to_local(IDLE_DSQ)) {
		if (ss)
			ss->nr_idle_dispatches++;
		return;
	}
}

void BPF_STRUCT_OPS(gthulhu_runnable, struct task_struct *p, u64 enq_flags)
{
	struct task_ctx *tctx = task_ctx_of(p);
	struct gthulhu_sched_stats *ss;
	u64 floor;

	struct cgroup *cgrp;

	if (!tctx)
		return;
	tctx->runnable_at = gthulhu_now();

	/* Join the active sums of its cgroup (and of the ancestors that turn active). */
	cgrp = scx_bpf_task_cgroup(p);
	if (cgrp) {
		tctx->cgid = cgrp->kn->id;
		if (!tctx->counted_cgid) {
			tctx->counted_w = task_entity_weight(p, tctx->cgid);
			tctx->counted_cgid = tctx->cgid;
			cg_activate(cgrp, tctx->counted_w, bpf_ktime_get_ns());
		}
		bpf_cgroup_release(cgrp);
	}

	if (!(enq_flags & SCX_ENQ_WAKEUP))
		return;
	/* Bounded wakeup lag: sleeping banks at most slice_lag_ns of credit. */
	floor = vtime_now - slice_lag_ns;
	if (vtime_before(tctx->vtime, floor)) {
		tctx->vtime = floor;
		ss = sched_stats_this_cpu();
		if (ss)
			ss->nr_lag_clamps++;
	}
}

void BPF_STRUCT_OPS(gthulhu_running, struct task_struct *p)
{
	struct gthulhu_sched_stats *ss = sched_stats_this_cpu();
	struct cpu_state *cs = cpu_state_of(scx_bpf_task_cpu(p));
	struct task_ctx *tctx = task_ctx_of(p);

	if (ss)
		ss->nr_running = 1;
	if (!tctx)
		return;

	start_run(tctx, gthulhu_now());
	if (tctx->in_order && vtime_before(vtime_now, tctx->vtime))
		vtime_now = tctx->vtime;
	tctx->in_order = false;
	if (cs) {
		cs->priority = tctx->priority;
		cs->busy = 1;
		cs->idle_class = tctx->idle_class;
		cs->cgid = tctx->bw_limited ? tctx->cgid : 0;
	}
}

void BPF_STRUCT_OPS(gthulhu_stopping, struct task_struct *p, bool runnable)
{
	struct gthulhu_sched_stats *ss = sched_stats_this_cpu();
	struct cpu_state *cs = cpu_state_of(scx_bpf_task_cpu(p));
	struct task_ctx *tctx = task_ctx_of(p);
	u64 now = gthulhu_now();

	if (ss)
		ss->nr_running = 0;
	if (cs) {
		cs->busy = 0;
		cs->idle_class = 0;
	}
	if (!tctx)
		return;

	charge_run(tctx, now);
	/* Out of quota now: the ops.enqueue that follows must see it and park the task. */
	if (bw_charge_run(tctx, bpf_ktime_get_ns()))
		tctx->refreshed_at = 0;
	/* Still runnable (slice used up or preempted): it waits again from now. */
	if (runnable)
		tctx->runnable_at = now;
}

void BPF_STRUCT_OPS(gthulhu_quiescent, struct task_struct *p, u64 deq_flags)
{
	struct task_ctx *tctx = task_ctx_of(p);
	struct cgroup *cgrp;

	if (!tctx || !tctx->counted_cgid)
		return;
	/* Leave the sums it joined (its cgroup then, whatever it is now). */
	cgrp = bpf_cgroup_from_id(tctx->counted_cgid);
	tctx->counted_cgid = 0;
	if (cgrp) {
		cg_deactivate(cgrp, tctx->counted_w);
		bpf_cgroup_release(cgrp);
	}
}

/*
 * Every tick of a running task: charge its quotas so far and end the slice when a
 * cgroup on its path runs out (ops.enqueue then parks it); refresh its share, which
 * moves as tasks elsewhere wake and sleep; and end a cpu.idle task's slice when
 * normal work is queued for this CPU.
 */
void BPF_STRUCT_OPS(gthulhu_tick, struct task_struct *p)
{
	struct task_ctx *tctx = task_ctx_of(p);
	s32 cpu = scx_bpf_task_cpu(p);

	if (!tctx)
		return;
	/*
	 * Charge the run so far at the share it had, before the share is refreshed: a
	 * share that collapsed a moment ago (a sibling woke with a huge weight) must not
	 * price the whole run, or the task lands far ahead in vtime and starves later.
	 */
	charge_until(tctx, gthulhu_now(), false);
	if (bw_charge_run(tctx, bpf_ktime_get_ns())) {
		tctx->refreshed_at = 0;
		gthulhu_task_set_slice(p, 0);
		return;
	}
	refresh_policy(p, tctx);
	if (tctx->throttled ||
	    (tctx->idle_class && (scx_bpf_dsq_nr_queued(SHARED_DSQ) ||
				  scx_bpf_dsq_nr_queued(CPU_DSQ(cpu)))))
		gthulhu_task_set_slice(p, 0);
}

/*
 * Cgroup callbacks. cgroup_init runs for every cgroup of the cpu controller that
 * exists when the scheduler attaches and for each one created later.
 */
s32 BPF_STRUCT_OPS_SLEEPABLE(gthulhu_cgroup_init, struct cgroup *cgrp,
			     struct scx_cgroup_init_args *args)
{
	struct gthulhu_cgroup_state *cs;

	cs = bpf_cgrp_storage_get(&cgroup_states, cgrp, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!cs)
		return -ENOMEM;
	cs->cgid = cgrp->kn->id;
	cs->weight = args->weight ? args->weight : 100;
	cs->policy_factor = GTHULHU_WEIGHT_DEFAULT;
	cs->counted_weight = cs->weight * GTHULHU_WEIGHT_DEFAULT / 100;
	/* Fields newer kernels pass (6.17: bandwidth, 7.1: idle); CO-RE drops them elsewhere. */
	if (bpf_core_field_exists(args->bw_quota_us)) {
		u64 quota = args->bw_quota_us, period = args->bw_period_us;

		if (quota != ~0ULL && quota && period) {
			cs->quota_ns = quota * 1000;
			cs->period_ns = period * 1000;
		}
	}
	if (bpf_core_field_exists(args->sched_idle))
		cs->idle = args->sched_idle;
	return 0;
}

void BPF_STRUCT_OPS(gthulhu_cgroup_exit, struct cgroup *cgrp)
{
	/* The storage goes with the cgroup; nothing of ours points at it by pointer. */
}

void BPF_STRUCT_OPS(gthulhu_cgroup_move, struct task_struct *p, struct cgroup *from,
		    struct cgroup *to)
{
	struct task_ctx *tctx = task_ctx_of(p);
	u64 to_id = to->kn->id;

	if (!tctx)
		return;
	tctx->cgid = to_id;
	/* Its policy and share are those of its new cgroup from its next enqueue on. */
	tctx->refreshed_at = 0;
	/* Runnable while moved: its weight moves along. */
	if (tctx->counted_cgid && tctx->counted_cgid == from->kn->id) {
		cg_deactivate(from, tctx->counted_w);
		tctx->counted_cgid = to_id;
		cg_activate(to, tctx->counted_w, bpf_ktime_get_ns());
	}
}

void BPF_STRUCT_OPS(gthulhu_cgroup_set_weight, struct cgroup *cgrp, u32 weight)
{
	struct gthulhu_cgroup_state *cs = cg_state(cgrp);

	if (!cs)
		return;
	cs->weight = weight ? weight : 1;
	cg_reweight(cgrp, cs, cg_entity_weight(cs, bpf_ktime_get_ns()));
}

void BPF_STRUCT_OPS(gthulhu_cgroup_set_idle, struct cgroup *cgrp, bool idle)
{
	struct gthulhu_cgroup_state *cs = cg_state(cgrp);

	if (!cs)
		return;
	cs->idle = idle;
	cg_reweight(cgrp, cs, cg_entity_weight(cs, bpf_ktime_get_ns()));
}

/* cpu.max "QUOTA PERIOD" (us; quota ~0 = "max"). A new limit starts a fresh period. */
void BPF_STRUCT_OPS(gthulhu_cgroup_set_bandwidth, struct cgroup *cgrp, u64 period_us,
		    u64 quota_us, u64 burst_us)
{
	struct gthulhu_cgroup_state *cs = cg_state(cgrp);

	if (!cs)
		return;
	if (quota_us == ~0ULL || !quota_us || !period_us) {
		cs->quota_ns = 0;
	} else {
		cs->quota_ns = quota_us * 1000;
		cs->period_ns = period_us * 1000;
	}
	cs->period_end = 0;
	cs->used_ns = 0;
	if (__sync_val_compare_and_swap(&cs->throttled, 1, 0) == 1)
		release_pending = 1;
}

void BPF_STRUCT_OPS(gthulhu_enable, struct task_struct *p)
{
	struct task_ctx *tctx = task_ctx_of(p);

	/* New (and, at load, all existing) tasks start level with the queue. */
	if (tctx)
		tctx->vtime = vtime_now;
}

s32 BPF_STRUCT_OPS(gthulhu_init_task, struct task_struct *p, struct scx_init_task_args *args)
{
	struct task_ctx *tctx;

	tctx = bpf_task_storage_get(&task_ctxs, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!tctx)
		return -ENOMEM;
	/*
	 * The policy is resolved at the first enqueue, not here: at fork the child is
	 * not in its cgroup yet (cgroup_post_fork runs after this).
	 */
	tctx->first_pending = args->fork;
	tctx->last_dsq = NO_DSQ;
	tctx->eff_w = VT_ONE;
	tctx->slice_ns = slice_default_ns;
	if (args->cgroup)
		tctx->cgid = args->cgroup->kn->id;
	return 0;
}

/* The release timer: parked tasks may run again; a dispatch puts them back. */
static int release_timer_fn(void *map, int *key, struct bpf_timer *timer)
{
	s32 cpu;

	release_armed_at = 0;
	release_pending = 1;
	cpu = pick_any_idle_cpu();
	/* No CPU idle: make this one dispatch now rather than at its next slice end. */
	scx_bpf_kick_cpu(cpu >= 0 ? cpu : bpf_get_smp_processor_id(),
			 cpu >= 0 ? SCX_KICK_IDLE : SCX_KICK_PREEMPT);
	return 0;
}

s32 BPF_STRUCT_OPS_SLEEPABLE(gthulhu_init)
{
	u32 n = scx_bpf_nr_cpu_ids();
	struct release_timer *rt;
	u32 cpu, zero = 0;
	s32 ret;

	if (n > MAX_CPUS)
		return -E2BIG;
	nr_cpus = n;

	ret = scx_bpf_create_dsq(SHARED_DSQ, -1);
	if (ret)
		return ret;
	bpf_for(cpu, 0, n) {
		ret = scx_bpf_create_dsq(CPU_DSQ(cpu), -1);
		if (ret)
			return ret;
	}
	ret = scx_bpf_create_dsq(IDLE_DSQ, -1);
	if (ret)
		return ret;
	ret = scx_bpf_create_dsq(THROTTLED_DSQ, -1);
	if (ret)
		return ret;

	rt = bpf_map_lookup_elem(&release_timers, &zero);
	if (!rt)
		return -ENOMEM;
	ret = bpf_timer_init(&rt->timer, &release_timers, CLOCK_MONOTONIC);
	if (ret)
		return ret;
	return bpf_timer_set_callback(&rt->timer, release_timer_fn);
}

static __always_inline void fill_exit_info(struct gthulhu_exit_info *out,
					   struct scx_exit_info *ei, u64 now)
{
	out->exit_code = ei->exit_code;
	out->kind = ei->kind;
	out->timestamp_ns = now;
	bpf_probe_read_kernel_str(out->reason, sizeof(out->reason), ei->reason);
	bpf_probe_read_kernel_str(out->msg, sizeof(out->msg), ei->msg);
	out->valid = 1;
}

void BPF_STRUCT_OPS(gthulhu_exit, struct scx_exit_info *ei)
{
	struct gthulhu_exit_info *info;
	struct gthulhu_sched_event *ev;
	u64 now = bpf_ktime_get_ns();
	u32 zero = 0;

	info = bpf_map_lookup_elem(&sched_exit, &zero);
	if (info)
		fill_exit_info(info, ei, now);

	ev = bpf_ringbuf_reserve(&sched_events, sizeof(*ev), 0);
	if (ev) {
		ev->type = GTHULHU_EVENT_SCHED_EXIT;
		ev->reserved = 0;
		fill_exit_info(&ev->exit, ei, now);
		bpf_ringbuf_submit(ev, BPF_RB_FORCE_WAKEUP);
	}
}

/*
 * flags: SCX_OPS_SWITCH_PARTIAL stays off so every SCHED_NORMAL/BATCH/IDLE task is
 * ours; SCX_OPS_ENQ_LAST is on: without it the kernel refills the slice of a lone
 * task that ops.dispatch did not keep, and a throttled task would run on (ops.enqueue
 * parks it instead, or gives it its CPU back); SCX_OPS_ENQ_EXITING stays off: the kernel runs exiting tasks
 * locally, which is safe and this scheduler never looks tasks up by pid.
 * timeout_ms: a runnable task that waits 5 s aborts the scheduler (loader may change
 * it; the kernel caps it at 30 s).
 */
SEC(".struct_ops.link")
struct sched_ext_ops gthulhu_ops = {
	.select_cpu = (void *)gthulhu_select_cpu,
	.enqueue = (void *)gthulhu_enqueue,
	.dispatch = (void *)gthulhu_dispatch,
	.runnable = (void *)gthulhu_runnable,
	.running = (void *)gthulhu_running,
	.stopping = (void *)gthulhu_stopping,
	.quiescent = (void *)gthulhu_quiescent,
	.tick = (void *)gthulhu_tick,
	.enable = (void *)gthulhu_enable,
	.cgroup_init = (void *)gthulhu_cgroup_init,
	.cgroup_exit = (void *)gthulhu_cgroup_exit,
	.cgroup_move = (void *)gthulhu_cgroup_move,
	.cgroup_set_weight = (void *)gthulhu_cgroup_set_weight,
	/* Newer than 6.12: the loader clears these where the kernel lacks them. */
	.cgroup_set_bandwidth = (void *)gthulhu_cgroup_set_bandwidth,
	.cgroup_set_idle = (void *)gthulhu_cgroup_set_idle,
	.init_task = (void *)gthulhu_init_task,
	.init = (void *)gthulhu_init,
	.exit = (void *)gthulhu_exit,
	.flags = SCX_OPS_ENQ_LAST,
	.timeout_ms = 5000,
	.name = "gthulhu",
};
