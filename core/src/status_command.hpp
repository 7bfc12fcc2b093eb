// sensorsys-agent --status: what the store holds (backlog, oldest unsynced, quarantined,
// deleted by retention) and what the running agent last reported (sync result, sensors),
// for people (text) or scripts (--json). Runs once; no shared state.
#pragma once

#include <ostream>

#include "agent_config.hpp"

namespace sensorsys::agent {

// Prints the status; returns the process exit code (0, or 1 when the store cannot be read).
int printStatus(const AgentSettings& settings, bool json, std::ostream& out, std::ostream& err);

}  // namespace sensorsys::agent
