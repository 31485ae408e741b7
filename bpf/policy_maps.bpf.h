/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The policy maps, defined once and included by both BPF objects. They are pinned by
 * name under the loader's pin root (GTHULHU_PIN_ROOT in production), so whichever
 * object loads second reuses the first one's maps: the tracker writes inherited
 * entries and reads WATCH_EXEC flags, the scheduler reads policies, the agent writes.
 * Sizes are defaults; loaders may resize them before load.
 */
#ifndef GTHULHU_POLICY_MAPS_BPF_H
#define GTHULHU_POLICY_MAPS_BPF_H

#include "gthulhu_shared.h"

/* cgroup v2 id -> policy (pod and container cgroups, and their descendants). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct gthulhu_policy);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} policy_by_cgroup SEC(".maps");

/* tgid -> per-process override (commandRegex matches); covers every thread. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct gthulhu_policy);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} policy_by_tgid SEC(".maps");

#endif /* GTHULHU_POLICY_MAPS_BPF_H */
