#include "clock.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace sensorsys::sgp30 {

bool SystemClock::sleepUntil(Steady::time_point deadline, std::stop_token stop) {
    // condition_variable_any wakes on a stop request, so destroy never waits out a second.
    std::mutex mutex;
    std::condition_variable_any wake;
    std::unique_lock lock(mutex);
    wake.wait_until(lock, stop, deadline, [] { return false; });
    return !stop.stop_requested();
}

void SystemClock::pause(std::chrono::milliseconds duration) {
    std::this_thread::sleep_for(duration);
}

}  // namespace sensorsys::sgp30
