// Who tells the agent the time (agent.clock_source): the kernel when NTP keeps it synchronised,
// our server (its X-Server-Time at the midpoint of a request's round trip), or the wall clock
// as it is. Keeps, for this boot, the offset between the true time and CLOCK_BOOTTIME, so a
// reading taken before any source answered can be dated afterwards, and a reading taken while
// the wall clock is wrong is dated right. Thread-safety: every method may be called from any
// thread (the tick thread stamps, the sync thread offers server times).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "clock_seam.hpp"

namespace sensorsys::agent {

enum class ClockMode { Auto, Kernel, Server, Local };
enum class TimeOrigin { None, Kernel, Server, Local };

// "auto" -> ClockMode::Auto ...; throws std::invalid_argument for anything else.
ClockMode parseClockMode(std::string_view text);
// "none", "kernel", "server", "local".
std::string originName(TimeOrigin origin);

// How a reading taken now is dated.
struct TimeStamp {
    std::chrono::system_clock::time_point time;  // the best known time
    std::chrono::nanoseconds boottime{0};
    bool held = false;       // no source has answered in this boot: date it again later
    bool corrected = false;  // the wall clock was off by more than clock_max_error
};

// For --status and --check-api.
struct TimeStatus {
    TimeOrigin origin = TimeOrigin::None;
    std::optional<std::chrono::system_clock::time_point> since;  // when the origin was taken
    std::chrono::microseconds offset{0};  // source minus wall clock, last measured
};

class TimeSource {
  public:
    TimeSource(ClockSeam& seam, ClockMode mode, std::chrono::microseconds max_error);

    // Dates a reading taken now (asks the kernel first, when the mode allows it).
    TimeStamp stampNow();
    // The true time of the instant `boottime` of this boot; nullopt while no source answered.
    std::optional<std::chrono::system_clock::time_point> timeAt(std::chrono::nanoseconds boottime);
    // An answer of our server: `header` is its X-Server-Time, the request left at `sent` and
    // the answer came at `received` (both CLOCK_BOOTTIME). True when it was taken.
    bool offerServerTime(std::string_view header, std::chrono::nanoseconds sent,
                         std::chrono::nanoseconds received);
    // True when a source has answered in this boot (always with clock_source=local).
    bool known();
    bool wantsServerTime();  // the server could still become (or refresh) the source
    TimeStatus status();
    std::chrono::microseconds maxError() const { return _maxError; }
    ClockSeam& seam() { return _seam; }

  private:
    void checkKernelLocked();
    void takeLocked(TimeOrigin origin, std::chrono::nanoseconds base);

    ClockSeam& _seam;
    const ClockMode _mode;
    const std::chrono::microseconds _maxError;
    std::mutex _mutex;
    TimeOrigin _origin = TimeOrigin::None;
    std::optional<std::chrono::system_clock::time_point> _since;
    // True time minus CLOCK_BOOTTIME, since the Unix epoch.
    std::chrono::nanoseconds _base{0};
    std::chrono::microseconds _offset{0};
};

// Parses "2026-12-04T23:34:25.123456Z" (RFC 3339 UTC, X-Server-Time); nullopt if it is not.
std::optional<std::chrono::system_clock::time_point> parseUtc(std::string_view text);

}  // namespace sensorsys::agent
