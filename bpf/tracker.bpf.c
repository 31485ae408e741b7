// SPDX-License-Identifier: GPL-2.0
/*
 * The cgroup and process tracker: keeps the node's process table and the cgroup policy
 * tree up to date from kernel events, so the agent never scans /proc and a pod's new
 * cgroups and processes get their policy without any user-space step.
 *
 * Works on any kernel with BTF (tp_btf programs, no sched_ext, no tracefs needed).
 *
 * Cgroups (cgroup v2 only; on hybrid hosts the v1 hierarchies fire the same
 * tracepoints with ids from their own numbering, so they are filtered out by
 * root->hierarchy_id, which is 0 only for the default hierarchy):
 *   cgroup_mkdir  - a new cgroup under a cgroup with a policy gets a copy of that policy
 *                   (flag GTHULHU_POLICY_INHERITED) before mkdir() returns, i.e. before
 *                   any process can be put into it; then a CGROUP_MKDIR event tells the
 *                   agent about the new directory (pod and container discovery).
 *   cgroup_rmdir  - the cgroup's policy entry goes, and a CGROUP_RMDIR event.
 *
 * Processes (proc_table: tgid -> struct gthulhu_proc, threads share their process's
 * entry; kernel threads are not tracked, they never belong to a pod):
 *   sched_process_fork   - a new process: its entry with the CHILD's own default
 *                          cgroup, which already reflects clone3(CLONE_INTO_CGROUP)
 *                          (that path fires no cgroup_attach_task); a tgid override of
 *                          the forking process is copied to the child.
 *   cgroup_attach_task   - a process moved to another cgroup (cgroup.procs write). It
 *                          runs in the writer's context, so everything comes from the
 *                          task argument, never from current.
 *   sched_process_exec   - new comm; exec in a cgroup flagged WATCH_EXEC sends an EXEC
 *                          event with argv (commandRegex matching happens in the agent).
 *   sched_process_exit   - when the last thread of a process exits: drop its entry and
 *                          its override (EXIT event if it had one).
 *
 * Iterators run on demand by the agent:
 *   iter/task   tk_seed       - fills proc_table with processes that predate the tracker.
 *   iter.s/task tk_scan_exec  - writes EXEC records (argv) of existing processes in
 *                               WATCH_EXEC cgroups: a commandRegex intent that arrives
 *                               after its pod started has nothing to wait for.
 *   iter/cgroup tk_cgroups    - writes one CGROUP_MKDIR record (leaf name) per existing
 *                               cgroup v2 directory, parents first.
 *
 * Nothing is lost silently: a full ring buffer counts events_lost, a failed proc_table
 * update counts proc_table_full, a failed inherited-policy write policy_inherit_failed.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "gthulhu_shared.h"
#include "policy_maps.bpf.h"

char _license[] SEC("license") = "GPL";

/* include/linux/sched.h; macros are not in BTF. */
#define PF_KTHREAD 0x00200000

/* include/uapi/asm-generic/errno-base.h */
#define EEXIST 17

/* Loader resizes both before load (TrackerOptions). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, __u32);
	__type(value, struct gthulhu_proc);
	/*
	 * Memory follows the number of processes instead of the worst case; an
	 * allocation failure shows up as proc_table_full like a full table.
	 */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} proc_table SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} tracker_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gthulhu_tracker_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tracker_stats SEC(".maps");

/*
 * Per-CPU counters, but programs are preemptible (they run with migration disabled,
 * not preemption), so two programs can interleave on one CPU: add atomically.
 */
#define STAT_ADD(field, n)                                                 \
	do {                                                               \
		__u32 __zero = 0;                                          \
		struct gthulhu_tracker_stats *__s =                        \
			bpf_map_lookup_elem(&tracker_stats, &__zero);      \
		if (__s)                                                   \
			__sync_fetch_and_add(&__s->field, (n));            \
	} while (0)
#define STAT_INC(field) STAT_ADD(field, 1)

/* ---- helpers ------------------------------------------------------------------- */

static __always_inline bool is_cgroup2(struct cgroup *cgrp)
{
	return BPF_CORE_READ(cgrp, root, hierarchy_id) == 0;
}

static __always_inline __u64 cgroup_id(struct cgroup *cgrp)
{
	return BPF_CORE_READ(cgrp, kn, id);
}

/* Via the css parent: kernfs_node's parent field was renamed (__parent) in 6.15. */
static __always_inline __u64 cgroup_parent_id(struct cgroup *cgrp)
{
	struct cgroup_subsys_state *parent = BPF_CORE_READ(cgrp, self.parent);

	return parent ? BPF_CORE_READ(parent, cgroup, kn, id) : 0;
}

