// A Clock the test drives: the SGP30 thread sleeps on it, and runUntil() lets every deadline up
// to a time pass in order, waiting each time until the thread is asleep again, so hours of
// sensor time pass in moments and the test knows exactly which ticks ran.
// Thread-safety: safe between the monitor's thread and the test's thread.
#pragma once

#include "clock.hpp"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>

namespace sensorsys::test {

class FakeClock final : public sgp30::Clock {
  public:
    explicit FakeClock(Wall::time_point wallStart);

    Steady::time_point now() override;
    Wall::time_point wallNow() override;
    bool sleepUntil(Steady::time_point deadline, std::stop_token stop) override;
    void pause(std::chrono::milliseconds) override {}

    // Lets the thread run every tick due until `duration` from now, then returns with the
    // thread asleep on a later deadline. Throws std::runtime_error when the thread does not
    // come back to sleep (a hang would otherwise stall the test run).
    void runFor(Steady::duration duration);
    // Whether a thread is blocked in sleepUntil.
    bool sleeping();

  private:
    template <class Predicate>
    void await(std::unique_lock<std::mutex>& lock, Predicate ready);

    std::mutex _mutex;
    std::condition_variable_any _changed;
    Steady::time_point _now;
    Wall::time_point _wallStart;
    Steady::time_point _steadyStart;
    std::optional<Steady::time_point> _sleeper;
    std::uint64_t _sleeps = 0;
};

}  // namespace sensorsys::test
