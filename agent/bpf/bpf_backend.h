#pragma once
// The production NodeBackend: the tracker (always) and the gthulhu scheduler (when the
// kernel has sched_ext and it is enabled in the configuration).
#include <memory>
#include <string>

#include "agent/agent_config.h"
#include "agent/node_backend.h"
#include "agent/startup_phases.h"

namespace gthulhu::agent {

// Throws std::runtime_error when the tracker cannot run (it is what the agent is for);
// a scheduler that cannot run is reported through scheduler().status() instead.
// `phases`, when given, gets tracker_loaded and scheduler_attached marked.
std::unique_ptr<NodeBackend> make_bpf_backend(const AgentSettings& settings, StartupPhases* phases = nullptr);

}  // namespace gthulhu::agent
