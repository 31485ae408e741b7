/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Types shared by the BPF programs (scheduler and tracker) and user space (the agent).
 * This is the one place where map keys and values are defined; both sides include it.
 * Every struct is fixed-size and naturally aligned so the layout is identical for
 * clang -target bpf and for the host compilers, and `bpftool map dump` shows names.
 */
#ifndef GTHULHU_SHARED_H
#define GTHULHU_SHARED_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Maps shared between objects are pinned here by name (LIBBPF_PIN_BY_NAME). */
#define GTHULHU_PIN_ROOT "/sys/fs/bpf/gthulhu"

/*
 * Version of what is pinned under the pin root: the structs below and the maps'
 * definitions. The agent records it in <pin root>/abi_version and adopts pins only of
 * the same version (agent/bpf/bpf_support.h). Bump it whenever a pinned map's key or
 * value struct changes meaning or layout, even when its size stays the same.
 */
#define GTHULHU_ABI_VERSION 1

/* ---- policy semantics ------------------------------------------------------------- */

/* priority: -20..20, 0 = default fair share, higher = more CPU and earlier dispatch. */
#define GTHULHU_PRIORITY_MIN (-20)
#define GTHULHU_PRIORITY_MAX 20
#define GTHULHU_WEIGHT_DEFAULT 1024u

/* Time slice bounds in ns; executionTime is clamped into [MIN, MAX], 0 = default. */
#define GTHULHU_SLICE_MIN_NS (500ULL * 1000)         /* 0.5 ms */
#define GTHULHU_SLICE_MAX_NS (100ULL * 1000 * 1000)  /* 100 ms */
#define GTHULHU_SLICE_DEFAULT_NS (5ULL * 1000 * 1000) /* 5 ms */

/*
 * weight(p) = 1024 * 1.25^p, rounded: a geometric step of 1.25x per priority level,
 * like the kernel's nice table (where one nice level is also ~1.25x).
 * Index with priority - GTHULHU_PRIORITY_MIN.
 */
static const __u32 gthulhu_priority_weights[41] = {
	12, 15, 18, 23, 29, 36, 45, 56, 70, 88,  /* -20..-11 */
	110, 137, 172, 215, 268, 336, 419, 524, 655, 819,  /* -10..-1 */
	1024,  /* 0 */
	1280, 1600, 2000, 2500, 3125, 3906, 4883, 6104, 7629, 9537,  /* 1..10 */
	11921, 14901, 18626, 23283, 29104, 36380, 45475, 56843, 71054, 88818,  /* 11..20 */
};

static inline __u32 gthulhu_weight_of(__s32 priority)
{
	if (priority < GTHULHU_PRIORITY_MIN)
		priority = GTHULHU_PRIORITY_MIN;
	if (priority > GTHULHU_PRIORITY_MAX)
		priority = GTHULHU_PRIORITY_MAX;
	return gthulhu_priority_weights[priority - GTHULHU_PRIORITY_MIN];
}

/* Tasks at or above this priority preempt a lower-priority task when they wake up. */
#define GTHULHU_PREEMPT_PRIORITY 10

/* gthulhu_policy.flags */
enum gthulhu_policy_flags {
	GTHULHU_POLICY_APPLY = 1u << 0,      /* priority/slice apply to every task here */
	GTHULHU_POLICY_WATCH_EXEC = 1u << 1, /* report exec events (commandRegex intents) */
	GTHULHU_POLICY_INHERITED = 1u << 2,  /* copied by the tracker from the parent cgroup */
};

/*
 * Value of policy_by_cgroup (key: __u64 cgroup v2 id, i.e. the directory's inode) and
 * of policy_by_tgid (key: __u32 tgid; a per-process override from a commandRegex match
 * that covers every thread of the process).
 * Resolution for a task: policy_by_tgid[tgid], else policy_by_cgroup[task's cgroup] if it
 * has GTHULHU_POLICY_APPLY, else the default (priority 0, default slice).
 */
struct gthulhu_policy {
	__u32 policy_id;  /* index into policy_stats; 0 = unpolicied bucket */
	__s32 priority;   /* -20..20 */
	__u64 slice_ns;   /* 0 = scheduler default; user space clamps */
	__u32 flags;      /* enum gthulhu_policy_flags */
	__u32 weight;     /* gthulhu_weight_of(priority), precomputed by the writer */
};

#define GTHULHU_MAX_POLICIES 4096 /* policy ids 1..4095; 0 collects unpolicied tasks */

