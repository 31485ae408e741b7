/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version compatibility for the gthulhu scheduler: one binary that loads on
 * every sched_ext kernel from 6.12 on.
 *
 * The sched_ext kfunc API changed in almost every release (6.13 renamed the
 * "dispatch" kfuncs, 6.19 made scx_bpf_dsq_insert return bool and packed vtime
 * insertion into an args struct, 7.1 gave scx_bpf_dsq_move_to_local enq_flags...).
 * Every variant is declared __weak __ksym here and the call sites pick, at load time,
 * the newest one the running kernel has, with bpf_ksym_exists(): libbpf resolves a
 * missing weak kfunc to 0, the verifier sees a constant false branch and drops it.
 *
 * libbpf strips the last "___suffix" of a kfunc name before looking it up in the
 * kernel's BTF. Kernel kfuncs that themselves end in "___v2" therefore need a second
 * suffix here ("___v2___gthulhu") or libbpf would bind them to the old function.
 * vmlinux.h (bpftool 7.5) declares each kernel kfunc once with its plain name; the
 * wrappers below never call a plain name that a kernel in range lacks without a guard.
 */
#ifndef GTHULHU_COMPAT_BPF_H
#define GTHULHU_COMPAT_BPF_H

/* 6.12 names, renamed in 6.13 (scx_bpf_dispatch -> scx_bpf_dsq_insert, ...). */
void scx_bpf_dispatch___gthulhu(struct task_struct *p, u64 dsq_id, u64 slice,
				u64 enq_flags) __ksym __weak;
void scx_bpf_dispatch_vtime___gthulhu(struct task_struct *p, u64 dsq_id, u64 slice,
				      u64 vtime, u64 enq_flags) __ksym __weak;
bool scx_bpf_consume___gthulhu(u64 dsq_id) __ksym __weak;
bool scx_bpf_dispatch_from_dsq___gthulhu(struct bpf_iter_scx_dsq *it__iter,
					 struct task_struct *p, u64 dsq_id,
					 u64 enq_flags) __ksym __weak;
bool scx_bpf_dispatch_vtime_from_dsq___gthulhu(struct bpf_iter_scx_dsq *it__iter,
					       struct task_struct *p, u64 dsq_id,
					       u64 enq_flags) __ksym __weak;
void scx_bpf_dispatch_from_dsq_set_vtime___gthulhu(struct bpf_iter_scx_dsq *it__iter,
						   u64 vtime) __ksym __weak;

/* 6.19: insertion reports failure; vtime insertion takes an args struct. */
bool scx_bpf_dsq_insert___v2___gthulhu(struct task_struct *p, u64 dsq_id, u64 slice,
				       u64 enq_flags) __ksym __weak;

/* 7.1: move_to_local takes enq_flags. */
bool scx_bpf_dsq_move_to_local___v2___gthulhu(u64 dsq_id, u64 enq_flags) __ksym __weak;

/*
 * Insert @p into a FIFO DSQ (or a local DSQ). The bool results of the newer kfuncs
 * are dropped: a failed insert already raises a scheduler error in the kernel.
 */
static __always_inline void gthulhu_dsq_insert(struct task_struct *p, u64 dsq_id,
					       u64 slice, u64 enq_flags)
{
	if (bpf_ksym_exists(scx_bpf_dsq_insert___v2___gthulhu))
		scx_bpf_dsq_insert___v2___gthulhu(p, dsq_id, slice, enq_flags);
	else if (bpf_ksym_exists(scx_bpf_dsq_insert))
		scx_bpf_dsq_insert(p, dsq_id, slice, enq_flags);
	else
		scx_bpf_dispatch___gthulhu(p, dsq_id, slice, enq_flags);
}

/* Insert @p into a vtime-ordered user DSQ. */
static __always_inline void gthulhu_dsq_insert_vtime(struct task_struct *p, u64 dsq_id,
						     u64 slice, u64 vtime, u64 enq_flags)
{
	if (bpf_ksym_exists(__scx_bpf_dsq_insert_vtime) &&
	    bpf_core_type_exists(struct scx_bpf_dsq_insert_vtime_args)) {
		struct scx_bpf_dsq_insert_vtime_args args = {
			.dsq_id = dsq_id,
			.slice = slice,
			.vtime = vtime,
			.enq_flags = enq_flags,
		};

		__scx_bpf_dsq_insert_vtime(p, &args);
	} else if (bpf_ksym_exists(scx_bpf_dsq_insert_vtime)) {
		scx_bpf_dsq_insert_vtime(p, dsq_id, slice, vtime, enq_flags);
	} else {
		scx_bpf_dispatch_vtime___gthulhu(p, dsq_id, slice, vtime, enq_flags);
	}
}

