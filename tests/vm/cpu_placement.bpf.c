// SPDX-License-Identifier: GPL-2.0
/*
 * Test probe for tests/vm/vm_sched_cgroup.cpp: on which CPU every run of the tasks of
 * a few cgroups starts. Each sched_switch that puts a task of a watched cgroup on a
 * CPU counts one run in runs[slot][cpu], so a run outside the task's cpuset cannot
 * escape the count (every run is checked, none sampled). It works alike under EEVDF
 * and any sched_ext scheduler.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char _license[] SEC("license") = "GPL";

#define PLACEMENT_SLOTS 8
#define PLACEMENT_CPUS 64

/* cgroup v2 ids of the watched cgroups; 0 = unused slot. Set by user space. */
__u64 slot_cgroup[PLACEMENT_SLOTS];
/* Runs on CPUs >= PLACEMENT_CPUS (counted, so none goes unseen). */
__u64 runs_beyond;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PLACEMENT_SLOTS * PLACEMENT_CPUS);
	__type(key, u32);
	__type(value, u64);
} runs SEC(".maps");

SEC("tp_btf/sched_switch")
int BPF_PROG(placement_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	u64 cg = BPF_CORE_READ(next, cgroups, dfl_cgrp, kn, id);
	u32 cpu = bpf_get_smp_processor_id(), i, key;
	u64 *v;

	for (i = 0; i < PLACEMENT_SLOTS; i++) {
		if (!slot_cgroup[i] || slot_cgroup[i] != cg)
			continue;
		if (cpu >= PLACEMENT_CPUS) {
			__sync_fetch_and_add(&runs_beyond, 1);
			return 0;
		}
		key = i * PLACEMENT_CPUS + cpu;
		v = bpf_map_lookup_elem(&runs, &key);
		if (v)
			__sync_fetch_and_add(v, 1);
		return 0;
	}
	return 0;
}