/* ---- per-policy statistics (PERCPU_ARRAY indexed by policy_id) ---------------------- */

#define GTHULHU_WAIT_HIST_BUCKETS 24 /* log2(ns): bucket i counts waits in [2^(i+9), 2^(i+10)) ns, first and last open */

struct gthulhu_policy_stats {
	__u64 cpu_time_ns;       /* time on CPU while running under this policy */
	__u64 run_count;         /* times a task of this policy started running */
	__u64 wait_time_ns;      /* runnable-to-running time summed */
	__u64 first_enqueues;    /* tasks whose very first enqueue already had this policy */
	__u64 wait_hist[GTHULHU_WAIT_HIST_BUCKETS];
	/* cpu.max of the policied cgroup (or of a cgroup below it, counted to its policy) */
	__u64 nr_throttled;      /* periods in which its quota ran out */
	__u64 throttled_time_ns; /* time it spent throttled */
};

/* ---- the seed's global MetricSet (PERCPU_ARRAY, one entry) ------------------------- */
/*
 * Names follow the seed's Prometheus gauges; meanings for a scheduler that decides in
 * BPF are documented in README.md ("Scheduler metrics").
 */
struct gthulhu_sched_stats {
	__u64 nr_enqueues;          /* ops.enqueue calls */
	__u64 nr_direct_dispatches; /* idle CPU found at wakeup: inserted to the local DSQ */
	__u64 nr_policy_dispatches; /* dispatches of tasks running under a policy */
	__u64 nr_default_dispatches;/* dispatches of tasks with no policy */
	__u64 nr_preemptions;       /* wakeup preemptions by GTHULHU_PREEMPT_PRIORITY tasks */
	__u64 nr_bounces;           /* chosen CPU not allowed any more: sent to the shared DSQ */
	__u64 nr_failed_dispatches; /* dsq insert/move found nothing to run on a busy system */
	__u64 nr_lag_clamps;        /* wakeups whose banked credit was capped */
	__u64 nr_running;           /* tasks on a CPU now (per-CPU 0/1, summed by readers) */
	__u64 last_dispatch_ns;     /* bpf_ktime of the last ops.dispatch on this CPU */
	__u64 nr_starvation_rescues;/* tasks queued longer than the starvation bound, run out of vtime order */
	/* the cgroup CPU controller (README "The Kubernetes CPU contract") */
	__u64 nr_throttled;         /* cgroup periods whose cpu.max quota ran out (all cgroups) */
	__u64 nr_throttled_tasks;   /* tasks parked because a cgroup of theirs was throttled */
	__u64 nr_unthrottled_tasks; /* parked tasks put back in the queues at a new period */
	__u64 nr_idle_preemptions;  /* CPUs running a cpu.idle task kicked for a normal one */
	__u64 nr_idle_dispatches;   /* cpu.idle tasks run (no normal task queued on that CPU) */
	/* locality of the shared queue (bpf/gthulhu.bpf.c, pick_local_shared()) */
	__u64 nr_local_picks;       /* a task already on this CPU ran within the lag bound instead of the queue head */
	__u64 nr_remote_moves;      /* the shared queue's head was pulled over from the CPU it last ran on */
};

/*
 * ---- per-cgroup state of the CPU controller (CGRP_STORAGE "cgroup_states") ----------
 * One per cgroup of the cpu controller, created by ops.cgroup_init. The scheduler
 * flattens the hierarchy: a task's share of the machine is the product, level by
 * level, of its entity's weight over the sum of the active entity weights beside it.
 */
/* The cgroup callbacks the scheduler implements; user space reports those the kernel lacks. */
#define GTHULHU_CGROUP_CALLBACKS                                                      \
	"cgroup_init", "cgroup_exit", "cgroup_move", "cgroup_set_weight",             \
	"cgroup_set_bandwidth", "cgroup_set_idle"

#define GTHULHU_CGROUP_WEIGHT_IDLE 3 /* entity weight of a cpu.idle cgroup (the kernel's SCHED_IDLE weight) */

