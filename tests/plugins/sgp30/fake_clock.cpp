#include "fake_clock.hpp"

#include <stdexcept>

namespace sensorsys::test {

// Generous: only a thread that never comes back runs into it.
constexpr auto kHandOffLimit = std::chrono::seconds(30);

FakeClock::FakeClock(Wall::time_point wallStart)
    : _now(Steady::time_point{} + std::chrono::hours(1000)),
      _wallStart(wallStart),
      _steadyStart(_now) {}

sgp30::Clock::Steady::time_point FakeClock::now() {
    std::lock_guard lock(_mutex);
    return _now;
}

sgp30::Clock::Wall::time_point FakeClock::wallNow() {
    std::lock_guard lock(_mutex);
    return _wallStart + std::chrono::duration_cast<Wall::duration>(_now - _steadyStart);
}

bool FakeClock::sleepUntil(Steady::time_point deadline, std::stop_token stop) {
    std::unique_lock lock(_mutex);
    _sleeper = deadline;
    ++_sleeps;
    _changed.notify_all();
    _changed.wait(lock, stop, [&] { return _now >= deadline; });
    _sleeper.reset();
    _changed.notify_all();
    return !stop.stop_requested();
}

template <class Predicate>
void FakeClock::await(std::unique_lock<std::mutex>& lock, Predicate ready) {
    if (!_changed.wait_for(lock, kHandOffLimit, ready)) {
        throw std::runtime_error("the SGP30 thread did not go back to sleep");
    }
}

void FakeClock::runFor(Steady::duration duration) {
    std::unique_lock lock(_mutex);
    const Steady::time_point until = _now + duration;
    for (;;) {
        await(lock, [&] { return _sleeper.has_value(); });
        if (*_sleeper > until) {
            _now = until;
            return;
        }
        const std::uint64_t before = _sleeps;
        _now = *_sleeper;
        _changed.notify_all();
        await(lock, [&] { return _sleeps != before; });
    }
}

bool FakeClock::sleeping() {
    std::lock_guard lock(_mutex);
    return _sleeper.has_value();
}

}  // namespace sensorsys::test
