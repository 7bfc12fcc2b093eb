// The time source of the SGP30 thread (1 s cadence, 15 s warm-up, hourly baseline saves, 12 h
// until the first baseline is trusted): the real clocks in production, a clock the test drives
// in the tests, so hours of sensor time pass without sleeping.
// Thread-safety: implementations are safe to call from the sensor thread and from destroy.
#pragma once

#include <chrono>
#include <stop_token>

namespace sensorsys::sgp30 {

class Clock {
  public:
    using Steady = std::chrono::steady_clock;
    using Wall = std::chrono::system_clock;

    Clock() = default;
    Clock(const Clock&) = delete;
    Clock& operator=(const Clock&) = delete;
    virtual ~Clock() = default;

    // Monotonic time for the cadence and the durations; never jumps with NTP.
    virtual Steady::time_point now() = 0;
    // Calendar time for the baseline file's "saved" stamp and its age.
    virtual Wall::time_point wallNow() = 0;
    // Blocks until `deadline` or until `stop` is requested; false when stopped.
    virtual bool sleepUntil(Steady::time_point deadline, std::stop_token stop) = 0;
    // A chip's command execution time (a few milliseconds between a command and its reply).
    virtual void pause(std::chrono::milliseconds duration) = 0;
};

// The machine's clocks.
class SystemClock final : public Clock {
  public:
    Steady::time_point now() override { return Steady::now(); }
    Wall::time_point wallNow() override { return Wall::now(); }
    bool sleepUntil(Steady::time_point deadline, std::stop_token stop) override;
    void pause(std::chrono::milliseconds duration) override;
};

}  // namespace sensorsys::sgp30
