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
 * then it keeps the CPU. A waking task goes straight to an idle CPU's local DSQ when
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
#define E2BIG 7

/* CPUs this object supports; init fails cleanly on a bigger machine. */
#define MAX_CPUS 1024

/* DSQ ids: user DSQs are any id without the built-in bit. CPU c has DSQ c. */
#define SHARED_DSQ (1ULL << 32)
#define CPU_DSQ(cpu) ((u64)(cpu))

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
	u32 weight;	   /* cached weight */
	bool first_pending; /* forked while we were loaded and not queued yet */
	bool in_order;	    /* queued on a vtime DSQ: its run may advance vtime_now */
	u64 last_dsq;	    /* the vtime DSQ it was last queued on (NO_DSQ: none yet) */
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

/*
 * Resolve @p's policy into its context. Called every time the task is queued (and
 * when a CPU hog gets a new slice), so map updates reach running tasks within one
 * slice and a new task has its policy at its very first enqueue.
 */
static void refresh_policy(struct task_struct *p, struct task_ctx *tctx)
{
	struct gthulhu_policy *pol;
	u32 tgid = p->tgid;
	u64 cgid;
	s32 prio;
	u32 weight;

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
		tctx->weight = weight ? weight : 1;
		tctx->slice_ns = slice_default_ns;
		return;
	}

	/* Entries come from user space: take each field once and bound it. */
	prio = pol->priority;
	if (prio < GTHULHU_PRIORITY_MIN)
		prio = GTHULHU_PRIORITY_MIN;
	if (prio > GTHULHU_PRIORITY_MAX)
		prio = GTHULHU_PRIORITY_MAX;
	weight = pol->weight;
	if (weight < gthulhu_priority_weights[0] ||
	    weight > gthulhu_priority_weights[GTHULHU_PRIORITY_MAX - GTHULHU_PRIORITY_MIN])
		weight = gthulhu_weight_of(prio);

	tctx->policy_id = pol->policy_id;
	tctx->priority = prio;
	tctx->weight = weight;
	tctx->slice_ns = clamp_slice(pol->slice_ns);
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
static void charge_run(struct task_ctx *tctx, u64 now)
{
	struct gthulhu_policy_stats *ps;
	u64 ran;

	if (!tctx->started_at || now <= tctx->started_at)
		return;
	ran = now - tctx->started_at;
	tctx->started_at = 0;
	tctx->vtime += ran * GTHULHU_WEIGHT_DEFAULT / tctx->weight;

	ps = policy_stats_of(tctx->policy_id);
	if (ps)
		ps->cpu_time_ns += ran;
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
		high = vtime_now + tctx->slice_ns * GTHULHU_WEIGHT_DEFAULT / tctx->weight;
		if (vtime_before(tctx->vtime, low))
			tctx->vtime = low;
		else if (vtime_before(high, tctx->vtime))
			tctx->vtime = high;
	}
	tctx->last_dsq = dsq_id;
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

	refresh_policy(p, tctx);
	note_queued(tctx, ss);

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
}

