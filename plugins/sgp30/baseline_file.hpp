// The SGP30 baseline on disk, {"eco2": N, "tvoc": N, "saved": "<RFC 3339 UTC>"}, so a restarted
// agent restores the chip's calibration instead of relearning it for 12 hours.
// Thread-safety: free functions without shared state; one writer per file (the instance).
#pragma once

#include "clock.hpp"
#include "sgp30_driver.hpp"

#include <optional>
#include <string>

namespace sensorsys::sgp30 {

// Older baselines describe another season's air: the datasheet lets a stored one be reused for
// about a week.
inline constexpr auto kBaselineMaxAge = std::chrono::hours(24 * 7);

// The stored baseline when the file exists, parses, and was saved less than kBaselineMaxAge
// before `now`; nothing otherwise. A missing or corrupt file is the normal first start, so it
// is not an error.
std::optional<Baseline> loadBaseline(const std::string& path, Clock::Wall::time_point now);

// Replaces the file atomically (a temporary file in the same folder, fsync, rename), so a power
// cut leaves the old or the new baseline, never half of one. Throws plugin::ReadError naming
// the path and the errno.
void saveBaseline(const std::string& path, const Baseline& baseline, Clock::Wall::time_point now);

// "2026-12-04T20:41:07Z".
std::string rfc3339(Clock::Wall::time_point time);

}  // namespace sensorsys::sgp30
