#pragma once
// A node without BPF, for scale tests and benchmarks of the control loop (the way
// kwok simulates nodes): the real agent with its REST API, intent store and policy
// engine, but policy maps in memory and the process table read from a JSON file:
//   {"processes": [{"pid": 100, "ppid": 1, "comm": "nginx",
//                   "cgroup": "kubepods.slice/.../cri-containerd-<id>.scope"}]}
// where "cgroup" is relative to agent.cgroup_root (a plain directory tree in this
// mode: the cgroup id is the directory's inode, as on cgroupfs). The file is re-read
// when its modification time changes; new processes produce exec events and missing
// ones exit events, so commandRegex intents behave as on a real node. The scheduler
// reports itself "simulated", with simulated per-policy counters (sim/simulated_scheduler.h)
// for the pod statistics. Never used on a real node: /health says so.
#include <filesystem>
#include <memory>

#include "agent/agent_config.h"
#include "agent/node_backend.h"

namespace gthulhu::agent {

std::unique_ptr<NodeBackend> make_simulated_backend(const AgentSettings& settings);

}  // namespace gthulhu::agent
