#include "tick_schedule.hpp"

#include <algorithm>
#include <stdexcept>

namespace sensorsys::agent {

std::chrono::system_clock::time_point nextTick(
    std::chrono::system_clock::time_point now,
    const std::vector<std::chrono::milliseconds>& intervals) {
    if (intervals.empty()) throw std::invalid_argument("nextTick: no intervals");
    using std::chrono::milliseconds;
    const auto since_epoch = std::chrono::duration_cast<milliseconds>(now.time_since_epoch());
    milliseconds best = milliseconds::max();
    for (const auto interval : intervals) {
        if (interval.count() <= 0) throw std::invalid_argument("nextTick: interval must be > 0");
        const auto next = (since_epoch / interval + 1) * interval;
        best = std::min(best, next);
    }
    return std::chrono::system_clock::time_point(best);
}

}  // namespace sensorsys::agent
