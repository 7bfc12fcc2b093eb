// GET /readings/series parameters: devices, metric paths, range, step and time zone, and the
// choice of the bucket step ("auto": the finest with at most `points` buckets). Pure functions;
// thread-safe.
#pragma once

#include "timestamp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sensorsys::server {

constexpr std::size_t kSeriesMaxDevices = 20;
constexpr std::size_t kSeriesMaxMetrics = 10;
constexpr int kSeriesDefaultPoints = 1000;

enum class SeriesStepKind {
    Elapsed,    // 1m .. 1h: fixed lengths of elapsed time, aligned to UTC
    WallClock,  // 6h, 1d: the wall clock of the series' time zone
};

struct SeriesStep {
    std::string_view name;  // "1m", "5m", "15m", "1h", "6h", "1d"
    std::int64_t seconds = 0;
    SeriesStepKind kind = SeriesStepKind::Elapsed;
};

// The steps offered, finest first.
const std::vector<SeriesStep>& seriesSteps();
// The step named name; nothing for an unknown name (including "auto").
std::optional<SeriesStep> findSeriesStep(std::string_view name);
// The finest step giving at most points buckets over rangeMicros; the coarsest when none does.
SeriesStep autoSeriesStep(std::int64_t rangeMicros, int points);
// Buckets step gives over rangeMicros (rounded up; an upper bound for wall-clock steps).
std::int64_t seriesBuckets(const SeriesStep& step, std::int64_t rangeMicros);

struct SeriesQuery {
    std::vector<std::string> deviceIds;
    std::vector<std::string> metrics;
    Timestamp start;  // inclusive
    Timestamp end;    // exclusive
    SeriesStep step;
    std::string tz = "UTC";
};

// What is wrong with text as an IANA time zone name ("Europe/Berlin", "UTC"), if anything;
// whether PostgreSQL knows the zone is checked when the query runs.
std::optional<std::string> timeZoneNameProblem(std::string_view text);

}  // namespace sensorsys::server