/* vtime of the first task of @dsq_id, if any. */
static bool dsq_head_vtime(u64 dsq_id, u64 *vtime)
{
	struct task_struct *p;

	bpf_for_each(scx_dsq, p, dsq_id, 0) {
		*vtime = p->scx.dsq_vtime;
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
	u64 before;
	u32 i;

	if (!ss)
		return false;
	before = ss->nr_starvation_rescues;
	if (bpf_iter_scx_dsq_new(&it, dsq_id, SCX_DSQ_ITER_REV) == 0) {
		bpf_for(i, 0, STARVE_SCAN_TASKS) {
			struct task_ctx *tctx;

			p = bpf_iter_scx_dsq_next(&it);
			if (!p)
				break;
			tctx = task_ctx_of(p);
			if (!tctx || waited_ns(p, tctx, now) < starve_after_ns)
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

/*
 * @prev used up its slice and is still runnable. It is not queued yet (ops.enqueue
 * runs after ops.dispatch), so compare it with the queue heads here: if its vtime,
 * counting the run so far, is still the lowest it keeps the CPU with a fresh slice
 * of its own policy. Otherwise a task far ahead of it in vtime order would run first
 * and it would wait a whole slice at the back, costing high-weight tasks their share
 * and latency-sensitive ones their bursts.
 */
static __always_inline bool keep_prev(struct task_struct *prev, struct task_ctx *tctx, u64 now,
				      bool on_cpu_dsq, u64 cpu_vtime, bool on_shared,
				      u64 shared_vtime)
{
	u64 vtime = tctx->vtime;

	if (tctx->started_at && now > tctx->started_at)
		vtime += (now - tctx->started_at) * GTHULHU_WEIGHT_DEFAULT / tctx->weight;
	if ((on_cpu_dsq && vtime_before(cpu_vtime, vtime)) ||
	    (on_shared && vtime_before(shared_vtime, vtime)))
		return false;

	/* The slice boundary counts as a new run: run lengths in the statistics stay true. */
	charge_run(tctx, now);
	refresh_policy(prev, tctx);
	start_run(tctx, now);
	if (vtime_before(vtime_now, tctx->vtime))
		vtime_now = tctx->vtime;
	gthulhu_task_set_slice(prev, kernel_slice(tctx->slice_ns));
	return true;
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

void BPF_STRUCT_OPS(gthulhu_dispatch, s32 cpu, struct task_struct *prev)
{
	struct gthulhu_sched_stats *ss = sched_stats_this_cpu();
	struct cpu_state *cs = cpu_state_of(cpu);
	struct task_ctx *prev_ctx = NULL;
	u64 now = gthulhu_now();
	u64 first = SHARED_DSQ, second = CPU_DSQ(cpu);
	u64 cpu_vtime = 0, shared_vtime = 0;
	bool on_cpu_dsq, on_shared;

	if (ss)
		ss->last_dispatch_ns = now;

	if (cs && now - cs->last_starve_scan >= STARVE_SCAN_INTERVAL_NS) {
		cs->last_starve_scan = now;
		if (scx_bpf_dsq_nr_queued(CPU_DSQ(cpu)) > 0)
			requeue_misplaced(cpu);
		if (starve_after_ns &&
		    (rescue_starved(cpu, CPU_DSQ(cpu), now) || rescue_starved(cpu, SHARED_DSQ, now)))
			return;
	}

	on_cpu_dsq = scx_bpf_dsq_nr_queued(CPU_DSQ(cpu)) > 0 &&
		     dsq_head_vtime(CPU_DSQ(cpu), &cpu_vtime);
	on_shared = scx_bpf_dsq_nr_queued(SHARED_DSQ) > 0 &&
		    dsq_head_vtime(SHARED_DSQ, &shared_vtime);

	if (prev && (prev->scx.flags & SCX_TASK_QUEUED))
		prev_ctx = task_ctx_of(prev);
	if (prev_ctx && keep_prev(prev, prev_ctx, now, on_cpu_dsq, cpu_vtime, on_shared,
				  shared_vtime))
		return;

	if (on_cpu_dsq || on_shared) {
		/* Lowest vtime first between this CPU's own queue and the shared one. */
		if (on_cpu_dsq && (!on_shared || vtime_before(cpu_vtime, shared_vtime))) {
			first = CPU_DSQ(cpu);
			second = SHARED_DSQ;
		}
		if (gthulhu_dsq_move_to_local(first) || gthulhu_dsq_move_to_local(second))
			return;
		if (ss)
			ss->nr_failed_dispatches++;
		/* Another CPU took them: @prev keeps the CPU after all. */
		if (prev_ctx)
			keep_prev(prev, prev_ctx, now, false, 0, false, 0);
	}
}

void BPF_STRUCT_OPS(gthulhu_runnable, struct task_struct *p, u64 enq_flags)
{
	struct task_ctx *tctx = task_ctx_of(p);
	struct gthulhu_sched_stats *ss;
	u64 floor;

	if (!tctx)
		return;
	tctx->runnable_at = gthulhu_now();

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
	if (cs)
		cs->busy = 0;
	if (!tctx)
		return;

	charge_run(tctx, now);
	/* Still runnable (slice used up or preempted): it waits again from now. */
	if (runnable)
		tctx->runnable_at = now;
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
	tctx->weight = GTHULHU_WEIGHT_DEFAULT;
	tctx->slice_ns = slice_default_ns;
	return 0;
}

s32 BPF_STRUCT_OPS_SLEEPABLE(gthulhu_init)
{
	u32 n = scx_bpf_nr_cpu_ids();
	u32 cpu;
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
	return 0;
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
 * flags: none. SCX_OPS_SWITCH_PARTIAL stays off so every SCHED_NORMAL/BATCH/IDLE task
 * is ours; SCX_OPS_ENQ_LAST stays off because ops.dispatch already gives a lone task
 * its own slice again; SCX_OPS_ENQ_EXITING stays off: the kernel runs exiting tasks
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
	.enable = (void *)gthulhu_enable,
	.init_task = (void *)gthulhu_init_task,
	.init = (void *)gthulhu_init,
	.exit = (void *)gthulhu_exit,
	.flags = 0,
	.timeout_ms = 5000,
	.name = "gthulhu",
};
