// Tick arithmetic for readings aligned to interval boundaries: an instance with interval I is
// due at every multiple of I since the Unix epoch, so ticks don't drift and restarts line up.
// Pure functions; safe from any thread.
#pragma once

#include <chrono>
#include <vector>

namespace sensorsys::agent {

// The first instant strictly after `now` at which at least one of `intervals` is due.
// A missed tick is never returned: after a suspend the next tick is simply the next one.
std::chrono::system_clock::time_point nextTick(
    std::chrono::system_clock::time_point now,
    const std::vector<std::chrono::milliseconds>& intervals);

}  // namespace sensorsys::agent