/* The task's cgroup v2 cgroup, also right on hybrid hosts (v1 is not "dfl"). */
static __always_inline __u64 task_cgroup_id(struct task_struct *task)
{
	return BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
}

/*
 * signal->live counts the threads that have not passed do_exit's decrement yet; it
 * is 0 at the tracepoint of the last one, whichever thread that is (the leader may
 * exit first and linger as a zombie while other threads run).
 */
static __always_inline bool process_dead(struct task_struct *task)
{
	return BPF_CORE_READ(task, signal, live.counter) == 0;
}

static __always_inline void proc_fill(struct gthulhu_proc *p, struct task_struct *task)
{
	p->cgroup_id = task_cgroup_id(task);
	p->start_ns = BPF_CORE_READ(task, start_boottime);
	p->ppid = BPF_CORE_READ(task, real_parent, tgid);
	p->exec_count = 0;
	BPF_CORE_READ_STR_INTO(&p->comm, task, comm);
}

/* Insert or overwrite (a stale entry of a reused pid is replaced). */
static __always_inline void proc_put(__u32 tgid, struct gthulhu_proc *p, __u64 flags)
{
	long err = bpf_map_update_elem(&proc_table, &tgid, p, flags);

	if (err && err != -EEXIST)
		STAT_INC(proc_table_full);
}