/* From ops.dispatch: move the first task of @dsq_id to this CPU's local DSQ. */
static __always_inline bool gthulhu_dsq_move_to_local(u64 dsq_id)
{
	if (bpf_ksym_exists(scx_bpf_dsq_move_to_local___v2___gthulhu))
		return scx_bpf_dsq_move_to_local___v2___gthulhu(dsq_id, 0);
	if (bpf_ksym_exists(scx_bpf_dsq_move_to_local))
		return scx_bpf_dsq_move_to_local(dsq_id);
	return scx_bpf_consume___gthulhu(dsq_id);
}

/* From ops.dispatch: move the task an scx_dsq iterator points at to @dsq_id. */
static __always_inline bool gthulhu_dsq_move(struct bpf_iter_scx_dsq *it, struct task_struct *p,
					     u64 dsq_id, u64 enq_flags)
{
	if (bpf_ksym_exists(scx_bpf_dsq_move))
		return scx_bpf_dsq_move(it, p, dsq_id, enq_flags);
	if (bpf_ksym_exists(scx_bpf_dispatch_from_dsq___gthulhu))
		return scx_bpf_dispatch_from_dsq___gthulhu(it, p, dsq_id, enq_flags);
	return false;
}

/*
 * From ops.dispatch: move the task an scx_dsq iterator points at into the vtime-ordered
 * user DSQ @dsq_id at @vtime.
 */
static __always_inline bool gthulhu_dsq_move_vtime(struct bpf_iter_scx_dsq *it,
						   struct task_struct *p, u64 dsq_id,
						   u64 vtime)
{
	if (bpf_ksym_exists(scx_bpf_dsq_move_vtime) &&
	    bpf_ksym_exists(scx_bpf_dsq_move_set_vtime)) {
		scx_bpf_dsq_move_set_vtime(it, vtime);
		return scx_bpf_dsq_move_vtime(it, p, dsq_id, 0);
	}
	if (bpf_ksym_exists(scx_bpf_dispatch_vtime_from_dsq___gthulhu) &&
	    bpf_ksym_exists(scx_bpf_dispatch_from_dsq_set_vtime___gthulhu)) {
		scx_bpf_dispatch_from_dsq_set_vtime___gthulhu(it, vtime);
		return scx_bpf_dispatch_vtime_from_dsq___gthulhu(it, p, dsq_id, 0);
	}
	return false;
}

/*
 * Set the remaining slice of @p. 6.19+ has a kfunc (and later kernels warn about
 * direct writes to p->scx.slice); older kernels only allow the direct write.
 */
static __always_inline void gthulhu_task_set_slice(struct task_struct *p, u64 slice)
{
	if (bpf_ksym_exists(scx_bpf_task_set_slice))
		scx_bpf_task_set_slice(p, slice);
	else
		p->scx.slice = slice;
}

/*
 * Pick a CPU for a waking task and tell whether it is idle (claimed for the caller).
 * scx_bpf_select_cpu_dfl exists on every kernel in range; scx_bpf_select_cpu_and
 * (6.16+) is the fallback should a later kernel drop it.
 */
static __always_inline s32 gthulhu_pick_cpu(struct task_struct *p, s32 prev_cpu,
					    u64 wake_flags, bool *is_idle)
{
	if (bpf_ksym_exists(scx_bpf_select_cpu_dfl))
		return scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, is_idle);
	if (bpf_ksym_exists(scx_bpf_select_cpu_and)) {
		s32 cpu = scx_bpf_select_cpu_and(p, prev_cpu, wake_flags, p->cpus_ptr, 0);

		*is_idle = cpu >= 0;
		return cpu >= 0 ? cpu : prev_cpu;
	}
	*is_idle = false;
	return prev_cpu;
}

/* rq clock when available (6.14+): cheaper and consistent within a scheduling event. */
static __always_inline u64 gthulhu_now(void)
{
	if (bpf_ksym_exists(scx_bpf_now))
		return scx_bpf_now();
	return bpf_ktime_get_ns();
}

#endif /* GTHULHU_COMPAT_BPF_H */
