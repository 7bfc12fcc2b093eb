// Metric paths: a dotted path of payload keys to a number ("bme280.temperature.c", a named
// instance's "indoor.humidity.rh"). The same bounds as sensor_project.numeric_paths (V006), so
// every accepted path can match what the rollups hold. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sensorsys::server {

constexpr std::size_t kMetricPathMaxLength = 200;
constexpr std::size_t kMetricPathMaxDepth = 8;

// What is wrong with text as a metric path ([a-z0-9_]+(\.[a-z0-9_]+)*, bounded), if anything.
std::optional<std::string> metricPathProblem(std::string_view text);

}  // namespace sensorsys::server
