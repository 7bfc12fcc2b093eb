// One SGP30 driven by its own thread: iaq_init, then measure_iaq every second (the chip's
// dynamic baseline compensation needs that cadence), the baseline restored at start and saved
// hourly and at the end. read() is a snapshot of the thread's latest result and never waits.
// Thread-safety: read() may be called from any one thread while the monitor's thread runs;
// construction and destruction by the owner (the destructor stops and joins the thread).
#pragma once

#include <sensorsys/i2c_bus.hpp>
#include <sensorsys/linux_i2c_bus.hpp>
#include "clock.hpp"
#include "sgp30_driver.hpp"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace sensorsys::sgp30 {

// The chip reports fixed 400 ppm / 0 ppb this long after iaq_init.
inline constexpr auto kWarmUp = std::chrono::seconds(15);
inline constexpr auto kCadence = std::chrono::seconds(1);
// A baseline learnt from scratch is trusted after 12 h of operation (datasheet), then saved
// every hour.
inline constexpr auto kTrustAfter = std::chrono::hours(12);
inline constexpr auto kSaveEvery = std::chrono::hours(1);
// After a failed save, the next attempt.
inline constexpr auto kSaveRetry = std::chrono::minutes(1);

class Sgp30Monitor {
  public:
    // Restores the baseline from `baselineFile` (empty: no persistence) if it is young enough,
    // then starts the thread. No bus access happens before the thread runs.
    Sgp30Monitor(std::unique_ptr<i2c::I2cBus> bus, std::shared_ptr<Clock> clock,
                 std::string baselineFile);
    // Stops and joins the thread, then saves a trusted baseline one last time.
    ~Sgp30Monitor();
    Sgp30Monitor(const Sgp30Monitor&) = delete;
    Sgp30Monitor& operator=(const Sgp30Monitor&) = delete;

    // {"eco2_ppm": N, "tvoc_ppb": N}, {"warming_up": true}, or plugin::ReadError with what
    // the thread's last attempt reported.
    std::string read() const;

  private:
    void run(std::stop_token stop);
    void initialise();
    void measure();
    void refreshBaseline(Clock::Steady::time_point now);
    void publish(std::string payload);
    void fail(const std::string& message);
    void saveFinalBaseline();

    std::unique_ptr<i2c::I2cBus> _bus;
    std::shared_ptr<Clock> _clock;
    Sgp30Driver _driver;
    const std::string _baselineFile;

    // Used by the thread only (and by the destructor after the join).
    std::optional<Baseline> _baseline;  // restored, or the chip's latest
    bool _initialised = false;
    Clock::Steady::time_point _warmUpEnd;
    Clock::Steady::time_point _trustedFrom;
    Clock::Steady::time_point _nextSave;

    mutable std::mutex _mutex;
    std::string _payload = "{\"warming_up\": true}";
    std::string _error;      // the last measurement's failure, empty after a success
    std::string _saveError;  // the last baseline save's failure, empty after a success

    std::jthread _thread;  // last: starts after every member above exists, stops first
};

}  // namespace sensorsys::sgp30