/* The ring buffer memory is reused: clear the record so nothing stale leaks out. */
static __always_inline struct gthulhu_event *event_reserve(__u32 type)
{
	struct gthulhu_event *e;

	e = bpf_ringbuf_reserve(&tracker_events, sizeof(*e), 0);
	if (!e) {
		STAT_INC(events_lost);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = type;
	e->timestamp_ns = bpf_ktime_get_boot_ns();
	return e;
}

/*
 * Waking the consumer costs an irq_work (a self-IPI: several microseconds in a VM),
 * more than everything else the tracker does for a process. Only EXEC records are
 * urgent (commandRegex -> override latency); the others are picked up by the
 * consumer's next poll timeout, or sooner once the ring is a quarter full. Urgent
 * records must force the wakeup: the kernel's adaptive mode only wakes a consumer
 * that has caught up, which it has not while quiet records wait in front.
 */
static __always_inline void event_submit(struct gthulhu_event *e, bool urgent)
{
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (urgent || bpf_ringbuf_query(&tracker_events, BPF_RB_AVAIL_DATA) >
			      bpf_ringbuf_query(&tracker_events, BPF_RB_RING_SIZE) / 4)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(e, flags);
	STAT_INC(events_sent);
}

static __always_inline void event_task(struct gthulhu_event *e, struct task_struct *task)
{
	e->tgid = BPF_CORE_READ(task, tgid);
	e->pid = BPF_CORE_READ(task, pid);
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
}

/* Bytes of argv to copy: the whole NUL-separated area, capped at GTHULHU_ARGS_LEN. */
static __always_inline __u32 argv_span(struct task_struct *task, unsigned long *start)
{
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	unsigned long arg_start, arg_end;

	if (!mm)
		return 0;
	arg_start = BPF_CORE_READ(mm, arg_start);
	arg_end = BPF_CORE_READ(mm, arg_end);
	if (arg_end <= arg_start)
		return 0;
	*start = arg_start;
	if (arg_end - arg_start > GTHULHU_ARGS_LEN)
		return GTHULHU_ARGS_LEN;
	return arg_end - arg_start;
}

/*
 * Cgroup event with the path the tracepoint gives (relative to the cgroup2 root,
 * starting with '/'). A path that may not fit is replaced by the leaf name, which
 * never starts with '/': the agent tells the two apart by the first byte.
 */
static __always_inline void emit_cgroup_event(__u32 type, struct cgroup *cgrp, const char *path,
					      __u64 id, __u64 parent_id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct gthulhu_event *e;
	long n;

	e = event_reserve(type);
	if (!e)
		return;
	event_task(e, task);
	e->cgroup_id = id;
	e->parent_cgroup_id = parent_id;
	e->level = BPF_CORE_READ(cgrp, level);
	n = bpf_probe_read_kernel_str(e->args, sizeof(e->args), path);
	if (n >= (long)sizeof(e->args) || n < 0)
		n = bpf_probe_read_kernel_str(e->args, sizeof(e->args), BPF_CORE_READ(cgrp, kn, name));
	e->args_len = n > 0 ? n : 0;
	event_submit(e, false);
}

/* ---- cgroups --------------------------------------------------------------------- */

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(tk_cg_mkdir, struct cgroup *cgrp, const char *path)
{
	struct gthulhu_policy *parent_policy;
	__u64 id, parent_id;

	if (!is_cgroup2(cgrp))
		return 0;
	id = cgroup_id(cgrp);
	parent_id = cgroup_parent_id(cgrp);
	STAT_INC(cgroup_mkdirs);

	parent_policy = bpf_map_lookup_elem(&policy_by_cgroup, &parent_id);
	if (parent_policy) {
		struct gthulhu_policy inherited = *parent_policy;

		inherited.flags |= GTHULHU_POLICY_INHERITED;
		/*
		 * NOEXIST: cgroup ids are never reused, so an existing entry can only be
		 * one the agent wrote on purpose; it wins.
		 */
		if (!bpf_map_update_elem(&policy_by_cgroup, &id, &inherited, BPF_NOEXIST))
			STAT_INC(policies_inherited);
		else
			STAT_INC(policy_inherit_failed);
	}

	emit_cgroup_event(GTHULHU_EVENT_CGROUP_MKDIR, cgrp, path, id, parent_id);
	return 0;
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(tk_cg_rmdir, struct cgroup *cgrp, const char *path)
{
	__u64 id;

	if (!is_cgroup2(cgrp))
		return 0;
	id = cgroup_id(cgrp);
	STAT_INC(cgroup_rmdirs);
	/* rmdir only succeeds on an empty cgroup: no task needs the policy any more. */
	bpf_map_delete_elem(&policy_by_cgroup, &id);
	emit_cgroup_event(GTHULHU_EVENT_CGROUP_RMDIR, cgrp, path, id, cgroup_parent_id(cgrp));
	return 0;
}

SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(tk_cg_attach, struct cgroup *dst_cgrp, const char *path, struct task_struct *task,
	     bool threadgroup)
{
	struct gthulhu_proc *proc, fresh;
	__u32 tgid;

	if (!is_cgroup2(dst_cgrp))
		return 0;
	tgid = BPF_CORE_READ(task, tgid);
	/* A single thread moved through cgroup.threads: the process stays the leader's. */
	if (!threadgroup && BPF_CORE_READ(task, pid) != tgid)
		return 0;
	if (BPF_CORE_READ(task, flags) & PF_KTHREAD)
		return 0;

	proc = bpf_map_lookup_elem(&proc_table, &tgid);
	if (proc) {
		proc->cgroup_id = cgroup_id(dst_cgrp);
		return 0;
	}
	/* Not known yet (full table earlier, or the seeding race): add it now. */
	proc_fill(&fresh, task);
	fresh.cgroup_id = cgroup_id(dst_cgrp);
	proc_put(tgid, &fresh, BPF_ANY);
	return 0;
}

/* ---- processes ----------------------------------------------------------------- */

/* Fires in the parent before the child is first woken: the child has not run yet. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(tk_fork, struct task_struct *parent, struct task_struct *child)
{
	struct gthulhu_policy *override;
	struct gthulhu_proc proc;
	__u32 tgid, parent_tgid;

	tgid = BPF_CORE_READ(child, tgid);
	parent_tgid = BPF_CORE_READ(parent, tgid);
	if (tgid == parent_tgid) /* a new thread, covered by its process's entry */
		return 0;
	if (BPF_CORE_READ(child, flags) & PF_KTHREAD)
		return 0;
	STAT_INC(forks);

	/* The child's own cgroup: differs from the parent's after CLONE_INTO_CGROUP. */
	proc_fill(&proc, child);
	proc_put(tgid, &proc, BPF_ANY);

	/*
	 * The forking process (not real_parent, which CLONE_PARENT changes) is the one
	 * whose command matched: its copy runs the same program until it execs, and
	 * then the agent re-evaluates it from the EXEC event.
	 */
	override = bpf_map_lookup_elem(&policy_by_tgid, &parent_tgid);
	if (override) {
		if (!bpf_map_update_elem(&policy_by_tgid, &tgid, override, BPF_ANY))
			STAT_INC(overrides_inherited);
		else
			STAT_INC(policy_inherit_failed);
	}
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tk_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct gthulhu_policy *policy;
	struct gthulhu_proc *proc;
	struct gthulhu_event *e;
	unsigned long arg_start = 0;
	__u64 cgid;
	__u32 tgid, len;

	/* After de_thread the exec'ing thread is the leader: tgid is the process. */
	tgid = BPF_CORE_READ(task, tgid);
	cgid = task_cgroup_id(task);
	STAT_INC(execs);

	proc = bpf_map_lookup_elem(&proc_table, &tgid);
	if (proc) {
		proc->cgroup_id = cgid;
		proc->exec_count++;
		BPF_CORE_READ_STR_INTO(&proc->comm, task, comm);
	} else {
		/* e.g. a kernel thread that became a user process (usermode helper) */
		struct gthulhu_proc fresh;

		proc_fill(&fresh, task);
		fresh.exec_count = 1;
		proc_put(tgid, &fresh, BPF_ANY);
	}

	policy = bpf_map_lookup_elem(&policy_by_cgroup, &cgid);
	if (!policy || !(policy->flags & GTHULHU_POLICY_WATCH_EXEC))
		return 0;

	e = event_reserve(GTHULHU_EVENT_EXEC);
	if (!e)
		return 0;
	event_task(e, task);
	e->cgroup_id = cgid;
	/* The new stack was just written by exec: the argv pages are resident. */
	len = argv_span(task, &arg_start);
	if (len > 0 && len <= GTHULHU_ARGS_LEN &&
	    !bpf_probe_read_user(e->args, len, (const void *)arg_start))
		e->args_len = len;
	event_submit(e, true);
	return 0;
}

/* 6.16+ pass group_dead as a second argument; signal->live works on every kernel. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(tk_exit, struct task_struct *task)
{
	struct gthulhu_event *e;
	__u32 tgid;

	if (!process_dead(task))
		return 0;
	tgid = BPF_CORE_READ(task, tgid);
	if (!bpf_map_delete_elem(&proc_table, &tgid))
		STAT_INC(exits);

	/* Delete decides: if two last threads race here only one reports. */
	if (bpf_map_delete_elem(&policy_by_tgid, &tgid))
		return 0;
	e = event_reserve(GTHULHU_EVENT_EXIT);
	if (!e)
		return 0;
	event_task(e, task);
	e->cgroup_id = task_cgroup_id(task);
	event_submit(e, false);
	return 0;
}