struct gthulhu_cgroup_state {
	__u64 cgid;
	__u64 active_sum;      /* entity weights of what is active directly below: runnable tasks + active child cgroups */
	__u64 counted_weight;  /* the entity weight this cgroup adds to its parent's active_sum while active */
	__u64 factor_at;       /* when policy_factor was last read from policy_by_cgroup */
	__s32 nr_active;       /* active entities directly below (> 0: this cgroup is active) */
	__u32 weight;          /* cpu.weight, 1..10000 */
	__u32 policy_factor;   /* gthulhu_weight_of(its policy's priority); 1024 without a policy */
	__u32 policy_id;       /* its policy (0 = none), where its throttling is counted */
	__u32 idle;            /* cpu.idle */
	__u32 throttled;       /* 1 while its quota is used up in the current period */
	__u64 quota_ns;        /* cpu.max quota per period; 0 = "max" (no limit) */
	__u64 period_ns;       /* cpu.max period */
	__u64 period_end;      /* end of the current period (bpf_ktime_get_ns clock); 0 = not started */
	__u64 used_ns;         /* CPU time charged in this period; above quota_ns it is debt for the next */
	__u64 throttled_at;    /* when it was last throttled */
	__u64 nr_throttled;    /* periods in which the quota ran out (as cpu.stat nr_throttled) */
	__u64 throttled_time_ns; /* time spent throttled (as cpu.stat throttled_usec) */
};

/* ---- scheduler exit info (ring buffer record and ARRAY map "sched_exit") ------------- */

#define GTHULHU_EXIT_REASON_LEN 128
#define GTHULHU_EXIT_MSG_LEN 1024

struct gthulhu_exit_info {
	__s64 exit_code;
	__u32 kind;      /* enum scx_exit_kind: 64 UNREG, 1024 ERROR, 1026 ERROR_STALL, ... */
	__u32 valid;     /* 1 once ops.exit ran */
	__u64 timestamp_ns;
	char reason[GTHULHU_EXIT_REASON_LEN];
	char msg[GTHULHU_EXIT_MSG_LEN];
};

/* Record of the scheduler's ring buffer "sched_events". */
struct gthulhu_sched_event {
	__u32 type;      /* GTHULHU_EVENT_SCHED_EXIT */
	__u32 reserved;
	struct gthulhu_exit_info exit;
};

/* ---- tracker: processes and cgroups ----------------------------------------------- */

#define GTHULHU_COMM_LEN 16
#define GTHULHU_ARGS_LEN 256

/* Value of proc_table (key: __u32 tgid): every process on the node, kept by the tracker. */
struct gthulhu_proc {
	__u64 cgroup_id;   /* cgroup v2 id of the process's leader */
	__u64 start_ns;    /* task->start_boottime: boot-clock ns at fork (same for seeded ones) */
	__u32 ppid;        /* parent tgid */
	__u32 exec_count;  /* execs seen since tracking started */
	char comm[GTHULHU_COMM_LEN];
};

enum gthulhu_event_type {
	GTHULHU_EVENT_EXEC = 1,         /* exec in a cgroup flagged WATCH_EXEC */
	GTHULHU_EVENT_EXIT = 2,         /* a watched process exited */
	GTHULHU_EVENT_CGROUP_MKDIR = 3, /* any cgroup v2 directory created */
	GTHULHU_EVENT_CGROUP_RMDIR = 4,
	GTHULHU_EVENT_SCHED_EXIT = 5,   /* the scheduler was unloaded: struct gthulhu_exit_info follows */
};

/* Tracker ring buffer record. */
struct gthulhu_event {
	__u32 type;        /* enum gthulhu_event_type */
	__u32 tgid;
	__u32 pid;
	__u32 ppid;
	__u64 cgroup_id;
	__u64 parent_cgroup_id; /* for mkdir/rmdir */
	__u64 timestamp_ns;
	__u32 args_len;    /* bytes of args used (NUL-separated argv) */
	__u32 level;       /* cgroup depth for mkdir/rmdir */
	char comm[GTHULHU_COMM_LEN];
	char args[GTHULHU_ARGS_LEN]; /* exec: argv, NUL-separated; mkdir/rmdir: cgroup name */
};

/* tracker_stats (PERCPU_ARRAY, one entry): nothing is lost silently. */
struct gthulhu_tracker_stats {
	__u64 forks;
	__u64 execs;
	__u64 exits;
	__u64 cgroup_mkdirs;
	__u64 cgroup_rmdirs;
	__u64 policies_inherited;   /* cgroups that got a parent's policy at mkdir */
	__u64 events_sent;
	__u64 events_lost;          /* ring buffer full */
	__u64 proc_table_full;      /* proc_table update failed: process not tracked */
	__u64 overrides_inherited;  /* forks that copied the parent's tgid override */
	__u64 policy_inherit_failed; /* mkdir/fork could not write an inherited policy (map full) */
};

#endif /* GTHULHU_SHARED_H */
