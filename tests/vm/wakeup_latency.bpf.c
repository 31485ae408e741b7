// SPDX-License-Identifier: GPL-2.0
/*
 * Test probe for tests/vm/vm_sched_isolation.cpp: wakeup-to-run latency of the tasks
 * of one cgroup, the time from sched_wakeup to the sched_switch that puts the task on
 * a CPU. It works the same under EEVDF and under a sched_ext scheduler, so both are
 * measured with one ruler, and it leaves out the timer-delivery delay of the wakeup
 * itself (which under QEMU TCG is the emulator's, not the scheduler's).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char _license[] SEC("license") = "GPL";

#define MAX_SAMPLES (1 << 17)

__u64 target_cgroup; /* cgroup v2 id whose tasks are measured; 0 = off */
__u32 nr_samples;    /* samples taken; beyond MAX_SAMPLES they are counted, not kept */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, u32);
	__type(value, u64);
} wakeup_at SEC(".maps");

/* Latencies in ns (saturating at 4.29 s). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_SAMPLES);
	__type(key, u32);
	__type(value, u32);
} samples SEC(".maps");

static __always_inline bool measured(struct task_struct *p)
{
	return target_cgroup && BPF_CORE_READ(p, cgroups, dfl_cgrp, kn, id) == target_cgroup;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(wl_wakeup, struct task_struct *p)
{
	u32 tid = p->pid;
	u64 now = bpf_ktime_get_ns();

	if (measured(p))
		bpf_map_update_elem(&wakeup_at, &tid, &now, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(wl_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	u32 tid = next->pid, idx;
	u64 *at, delta;
	u32 *slot;

	at = bpf_map_lookup_elem(&wakeup_at, &tid);
	if (!at)
		return 0;
	delta = bpf_ktime_get_ns() - *at;
	bpf_map_delete_elem(&wakeup_at, &tid);

	idx = __sync_fetch_and_add(&nr_samples, 1);
	slot = bpf_map_lookup_elem(&samples, &idx);
	if (slot)
		*slot = delta > 0xffffffffULL ? 0xffffffffU : (u32)delta;
	return 0;
}