/* ---- iterators ------------------------------------------------------------------- */

/* Leader of a live user process, the unit proc_table tracks. */
static __always_inline bool is_live_process(struct task_struct *task)
{
	if (BPF_CORE_READ(task, pid) != BPF_CORE_READ(task, tgid))
		return false;
	if (BPF_CORE_READ(task, flags) & PF_KTHREAD)
		return false;
	return !process_dead(task);
}

/*
 * Run after the tracepoints are attached: anything forked since then is already in
 * the table with information at least as fresh, hence NOEXIST. A process whose last
 * thread exits between this visit and the insert below leaves a stale entry; the
 * window is these few instructions, and a reuse of its pid overwrites it at fork.
 */
SEC("iter/task")
int tk_seed(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct gthulhu_proc proc;

	if (!task || !is_live_process(task))
		return 0;
	proc_fill(&proc, task);
	proc_put(BPF_CORE_READ(task, tgid), &proc, BPF_NOEXIST);
	return 0;
}

/*
 * Sleepable, because another task's argv may be paged out and reading it may fault;
 * bpf_copy_from_user_task() can sleep. Records go to the iterator's seq_file, not the
 * ring buffer: the caller reads them synchronously.
 */
SEC("iter.s/task")
int tk_scan_exec(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct gthulhu_policy *policy;
	struct gthulhu_event e = {};
	unsigned long arg_start = 0;
	__u64 cgid;
	__u32 len;

	if (!task || !is_live_process(task))
		return 0;
	cgid = task_cgroup_id(task);
	policy = bpf_map_lookup_elem(&policy_by_cgroup, &cgid);
	if (!policy || !(policy->flags & GTHULHU_POLICY_WATCH_EXEC))
		return 0;

	e.type = GTHULHU_EVENT_EXEC;
	e.timestamp_ns = bpf_ktime_get_boot_ns();
	event_task(&e, task);
	e.cgroup_id = cgid;
	len = argv_span(task, &arg_start);
	if (len > 0 && len <= GTHULHU_ARGS_LEN &&
	    !bpf_copy_from_user_task(e.args, len, (const void *)arg_start, task, 0))
		e.args_len = len;
	bpf_seq_write(ctx->meta->seq, &e, sizeof(e));
	return 0;
}

SEC("iter/cgroup")
int tk_cgroups(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cgrp = ctx->cgroup;
	struct gthulhu_event e = {};
	long n;

	if (!cgrp || !is_cgroup2(cgrp))
		return 0;
	e.type = GTHULHU_EVENT_CGROUP_MKDIR;
	e.timestamp_ns = bpf_ktime_get_boot_ns();
	e.cgroup_id = cgroup_id(cgrp);
	e.parent_cgroup_id = cgroup_parent_id(cgrp);
	e.level = BPF_CORE_READ(cgrp, level);
	n = bpf_probe_read_kernel_str(e.args, sizeof(e.args), BPF_CORE_READ(cgrp, kn, name));
	e.args_len = n > 0 ? n : 0;
	bpf_seq_write(ctx->meta->seq, &e, sizeof(e));
	return 0;
}
