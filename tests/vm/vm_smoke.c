// SPDX-License-Identifier: GPL-2.0
/*
 * VM smoke test: loads bpf/vm_smoke.bpf.c through its skeleton, attaches it as the
 * system scheduler, checks the kernel says so, runs a short workload under it,
 * detaches, and prints the exit info the scheduler recorded. Runs inside the sched_ext
 * VM (scripts/vm/run.sh); exit status 0 = pass, 1 = fail, 77 = no sched_ext here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "vm_smoke.skel.h"

#define STATE_PATH "/sys/kernel/sched_ext/state"
#define OPS_PATH "/sys/kernel/sched_ext/root/ops"
#define OPS_NAME "gthulhu_smoke"
#define SCX_EXIT_UNREG 64 /* enum scx_exit_kind: unregistered from user space */

static int failures;

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("vm_smoke: %s ", ok ? "ok  " : "FAIL");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	if (!ok)
		failures++;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* First line of a sysfs file without the newline; "" if unreadable. */
static const char *read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	buf[0] = '\0';
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
	return buf;
}

/* Enabling and disabling happen in kernel workers: give them time (TCG is slow). */
static bool wait_for_state(const char *want, char *buf, size_t len)
{
	for (double end = now_s() + 10; now_s() < end; usleep(20 * 1000))
		if (strcmp(read_line(STATE_PATH, buf, len), want) == 0)
			return true;
	return false;
}

/* More runnable tasks than CPUs, each alternating a CPU burst and a short sleep, so
 * the scheduler sees wakeups (select_cpu), queueing (enqueue) and dispatching. */
static bool run_workload(int tasks, double seconds)
{
	for (int i = 0; i < tasks; i++) {
		pid_t pid = fork();
		if (pid < 0)
			return false;
		if (pid == 0) {
			double end = now_s() + seconds;
			volatile unsigned long spin = 0;
			while (now_s() < end) {
				for (double burst = now_s() + 0.002; now_s() < burst;)
					spin++;
				usleep(500);
			}
			_exit(0);
		}
	}
	bool ok = true;
	for (int i = 0; i < tasks; i++) {
		int status;
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			ok = false;
	}
	return ok;
}

int main(void)
{
	char state[64], ops[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access(STATE_PATH, R_OK) != 0) {
		printf("vm_smoke: SKIP this kernel has no sched_ext (%s: %s)\n", STATE_PATH,
		       strerror(errno));
		return 77;
	}
	check(strcmp(read_line(STATE_PATH, state, sizeof(state)), "disabled") == 0,
	      "state before load is '%s' (want disabled)", state);

	struct vm_smoke_bpf *skel = vm_smoke_bpf__open_and_load();
	if (!skel) {
		check(false, "open and load the skeleton: %s", strerror(errno));
		return 1;
	}
	struct bpf_link *link = bpf_map__attach_struct_ops(skel->maps.smoke_ops);
	if (!link) {
		check(false, "attach struct_ops: %s", strerror(errno));
		vm_smoke_bpf__destroy(skel);
		return 1;
	}

	check(wait_for_state("enabled", state, sizeof(state)), "state after attach is '%s'",
	      state);
	check(strcmp(read_line(OPS_PATH, ops, sizeof(ops)), OPS_NAME) == 0,
	      "root/ops is '%s' (want %s)", ops, OPS_NAME);

	double t0 = now_s();
	bool workload_ok = run_workload(4, 1.5);
	check(workload_ok, "workload of 4 tasks for 1.5 s finished in %.2f s", now_s() - t0);
	check(skel->bss->exit_kind == 0, "scheduler still loaded after the workload (exit kind %d)",
	      skel->bss->exit_kind);
	check(strcmp(read_line(STATE_PATH, state, sizeof(state)), "enabled") == 0,
	      "state after the workload is '%s'", state);
	printf("vm_smoke: counters direct=%llu enqueued=%llu dispatched=%llu\n",
	       (unsigned long long)skel->bss->nr_direct,
	       (unsigned long long)skel->bss->nr_enqueued,
	       (unsigned long long)skel->bss->nr_dispatched);
	check(skel->bss->nr_enqueued > 0 && skel->bss->nr_dispatched > 0,
	      "tasks went through the shared queue");

	bpf_link__destroy(link);
	check(wait_for_state("disabled", state, sizeof(state)), "state after detach is '%s'",
	      state);
	for (double end = now_s() + 5; skel->bss->exit_kind == 0 && now_s() < end;)
		usleep(10 * 1000);
	printf("vm_smoke: exit info kind=%d code=%lld reason='%s' msg='%s'\n",
	       skel->bss->exit_kind, (long long)skel->bss->exit_code, skel->bss->exit_reason,
	       skel->bss->exit_msg);
	check(skel->bss->exit_kind == SCX_EXIT_UNREG, "exit kind is SCX_EXIT_UNREG (%d)",
	      SCX_EXIT_UNREG);

	vm_smoke_bpf__destroy(skel);
	printf("vm_smoke: %s\n", failures ? "FAILED" : "PASSED");
	return failures ? 1 : 0;
}
