// sensorsys-agent --check-api: can this agent sync? One line per check — reachability, TLS,
// token (GET /auth/check), and the clock skew against the server. Runs once; no shared state.
#pragma once

#include <chrono>
#include <ostream>

#include "agent_config.hpp"

namespace sensorsys::agent {

// Returns 0 when every check passed, 1 otherwise.
int checkApi(const AgentSettings& settings, std::ostream& out);

// Seconds the server's clock is ahead of ours (negative: behind). Parses RFC 3339.
// Throws std::invalid_argument on an unreadable time.
double clockSkewSeconds(const std::string& server_time, std::chrono::system_clock::time_point now);

}  // namespace sensorsys::agent
