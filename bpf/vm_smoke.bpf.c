// SPDX-License-Identifier: GPL-2.0
/*
 * The smallest real sched_ext scheduler, used only by the VM smoke test
 * (tests/vm/vm_smoke.c) to prove the toolchain end to end: clang-19 + vmlinux.h +
 * bpftool skeleton + static libbpf 1.5 + the sched_ext kernel. It is NOT the product
 * scheduler (that is gthulhu.bpf.c).
 *
 * Policy: a task waking up with an idle CPU goes straight to that CPU's local queue;
 * every other task goes to one global FIFO that CPUs pull from when they run dry.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

/* User-created DSQ ids are any value without the built-in flag bit; 0 is fine. */
#define SHARED_DSQ 0

/* Counters the loader checks to see the scheduler really scheduled something. */
__u64 nr_direct;     /* inserted into an idle CPU's local DSQ from select_cpu */
__u64 nr_enqueued;   /* inserted into SHARED_DSQ from enqueue */
__u64 nr_dispatched; /* moved from SHARED_DSQ to a local DSQ in dispatch */

/*
 * Exit info, filled by ops.exit: why the kernel (or user space) unloaded us.
 * Plain globals rather than a struct so the skeleton needs no shared header.
 * exit_kind is written last: user space polls it and then reads the rest.
 */
__s32 exit_kind;
__s64 exit_code;
char exit_reason[128];
char exit_msg[1024];

SEC("struct_ops/smoke_select_cpu")
s32 BPF_PROG(smoke_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	bool is_idle = false;
	s32 cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);

	/* Inserting here skips ops.enqueue: the task runs on the idle CPU next. */
	if (is_idle) {
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0);
		__sync_fetch_and_add(&nr_direct, 1);
	}
	return cpu;
}

SEC("struct_ops/smoke_enqueue")
void BPF_PROG(smoke_enqueue, struct task_struct *p, u64 enq_flags)
{
	scx_bpf_dsq_insert(p, SHARED_DSQ, SCX_SLICE_DFL, enq_flags);
	__sync_fetch_and_add(&nr_enqueued, 1);
}

SEC("struct_ops/smoke_dispatch")
void BPF_PROG(smoke_dispatch, s32 cpu, struct task_struct *prev)
{
	if (scx_bpf_dsq_move_to_local(SHARED_DSQ))
		__sync_fetch_and_add(&nr_dispatched, 1);
}

/* Sleepable: creating a DSQ allocates. */
SEC("struct_ops.s/smoke_init")
s32 BPF_PROG(smoke_init)
{
	return scx_bpf_create_dsq(SHARED_DSQ, -1);
}

SEC("struct_ops/smoke_exit")
void BPF_PROG(smoke_exit, struct scx_exit_info *ei)
{
	exit_code = ei->exit_code;
	bpf_probe_read_kernel_str(exit_reason, sizeof(exit_reason), ei->reason);
	bpf_probe_read_kernel_str(exit_msg, sizeof(exit_msg), ei->msg);
	/*
	 * clang 19 cannot emit a BPF store-release; a compiler barrier keeps the stores in
	 * order, and x86 does not reorder stores with stores.
	 */
	asm volatile("" ::: "memory");
	exit_kind = ei->kind;
}

SEC(".struct_ops.link")
struct sched_ext_ops smoke_ops = {
	.select_cpu = (void *)smoke_select_cpu,
	.enqueue = (void *)smoke_enqueue,
	.dispatch = (void *)smoke_dispatch,
	.init = (void *)smoke_init,
	.exit = (void *)smoke_exit,
	.name = "gthulhu_smoke",
};
