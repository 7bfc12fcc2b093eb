// A reading as docs/contract.md §3 defines it: one tick's sensor results with the device's
// identity, a time-ordered reading_id and both timestamps. Plain value type.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "parallel_reader.hpp"

namespace sensorsys::agent {

struct Reading {
    std::string deviceId;
    std::string readingId;  // UUIDv7
    std::string tsUtc;      // RFC 3339, microseconds, "Z"
    std::string tsLocal;    // RFC 3339, microseconds, the device's UTC offset at that instant
    std::vector<SensorResult> payload;
    std::string tsQuality = {};  // "corrected" | "unsynced"; empty: the clock was confirmed

    // {"device_id":...,"reading_id":...,"ts_utc":...,"ts_local":...[,"ts_quality":...],
    //  "payload":{...}}
    std::string toJson() const;
};

// "2026-11-27T05:00:00.000000Z"
std::string formatUtc(std::chrono::system_clock::time_point time);
// "2026-11-27T06:00:00.000000+01:00", using the process' time zone (TZ, /etc/localtime).
std::string formatLocal(std::chrono::system_clock::time_point time);

}  // namespace sensorsys::agent
